"""The template engine for the shell scripts the program ships: `components/scripts/<name>.sh`, each declaring
its parameters on a `# params:` line and receiving them as shell-quoted assignments."""

from __future__ import annotations

import functools
import hashlib
import shlex
from pathlib import Path


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


INCLUDE = "# include: "


@functools.cache
def _lines(path: Path) -> tuple[str, ...]:
    """A template's lines, read once per process (a site with many nodes renders each many times)."""
    return tuple(path.read_text().splitlines())


class ScriptTemplates:
    """A directory of `<name>.sh` templates: each declares its parameters on a `# params:` line and gets them
    as shell-quoted assignments right after `set -euo pipefail`. A line `# include: <part>` stands for
    `lib/<part>.sh`: functions more than one script needs, written once. Standard library only, so the
    simulated cluster's script (run by root's python3) renders its own templates with it too."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(path.stem for path in self.directory.glob("*.sh")))

    def params(self, name: str) -> tuple[str, ...]:
        """The parameters the template `name` declares on its `# params:` line."""
        for line in _lines(self.directory / f"{name}.sh"):
            if line.startswith("# params:"):
                return tuple(line.removeprefix("# params:").split())
        return ()

    def render(self, name: str, **params: object) -> str:
        """The template with its parameters assigned after `set -euo pipefail`; exactly the declared ones."""
        declared = set(self.params(name))
        given = {key.upper() for key in params}
        if declared != given:
            raise ValueError(f"script {self.directory.name}/{name}.sh takes {sorted(declared)}, got {sorted(given)}")
        lines = self._expanded(name)
        assignments = [f"{key.upper()}={shlex.quote(str(value))}" for key, value in sorted(params.items())]
        at = lines.index("set -euo pipefail") + 1
        return "\n".join([*lines[:at], *assignments, *lines[at:]]) + "\n"

    def text(self, name: str) -> str:
        """The template with its parts included and no parameter assigned yet."""
        return "\n".join(self._expanded(name)) + "\n"

    def _expanded(self, name: str) -> list[str]:
        lines: list[str] = []
        for line in _lines(self.directory / f"{name}.sh"):
            part = line.removeprefix(INCLUDE)
            lines += _lines(self.directory / "lib" / f"{part}.sh") if part != line else [line]
        if any(line.startswith(INCLUDE) for line in lines):
            raise ValueError(f"script {self.directory.name}/{name}.sh: a part in lib/ includes another; parts are flat")
        return lines


# The program's scripts, components/scripts/*.sh.
PROGRAM_SCRIPTS = ScriptTemplates(Path(__file__).parent / "scripts")
SCRIPTS_DIR = PROGRAM_SCRIPTS.directory
render_script = PROGRAM_SCRIPTS.render
script_params = PROGRAM_SCRIPTS.params


def as_command(script: str) -> str:
    """One command line that runs `script` with bash, whatever the login shell of the host is."""
    return f"bash -c {shlex.quote(script)}"
