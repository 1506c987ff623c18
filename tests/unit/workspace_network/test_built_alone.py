"""The WorkspaceNetwork component built alone from settings made here: a bridge, or a swarm and its overlay."""

from __future__ import annotations

import pulumi

from components.config import NetworkConfig
from components.host_access import connect_host
from components.workspace_network import WorkspaceNetwork, WorkspaceNetworkArgs, WorkspaceNetworkSettings
from tests.harness import script_of, script_parameters
from tests.unit.built_alone import COMMANDS, LOCAL, built

NETWORK = "docker:index/network:Network"


def network_settings(mode: str, encrypted: bool = False) -> WorkspaceNetworkSettings:
    return WorkspaceNetworkSettings(
        config=NetworkConfig(mode=mode, encrypted=encrypted),
        docker_name="unit-workspaces",
        site_name="unit",
        master_name="boss",
        master_address="10.1.0.1",
    )


def make_network(settings: WorkspaceNetworkSettings):
    def make(parent):
        host = connect_host("unit", LOCAL, None, parent)
        WorkspaceNetwork(
            "unit-network", WorkspaceNetworkArgs(settings=settings, master=host), pulumi.ResourceOptions(parent=parent)
        )

    return make


def test_workspace_network_in_bridge_mode_is_a_bridge_and_no_swarm():
    evaluation = built(make_network(network_settings("bridge")))
    (network,) = evaluation.of_type(NETWORK)
    assert network.inputs["driver"] == "bridge"
    assert not [r for r in evaluation.resources if r.type in COMMANDS]


def test_workspace_network_in_overlay_mode_starts_the_swarm_as_its_manager():
    evaluation = built(make_network(network_settings("overlay")))
    init = evaluation.named("unit-network-swarm-init")
    assert script_parameters(script_of(init))["SWARM_ROLE"] == "manager"
    assert evaluation.named("unit-network-overlay").inputs["attachable"] is True


def test_workspace_network_encryption_is_a_network_of_its_own():
    evaluation = built(make_network(network_settings("overlay", encrypted=True)))
    assert evaluation.named("unit-network-overlay-encrypted").inputs["options"] == {"encrypted": "true"}
