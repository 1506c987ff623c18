"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: the swarm, the
overlay network and each node's membership."""

from __future__ import annotations

import pytest

from tests.harness import Evaluation, script_of, script_parameters, template_of
from tests.unit.program.shipped import NETWORK, commands, two_node_overlay


def overlay_network(evaluation: Evaluation):
    (network,) = [n for n in evaluation.of_type(NETWORK) if n.inputs["driver"] == "overlay"]
    return network


def test_overlay_initialises_one_swarm_advertised_at_the_master():
    (init,) = [c for c in commands(two_node_overlay()) if c.name.endswith("-swarm-init")]
    assert init.inputs["connection"]["host"] == "10.8.0.1"
    assert script_parameters(script_of(init))["ADVERTISE_ADDR"] == "10.8.0.1"


def test_the_overlay_network_is_attachable():
    assert overlay_network(two_node_overlay()).inputs["attachable"] is True


def test_the_overlay_network_is_encrypted_when_configured():
    assert overlay_network(two_node_overlay()).inputs["options"] == {"encrypted": "true"}


def test_the_overlay_network_is_created_once_the_swarm_exists():
    (init,) = [c for c in commands(two_node_overlay()) if c.name.endswith("-swarm-init")]
    assert init.urn in overlay_network(two_node_overlay()).dependencies


NODE_ADDRESSES = [("ws1", "10.8.0.2"), ("ws2", "10.8.0.3")]


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_each_node_joins_through_its_own_connection(node, address):
    assert two_node_overlay().named(f"codenvy-ws-{node}-swarm-join").inputs["connection"]["host"] == address


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_each_node_joins_the_swarm_of_the_master(node, address):
    join = script_of(two_node_overlay().named(f"codenvy-ws-{node}-swarm-join"))
    assert (template_of(join), script_parameters(join)["MANAGER_ADDR"]) == ("swarm_join", "10.8.0.1")


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_deleting_a_join_leaves_the_swarm(node, address):
    assert template_of(script_of(two_node_overlay().named(f"codenvy-ws-{node}-swarm-join"), "delete")) == "swarm_leave"


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_each_nodes_membership_is_checked_on_the_manager(node, address):
    membership = two_node_overlay().named(f"codenvy-ws-{node}-membership")
    assert membership.inputs["connection"]["host"] == "10.8.0.1"
    assert template_of(script_of(membership)) == "node_ready"


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_deleting_a_membership_removes_the_node_from_the_swarm(node, address):
    membership = two_node_overlay().named(f"codenvy-ws-{node}-membership")
    assert template_of(script_of(membership, "delete")) == "node_remove"


@pytest.mark.parametrize(("node", "address"), NODE_ADDRESSES)
def test_a_membership_is_checked_once_its_node_has_joined(node, address):
    evaluation = two_node_overlay()
    join = evaluation.named(f"codenvy-ws-{node}-swarm-join")
    assert join.urn in evaluation.named(f"codenvy-ws-{node}-membership").dependencies
