"""The template engine: every script parses, takes exactly its declared parameters, and gets them intact."""

from __future__ import annotations

import shlex
import subprocess

import pytest

from components.script_templates import SCRIPTS_DIR, as_command, render_script, script_params

SCRIPTS = sorted(path.stem for path in SCRIPTS_DIR.glob("*.sh"))


def sample_params(name: str) -> dict[str, str]:
    return {param.lower(): f"{param} with 'quotes',\n$dollars and `ticks`" for param in script_params(name)}


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_strict(name):
    lines = render_script(name, **sample_params(name)).splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:4]


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_parses_with_bash(name):
    subprocess.run(["bash", "-n"], input=render_script(name, **sample_params(name)), text=True, check=True)


@pytest.mark.parametrize("name", SCRIPTS)
def test_parameters_survive_quoting_exactly(name):
    params = sample_params(name)
    script = render_script(name, **params)
    # Keep the script up to its own `# params:` line: the assignments, and none of the work.
    probe = script[: script.index("# params:")]
    probe += "printf '%s\\0' " + " ".join(f'"${key.upper()}"' for key in params) + "\n"
    printed = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert printed.split("\0")[:-1] == list(params.values())


def test_script_refuses_a_missing_parameter():
    with pytest.raises(ValueError, match="NODE_NAME"):
        render_script("swarm_leave")


def test_script_refuses_an_unknown_parameter():
    with pytest.raises(ValueError, match="BOGUS"):
        render_script("swarm_leave", node_name="n", bogus="x")


def test_as_command_runs_the_script_through_bash():
    script = render_script("swarm_join_token", node_name="it's")
    assert shlex.split(as_command(script)) == ["bash", "-c", script]
