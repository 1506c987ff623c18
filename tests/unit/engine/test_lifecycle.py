"""The stand-in engine's lifecycle on small programs of local Commands (real /bin/sh, no Docker): what runs,
in which order, and what the state keeps, as pulumi/pulumi's step generator and pulumi-command decide."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_command as command
import pytest

from tests.engine.command_provider import CommandProvider
from tests.engine.docker_provider import ProviderError
from tests.engine.engine import Backend, Engine, EngineError


def no_docker(provider_inputs):
    raise ProviderError("these programs use no Docker")


class Program:
    """A program of local Commands, each appending what it does to `events` in the engine's directory."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.commands: list[dict] = []
        self.engine = Engine(
            "test", Backend(), no_docker, CommandProvider(log=lambda line: None, local_cwd=workdir), program=self.run
        )

    def run(self) -> None:
        made: dict[str, pulumi.Resource] = {}
        for spec in self.commands:
            options = pulumi.ResourceOptions(
                depends_on=[made[name] for name in spec.get("after", [])],
                retain_on_delete=spec.get("retain", False),
                delete_before_replace=spec.get("dbr", False),
                aliases=[pulumi.Alias(name=alias) for alias in spec.get("aliases", [])],
            )
            name = spec["name"]
            # "triggered_by"/"env_from": that Command's ID as a trigger / in the environment (a property dependency).
            triggers = [made[spec["triggered_by"]].id] if "triggered_by" in spec else spec.get("triggers")
            made[name] = command.local.Command(
                name,
                create=spec.get("create", f"echo create-{name} >> events"),
                delete=spec.get("delete", f"echo delete-{name} >> events"),
                triggers=triggers,
                environment={"DEP": made[spec["env_from"]].id} if "env_from" in spec else None,
                opts=options,
            )

    def up(self, *commands: dict):
        self.commands = list(commands)
        return self.engine.up()

    def preview(self, *commands: dict):
        self.commands = list(commands)
        return self.engine.preview()

    def events(self) -> list[str]:
        path = self.workdir / "events"
        return path.read_text().split() if path.exists() else []


@pytest.fixture
def program(tmp_path) -> Program:
    return Program(tmp_path)


def kinds(result) -> dict[str, str]:
    return {step.urn.rsplit("::", 1)[-1]: step.kind for step in result.steps}


def test_a_second_up_with_the_same_program_runs_nothing(program):
    program.up({"name": "a"})
    result = program.up({"name": "a"})
    assert (kinds(result), program.events()) == ({"a": "same"}, ["create-a"])


def test_a_preview_runs_nothing(program):
    result = program.preview({"name": "a"})
    assert (kinds(result), program.events()) == ({"a": "create"}, [])


def test_a_changed_script_runs_again_as_an_update(program):
    program.up({"name": "a"})
    result = program.up({"name": "a", "create": "echo again-a >> events"})
    assert (kinds(result), program.events()) == ({"a": "update"}, ["create-a", "again-a"])


def test_a_trigger_change_creates_the_new_one_before_the_old_one_is_deleted(program):
    program.up({"name": "a", "triggers": ["1"]}, {"name": "b", "after": ["a"]})
    program.up({"name": "a", "triggers": ["2"]}, {"name": "b", "after": ["a"], "create": "echo b-again >> events"})
    # The old copy goes in the delete phase, after every create and update of the run.
    assert program.events()[2:] == ["create-a", "b-again", "delete-a"]


def test_delete_before_replace_deletes_first(program):
    program.up({"name": "a", "triggers": ["1"], "dbr": True})
    program.up({"name": "a", "triggers": ["2"], "dbr": True})
    assert program.events() == ["create-a", "delete-a", "create-a"]


def test_a_dependent_replaced_by_a_delete_before_replace_is_deleted_before_it(program):
    """step_generator.go calculateDependentReplacements: b's trigger comes from a, so replacing a (deleting it
    first) replaces b too, and b's delete comes before a's."""
    program.up({"name": "a", "triggers": ["1"], "dbr": True}, {"name": "b", "triggered_by": "a"})
    result = program.up({"name": "a", "triggers": ["2"], "dbr": True}, {"name": "b", "triggered_by": "a"})
    assert program.events()[2:] == ["delete-b", "delete-a", "create-a", "create-b"]
    assert kinds(result)["b"] == "replace"


def test_a_dependent_that_a_new_value_only_updates_is_not_deleted_ahead(program):
    program.up({"name": "a", "triggers": ["1"], "dbr": True}, {"name": "b", "env_from": "a"})
    program.up({"name": "a", "triggers": ["2"], "dbr": True}, {"name": "b", "env_from": "a"})
    assert program.events()[2:] == ["delete-a", "create-a", "create-b"]


def test_removed_resources_go_after_the_program_dependents_first(program):
    program.up({"name": "a"}, {"name": "b", "after": ["a"]})
    program.up({"name": "c"})
    assert program.events()[2:] == ["create-c", "delete-b", "delete-a"]


def test_retain_on_delete_drops_the_resource_without_its_delete(program):
    program.up({"name": "a", "retain": True})
    program.up()
    assert program.events() == ["create-a"]
    assert program.engine.checkpoint.resources == []


def test_an_alias_carries_the_old_state_to_the_new_name(program):
    program.up({"name": "a"})
    same_scripts = {"create": "echo create-a >> events", "delete": "echo delete-a >> events"}
    result = program.up({"name": "renamed", "aliases": ["a"], **same_scripts})
    assert (kinds(result), program.events()) == ({"renamed": "same"}, ["create-a"])


def test_a_rename_without_an_alias_deletes_the_old_one_after_creating_the_new(program):
    program.up({"name": "a"})
    program.up({"name": "renamed"})
    assert program.events() == ["create-a", "create-renamed", "delete-a"]


def test_a_failed_create_quotes_the_command_and_its_output(program):
    with pytest.raises(EngineError, match=r'Process exited with status 3: running "echo oops; exit 3":\noops'):
        program.up({"name": "a", "create": "echo oops; exit 3"})


def test_a_failed_create_is_not_recorded_and_runs_again(program):
    with pytest.raises(EngineError):
        program.up({"name": "a", "create": "exit 3"})
    assert program.engine.checkpoint.resources == []
    assert kinds(program.up({"name": "a"})) == {"a": "create"}


def test_a_failed_update_keeps_the_old_state(program):
    program.up({"name": "a"})
    with pytest.raises(EngineError):
        program.up({"name": "a", "create": "exit 3"})
    assert kinds(program.up({"name": "a"})) == {"a": "same"}


def test_a_failure_skips_the_delete_phase(program):
    program.up({"name": "a"}, {"name": "b"})
    with pytest.raises(EngineError):
        program.up({"name": "a", "create": "exit 3"})
    assert "delete-b" not in program.events()
    assert sorted(r.urn.rsplit("::", 1)[-1] for r in program.engine.checkpoint.resources) == ["a", "b"]


def engine_running(body, tmp_path: Path) -> Engine:
    provider = CommandProvider(log=lambda line: None, local_cwd=tmp_path)
    return Engine("test", Backend(), no_docker, provider, program=body)


def test_the_programs_warnings_show_in_the_engines_log(tmp_path):
    engine = engine_running(lambda: pulumi.log.warn("replication: broken"), tmp_path)
    engine.preview()
    assert [(line.severity, line.text) for line in engine.log] == [("warning", "replication: broken")]


def test_the_local_run_invoke_runs_in_a_preview(tmp_path):
    def body() -> None:
        command.local.run_output(command="echo ran > invoked").stdout.apply(pulumi.log.info)

    engine_running(body, tmp_path).preview()
    assert (tmp_path / "invoked").read_text() == "ran\n"


def test_a_failing_local_run_invoke_fails_the_run(tmp_path):
    engine = engine_running(lambda: command.local.run_output(command="exit 3"), tmp_path)
    with pytest.raises(EngineError, match="exit 3"):
        engine.preview()
