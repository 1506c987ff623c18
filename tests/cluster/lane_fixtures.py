"""The lane's two shared fixtures, made at the scope a test module or a package of modules needs: the simulated
hosts with the program's images, and an ssh-agent holding their key. A package whose modules run in stages on one
site (tests/cluster/lifecycle) holds its hosts for all of them; a lone module holds them for itself."""

from __future__ import annotations

from typing import Literal

import pytest

from tests.cluster.sim import SshAgent, lane_cluster

# Five hosts: the sim stack's three, one to add and remove, one for the standby site.
LANE_NODES = 5
# Server versions the lane upgrades to, besides the stack file's own.
UPGRADE_VERSIONS = ("5.23.0",)


def lane_fixtures(scope: Literal["module", "package"], nodes: int = LANE_NODES):
    """`cluster` and `ssh_agent` at `scope`. A module may ask for another host count with its own LANE_NODES."""

    @pytest.fixture(scope=scope, name="cluster")
    def cluster(request, tmp_path_factory):
        count = getattr(request.module, "LANE_NODES", nodes) if scope == "module" else nodes
        with lane_cluster(count, tmp_path_factory.mktemp("sim") / "cluster.json", *UPGRADE_VERSIONS) as hosts:
            yield hosts

    @pytest.fixture(scope=scope, name="ssh_agent")
    def ssh_agent(cluster):
        agent = SshAgent(cluster[0].key_file)
        yield agent
        agent.stop()

    return cluster, ssh_agent
