"""The template engine for the shell scripts the program ships: `components/scripts/<name>.sh`, each declaring
its parameters on a `# params:` line and receiving them as shell-quoted assignments."""

from __future__ import annotations

import functools
import hashlib
import shlex
from pathlib import Path

SCRIPTS_DIR = Path(__file__).parent / "scripts"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _template(name: str) -> tuple[str, ...]:
    """A script template's lines, read once per process (a site with many nodes renders each many times)."""
    return tuple((SCRIPTS_DIR / f"{name}.sh").read_text().splitlines())


def script_params(name: str) -> tuple[str, ...]:
    """The parameters a script template declares on its `# params:` line."""
    for line in _template(name):
        if line.startswith("# params:"):
            return tuple(line.removeprefix("# params:").split())
    return ()


def render_script(name: str, **params: str) -> str:
    """The template `components/scripts/<name>.sh` with its parameters assigned after `set -euo pipefail`."""
    declared = set(script_params(name))
    given = {key.upper() for key in params}
    if declared != given:
        raise ValueError(f"script {name} takes {sorted(declared)}, got {sorted(given)}")
    lines = _template(name)
    assignments = [f"{key.upper()}={shlex.quote(str(value))}" for key, value in sorted(params.items())]
    at = lines.index("set -euo pipefail") + 1
    return "\n".join([*lines[:at], *assignments, *lines[at:]]) + "\n"


def as_command(script: str) -> str:
    """One command line that runs `script` with bash, whatever the login shell of the host is."""
    return f"bash -c {shlex.quote(script)}"
