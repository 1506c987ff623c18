"""This program's own release: the version pyproject.toml declares, exported by every stack."""

from __future__ import annotations

import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def program_version() -> str:
    """The release that converged a stack (the Codenvy version it runs is the output `version`)."""
    return tomllib.loads(PYPROJECT.read_text())["project"]["version"]
