"""/swarm as the stand-in image holds it (tests/cluster/image_flavours.py swarm_binary): the whole stand-in package in
one executable file that reads swarm's command line. Expected texts come from docker/swarm v1.2.8 (cited per test).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.cluster.image_flavours import swarm_binary


@pytest.fixture(scope="module")
def binary(tmp_path_factory):
    """The image's /swarm, written out under the same file name."""
    path = tmp_path_factory.mktemp("image") / "swarm"
    path.write_bytes(swarm_binary())
    path.chmod(0o755)
    return path


def run(binary, *args: str) -> subprocess.CompletedProcess:
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    return subprocess.run([sys.executable, str(binary), *args], capture_output=True, text=True, env=environ, timeout=60)


def test_the_binary_prints_swarms_version(binary):
    # version/version.go:5 (1.2.8), the commit Dockerfile:13 stamps at tag v1.2.8 (48d86b1), urfave/cli's version line
    assert run(binary, "--version").stdout == "swarm version 1.2.8 (48d86b1)\n"


def test_the_binary_names_itself_after_its_file(binary):
    # cli/manage.go:271: log.Fatalf("discovery required to manage a cluster. See '%s manage --help'.", c.App.Name),
    # where the app's name is the binary's base name (cli/cli.go:19: app.Name = path.Base(os.Args[0])).
    refused = run(binary, "manage")
    assert (refused.returncode, "See 'swarm manage --help'." in refused.stdout) == (1, True)
