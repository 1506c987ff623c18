"""The GitHub workflows: what runs on a pull request, and which stacks a preview runs for."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
import yaml

from tests.harness import PROJECT_DIR, STACKS


def workflow(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / f"{name}.yml").read_text())


def triggers(document: dict) -> dict:
    # YAML 1.1 reads the key `on` as the boolean true.
    return document.get("on") or document[True]


def make_targets_run(job_or_step: dict) -> list[str]:
    """The Makefile targets a job's steps (or one step) run (`make [VAR=value ...] target ...`)."""
    steps = job_or_step.get("steps", [job_or_step])
    commands = [step["run"] for step in steps if step.get("run", "").startswith("make ")]
    # A matrix value (${{ matrix.lane }}) is checked through the matrix itself.
    words = [word for command in commands for word in re.sub(r"\$\{\{[^}]*\}\}", "", command).split()[1:]]
    return [word for word in words if "=" not in word]


def makefile_targets() -> set[str]:
    text = (PROJECT_DIR / "Makefile").read_text()
    return {name for line in re.findall(r"^([\w -]+):(?!=)", text, re.MULTILINE) for name in line.split()}


def test_the_test_workflow_runs_on_every_pull_request():
    assert "pull_request" in triggers(workflow("test"))


@pytest.mark.parametrize("target", ["lint", "typecheck", "unit", "policies", "cluster"])
def test_the_test_workflow_runs_each_check(target):
    jobs = workflow("test")["jobs"].values()
    lanes = [lane for job in jobs for lane in job.get("strategy", {}).get("matrix", {}).get("lane", [])]
    assert target in [*lanes, *(name for job in jobs for name in make_targets_run(job))]


def test_the_test_workflow_runs_only_makefile_targets():
    jobs = workflow("test")["jobs"].values()
    assert {name for job in jobs for name in make_targets_run(job)} <= makefile_targets()


def test_the_cluster_job_runs_only_where_the_probe_found_root_and_namespaces():
    (step,) = [step for step in workflow("test")["jobs"]["cluster"]["steps"] if "cluster" in make_targets_run(step)]
    assert step["if"] == "steps.probe.outputs.run == 'true'"


def held_stacks(listing: list[dict]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, ".github/held_stacks.py"],
        cwd=PROJECT_DIR,
        input=json.dumps(listing),
        capture_output=True,
        text=True,
        check=True,
    )


def test_a_preview_runs_for_the_stacks_the_backend_holds():
    listing = [{"name": "dev", "current": True}, {"name": "organization/codenvy-infra/sim", "current": False}]
    assert json.loads(held_stacks(listing).stdout) == ["dev", "sim"]


def test_a_stack_file_the_backend_does_not_hold_is_named_in_a_notice():
    result = held_stacks([{"name": "dev", "current": True}])
    assert json.loads(result.stdout) == ["dev"]
    assert [line for line in result.stderr.splitlines() if line.startswith("::notice::")] == [
        f"::notice::not in the backend, so not previewed: {', '.join(s for s in STACKS if s != 'dev')}"
    ]


def test_the_preview_workflow_lists_stacks_through_the_backend():
    jobs = workflow("preview")["jobs"]
    listing = " ".join(step.get("run", "") for step in jobs["stacks"]["steps"])
    assert "pulumi stack ls --json | python3 .github/held_stacks.py" in listing
    assert "needs.stacks.outputs.names" in jobs["preview"]["strategy"]["matrix"]["stack"]


def test_the_preview_job_is_skipped_when_the_backend_holds_no_stack():
    # A matrix over an empty list fails the workflow rather than running nothing.
    assert "needs.stacks.outputs.names != '[]'" in workflow("preview")["jobs"]["preview"]["if"]
