"""The simulated cluster's bash programs: the `*.sh` templates beside this module, rendered with the
parameters each declares on its `# params:` line (as components/rendering.py renders components/scripts)."""

from __future__ import annotations

import functools
import shlex
from pathlib import Path

TEMPLATES_DIR = Path(__file__).parent
STRICT_MODE = "set -euo pipefail"


def template_names() -> tuple[str, ...]:
    return tuple(sorted(path.stem for path in TEMPLATES_DIR.glob("*.sh")))


@functools.cache
def _template(name: str) -> tuple[str, ...]:
    return tuple((TEMPLATES_DIR / f"{name}.sh").read_text().splitlines())


def template_params(name: str) -> tuple[str, ...]:
    """The parameters the template `name` declares on its `# params:` line."""
    for line in _template(name):
        if line.startswith("# params:"):
            return tuple(line.removeprefix("# params:").split())
    return ()


def render(name: str, **params: object) -> str:
    """The template `scripts/sim/<name>.sh` with its parameters assigned, shell-quoted, after the strict mode."""
    declared = set(template_params(name))
    given = {key.upper() for key in params}
    if declared != given:
        raise ValueError(f"sim template {name} takes {sorted(declared)}, got {sorted(given)}")
    lines = _template(name)
    assignments = [f"{key.upper()}={shlex.quote(str(value))}" for key, value in sorted(params.items())]
    at = lines.index(STRICT_MODE) + 1
    return "\n".join([*lines[:at], *assignments, *lines[at:]]) + "\n"
