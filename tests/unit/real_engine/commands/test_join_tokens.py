"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: each node's
join token is read on the manager and reaches its join."""

from __future__ import annotations

import pytest

from tests.harness import script_of, site_config
from tests.unit.real_engine.commands.fake_host import shipped, token_of

WORKERS = ["node2", "node3"]


@pytest.mark.parametrize("node", WORKERS)
def test_each_nodes_join_token_is_read_on_the_manager(node):
    reader = shipped("sim").named(f"codenvy-ws-{node}-join-token")
    assert reader.inputs["connection"]["host"] == site_config("sim").master.address


@pytest.mark.parametrize("node", WORKERS)
def test_each_node_is_given_a_worker_token(node):
    assert "join-token --quiet worker" in script_of(shipped("sim").named(f"codenvy-ws-{node}-join-token"))


@pytest.mark.parametrize("node", WORKERS)
def test_a_join_token_is_read_when_its_node_is_added(node):
    # A node added later gets a reader of its own, run when it is added; no trigger re-runs an old one.
    assert "triggers" not in shipped("sim").named(f"codenvy-ws-{node}-join-token").inputs


@pytest.mark.parametrize("node", WORKERS)
def test_each_node_joins_with_the_token_its_reader_gave(node):
    join = shipped("sim").named(f"codenvy-ws-{node}-swarm-join")
    assert join.inputs["stdin"] == token_of(f"codenvy-ws-{node}-join-token")


@pytest.mark.parametrize("node", WORKERS)
def test_a_join_waits_for_its_token(node):
    sim = shipped("sim")
    assert sim.named(f"codenvy-ws-{node}-join-token").urn in sim.named(f"codenvy-ws-{node}-swarm-join").dependencies
