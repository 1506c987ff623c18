"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the `up`
workflow converges the stacks the team names, never on a runner that is one of their hosts."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from tests.harness import PROJECT_DIR


def workflow(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / f"{name}.yml").read_text())


def up_job() -> dict:
    return workflow("up")["jobs"]["up"]


def test_the_up_workflow_converges_the_stacks_the_team_names():
    stacks = up_job()["strategy"]["matrix"]["stack"]
    assert isinstance(stacks, str) and "vars.CONVERGE_STACKS" in stacks, "not a fixed list such as [dev, dr]"


def test_the_up_workflow_converges_nothing_until_the_team_names_stacks():
    assert "CONVERGE_STACKS" in up_job()["if"]


def test_the_up_workflow_checks_that_no_host_is_the_runner():
    assert any("remote_hosts_only.py" in step.get("run", "") for step in up_job()["steps"])


@pytest.mark.parametrize(("stack", "refused"), [("dev", True), ("dr", True), ("sim", False)])
def test_ci_refuses_to_converge_a_stack_whose_hosts_would_be_the_runner(stack, refused):
    result = subprocess.run(
        [sys.executable, ".github/remote_hosts_only.py", stack],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == (1 if refused else 0), result.stderr
