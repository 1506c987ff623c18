"""The cluster lane: a simulated cluster of real dockerd engines, brought up once per module (or once for a
package of staged modules) and always torn down, with the program's images on every engine and an ssh-agent
holding the hosts' key."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from scripts.sim.node import NODE_TOOLS, SSHD
from tests.cluster.lane_fixtures import lane_fixtures
from tests.lanes import PRIVATE_ENGINE_MODULES, lane_of

# Besides what a simulated node is made with: what the lane's own steps run.
LANE_TOOLS = ("ssh-agent", "rsync", "busybox", "htpasswd", "openssl", "nft", "debootstrap")
LANE_FILES = (SSHD, "/usr/bin/docker-registry")
SIMULATED_HOSTS = {"cluster", "ssh_agent"}


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
        if lane_of(item.nodeid) in PRIVATE_ENGINE_MODULES and SIMULATED_HOSTS & set(item.fixturenames):
            # tests/lanes.py runs these beside the simulated hosts' modules, on the other worker.
            raise pytest.UsageError(f"{item.nodeid} asks for the simulated hosts: drop it from PRIVATE_ENGINE_MODULES")
        if "tests/cluster/" in str(item.fspath):
            item.add_marker(pytest.mark.cluster)
            if reason and os.environ.get("CI") != "true":
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session", autouse=True)
def _prerequisites():
    reason = missing_prerequisite()
    if reason and os.environ.get("CI") == "true":
        pytest.fail(f"CI must run the cluster lane: {reason}", pytrace=False)


cluster, ssh_agent = lane_fixtures("module")
