"""The scripts' long waits say what they await while they wait (a line every 10 tries), run by bash with a
stand-in `docker` that never answers and a `sleep` that returns at once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.script_templates import SCRIPTS_DIR, render_script


@pytest.fixture
def stand_ins(tmp_path: Path) -> dict[str, str]:
    for name in ("docker", "sleep"):
        (tmp_path / name).write_text("#!/bin/sh\nexit 1\n" if name == "docker" else "#!/bin/sh\nexit 0\n")
        (tmp_path / name).chmod(0o755)
    return {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}


def run(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env, timeout=60, check=False)


def progress(result: subprocess.CompletedProcess, start: str) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith(start)]


def test_the_wait_for_postgresql_says_so_every_ten_tries(stand_ins):
    part = (SCRIPTS_DIR / "lib" / "postgres_ready.sh").read_text()
    result = run(f"{part}\nwait_for_postgres codenvy-postgres 25", stand_ins)
    assert len(progress(result, "waiting for codenvy-postgres to accept connections")) == 2, result.stderr


def test_the_wait_for_placement_says_how_many_engines_are_healthy(stand_ins):
    script = render_script(
        "placement_ready", container="codenvy-swarm", engines="10.0.0.2:2376 10.0.0.3:2376", site_name="codenvy",
        tls_dir="/etc/swarm/tls", wait_seconds=20,
    )  # fmt: skip
    result = run(script, stand_ins)
    lines = progress(result, "placement of codenvy: 0 of 2 engine(s) healthy")
    assert (result.returncode, len(lines)) == (1, 2), result.stderr
