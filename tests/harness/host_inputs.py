"""What a registration hands a host, read back as the host reads it: a Command's script, the parameters
that script assigns, the template it came from, a container's environment."""

from __future__ import annotations

import io
import shlex

from components.script_templates import PROGRAM_SCRIPTS, render_script
from tests.harness.records import Registration

# Rendered scripts assign their parameters right after this line and declare their names on the next.
PARAMETERS_START = "set -euo pipefail\n"
DECLARATION = "#"  # the comment `# params: NAME …` that ends the assignments


def script_of(registration: Registration, key: str = "create") -> str:
    """The script a Command runs, out of its `bash -c '…'` wrapper."""
    argv = shlex.split(registration.inputs[key])
    assert argv[:2] == ["bash", "-c"], argv[:2]
    return argv[2]


def script_parameters(script: str) -> dict[str, str]:
    """The values a rendered script assigns to its declared parameters, split into words as bash splits
    them, so a test compares values whatever quoting the renderer chose. A value may hold a whole script
    (an installed tool), so the block ends at the first word outside quotes that starts the declaration."""
    text = io.StringIO(script.split(PARAMETERS_START, 1)[1])
    words = shlex.shlex(text, posix=True)
    words.whitespace_split, words.commenters = True, ""
    values = {}
    for word in iter(words.get_token, DECLARATION):
        assert word is not None, "not a rendered script: no parameter declaration"
        name, is_assignment, value = word.partition("=")
        assert is_assignment, f"{word!r} is no assignment"
        values[name] = value
    declared = text.read().split("\n", 1)[0].split()
    assert declared[0] == "params:" and sorted(declared[1:]) == sorted(values), "assigned and declared differ"
    return values


def template_of(script: str) -> str:
    """The name of the template a rendered script came from (its text after the parameter block)."""
    for name in PROGRAM_SCRIPTS.names():
        body = PROGRAM_SCRIPTS.text(name).split("# params:", 1)[1].split("\n", 1)[1]
        if script.endswith(body):
            return name
    raise AssertionError("not a rendered template")


def rerender(registration: Registration, key: str = "create", **changes: str) -> str:
    """The script a Command runs, with some parameters pointed somewhere harmless (a temporary directory)."""
    script = script_of(registration, key)
    values = {name.lower(): value for name, value in script_parameters(script).items()}
    return render_script(template_of(script), **{**values, **changes})


def container_env(registration: Registration) -> dict[str, str]:
    """A container's environment, from the `NAME=value` items the provider passes to the daemon."""
    return dict(item.split("=", 1) for item in registration.inputs["envs"])


def container_file(registration: Registration, path: str) -> str:
    """The content the provider uploads into a container at `path`."""
    (content,) = [upload["content"] for upload in registration.inputs["uploads"] if upload["file"] == path]
    return content


def properties_of(text: str) -> dict[str, str]:
    """A Java properties (or env) file's `key=value` lines, as the server reads them."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
