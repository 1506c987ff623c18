"""The cluster lane: a simulated cluster of real dockerd engines, brought up once and always torn down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.cluster.images import import_images
from tests.cluster.live import Node
from tests.harness import PROJECT_DIR

SIM_CLUSTER = PROJECT_DIR / "scripts" / "sim-cluster"
TOOLS = ("ip", "nsenter", "unshare", "dockerd", "docker", "ssh", "ssh-keygen", "iptables", "busybox", "htpasswd",
         "openssl", "nft")  # fmt: skip


def missing_prerequisite() -> str | None:
    if os.geteuid() != 0:
        return "the cluster lane needs root (network namespaces and Docker daemons); run `sudo make test`"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    missing += [path for path in ("/usr/sbin/sshd", "/usr/bin/docker-registry") if not Path(path).exists()]
    if missing:
        return f"the cluster lane needs {', '.join(missing)}: run scripts/install-cluster-deps"
    return None


def pytest_collection_modifyitems(config, items):
    reason = missing_prerequisite()
    for item in items:
        if "tests/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
            if reason and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _prerequisites():
    reason = missing_prerequisite()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the cluster lane: {reason}", pytrace=False)


def sim_cluster(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SIM_CLUSTER), *args], capture_output=True, text=True, timeout=300)


NOTHING_RUNS = "sim-cluster: nothing runs"


def start_cluster(count: int, spec: Path) -> list[dict]:
    if sim_cluster("status").stdout.strip() != NOTHING_RUNS:
        pytest.fail("a simulated cluster is already running; stop it with `scripts/sim-cluster down`", pytrace=False)
    started = sim_cluster("up", "--nodes", str(count), "--json", str(spec))
    assert started.returncode == 0, started.stderr
    return json.loads(spec.read_text())["nodes"]


def stop_cluster() -> None:
    stopped = sim_cluster("down")
    assert stopped.returncode == 0, stopped.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> list[Node]:
    """Three simulated hosts, as the sim stack expects them, with local images; always torn down."""
    try:
        described = start_cluster(3, tmp_path_factory.mktemp("sim") / "cluster.json")
        nodes = [Node(n["name"], n["address"], n["docker_host"], n["ssh"]["key_file"]) for n in described]
        for node in nodes:
            import_images(node.docker_host)
        yield nodes
    finally:
        stop_cluster()
