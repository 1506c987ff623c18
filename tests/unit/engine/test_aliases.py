"""URNs and aliases in the stand-in engine, on small programs of components and local Commands (real
/bin/sh, no Docker), as pulumi/pulumi forms them: sdk/go/common/resource/urn/urn.go and alias.go, and
pkg/resource/deploy/step_generator.go (generateAliases, inheritedChildAlias, getOldResource)."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_command as command
import pytest

from tests.engine.command_provider import CommandProvider
from tests.engine.docker_provider import ProviderError
from tests.engine.engine import Backend, Engine, EngineError


def no_docker(provider_inputs):
    raise ProviderError("these programs use no Docker")


class Part(pulumi.ComponentResource):
    """A component of `kind` whose children are local Commands with the given names."""

    def __init__(self, kind: str, name: str, children=(), opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(f"test:index:{kind}", name, None, opts)
        self.children = {
            child: command.local.Command(child, create="true", opts=pulumi.ResourceOptions(parent=self))
            for child in children
        }
        self.register_outputs({})


@pytest.fixture
def engine(tmp_path) -> Engine:
    commands = CommandProvider(log=lambda line: None, local_cwd=tmp_path)
    return Engine("test", Backend(), no_docker, commands, program=lambda: None)


def up(engine: Engine, program: Callable[[], None]):
    engine.program = program
    return engine.up()


def kinds(result, name: str) -> list[str]:
    return [step.kind for step in result.steps if step.urn.endswith(f"::{name}")]


def test_a_grandchilds_urn_carries_every_ancestors_type(engine):
    def program():
        outer = Part("Outer", "outer")
        Part("Inner", "inner", ["leaf"], pulumi.ResourceOptions(parent=outer))

    up(engine, program)
    (leaf,) = [r.urn for r in engine.checkpoint.resources if r.urn.endswith("::leaf")]
    assert leaf.split("::")[2] == "test:index:Outer$test:index:Inner$command:local:Command"


def test_a_renamed_component_carries_its_childs_state_to_the_childs_new_name(engine):
    up(engine, lambda: Part("App", "app", ["app-cmd"]))
    renamed = up(
        engine,
        lambda: Part("App", "newapp", ["newapp-cmd"], pulumi.ResourceOptions(aliases=[pulumi.Alias(name="app")])),
    )
    assert kinds(renamed, "newapp-cmd") == ["same"]


def test_a_child_inherits_only_the_parents_alias_that_matched(engine):
    """Two components merged into one that aliases both: the first alias with old state is the parent's old
    URN, so the child that lived under the other one is created anew."""

    def before():
        Part("X", "x", ["c"])
        Part("Y", "y", ["d"])

    def merged():
        aliases = [pulumi.Alias(name="x", type_="test:index:X"), pulumi.Alias(name="y", type_="test:index:Y")]
        Part("Merged", "m", ["c", "d"], pulumi.ResourceOptions(aliases=aliases))

    up(engine, before)
    result = up(engine, merged)
    assert (kinds(result, "c"), kinds(result, "d")) == (["same"], ["create", "delete"])


def test_two_resources_claiming_one_old_resource_are_refused(engine):
    up(engine, lambda: command.local.Command("old", create="echo old"))

    def both():
        for name in ("first", "second"):
            command.local.Command(
                name, create="echo old", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old")])
            )

    with pytest.raises(EngineError, match="Duplicate resource alias"):
        up(engine, both)
