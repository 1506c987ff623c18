"""The Resource API client run as a script finds its own modules beside itself, wherever it is run from."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.harness import PROJECT_DIR

CLIENT = PROJECT_DIR / "components" / "resource_api.py"
# With no API in its environment the client refuses before any call: proof that it started.
STARTED = "missing environment: CODENVY_API_URL"


def run_elsewhere(directory, **env: str) -> subprocess.CompletedProcess:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("CODENVY_", "PYTHON"))}
    return subprocess.run(
        [sys.executable, str(CLIENT), "limits", "reset", "alice"],
        cwd=directory,
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.fixture
def foreign_project(tmp_path):
    """A working directory whose own `components` package is on the path, as in another project's shell."""
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "__init__.py").write_text("raise SystemExit('imported the wrong components')\n")
    return tmp_path


def test_the_client_ignores_a_components_package_in_the_working_directory(foreign_project):
    result = run_elsewhere(foreign_project, PYTHONPATH=".")
    assert STARTED in result.stderr, result.stderr


def test_the_client_starts_without_its_directory_on_the_path(tmp_path):
    result = run_elsewhere(tmp_path, PYTHONSAFEPATH="1")
    assert STARTED in result.stderr, result.stderr
