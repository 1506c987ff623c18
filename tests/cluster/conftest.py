"""The cluster lane: a simulated cluster of real dockerd engines, brought up once per module and always
torn down, with the program's images on every engine and an ssh-agent holding the hosts' key."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scripts.sim.node import NODE_TOOLS, SSHD
from tests.cluster.sim import SshAgent, lane_cluster

# Besides what a simulated node is made with: what the lane's own steps run.
LANE_TOOLS = ("ssh-agent", "rsync", "busybox", "htpasswd", "openssl", "nft", "debootstrap")
LANE_FILES = (SSHD, "/usr/bin/docker-registry")
# Five hosts: the sim stack's three, one to add and remove, one for the standby site.
LANE_NODES = 5
# Server versions the lane upgrades to, besides the stack file's own.
UPGRADE_VERSIONS = ("5.23.0",)


def missing_prerequisite() -> str | None:
    if os.geteuid() != 0:
        return "the cluster lane needs root (network namespaces and Docker daemons); run `sudo make test`"
    missing = [tool for tool in (*NODE_TOOLS, *LANE_TOOLS) if shutil.which(tool) is None]
    missing += [path for path in LANE_FILES if not Path(path).exists()]
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


@pytest.fixture(scope="module")
def cluster(request, tmp_path_factory):
    """The lane's simulated hosts (a module's LANE_NODES, five by default), each with the images the
    program pulls (built locally)."""
    count = getattr(request.module, "LANE_NODES", LANE_NODES)
    with lane_cluster(count, tmp_path_factory.mktemp("sim") / "cluster.json", *UPGRADE_VERSIONS) as nodes:
        yield nodes


@pytest.fixture(scope="module")
def ssh_agent(cluster):
    agent = SshAgent(cluster[0].key_file)
    yield agent
    agent.stop()
