"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: the overlay network's options read back, and the server is on
the network the site names."""

from __future__ import annotations

from tests import harness
from tests.harness import container_file, evaluate, properties_of

MACHINE_PROPERTIES = "/opt/codenvy-data/conf/machine.properties"


NETWORK = "docker:index/network:Network"


# What the daemon adds to an overlay network's options (the VXLAN IDs it picked); the provider reads all
# options back (resource_docker_network_funcs.go, resourceDockerNetworkReadRefreshFunc).
VXLAN_OPTION = "com.docker.network.driver.overlay.vxlanid_list"


def overlay(encrypted: bool) -> harness.Evaluation:
    return evaluate("sim", {"codenvy-infra:network": {"mode": "overlay", "encrypted": encrypted}})


def workspace_network(evaluation: harness.Evaluation) -> harness.Registration:
    (network,) = [n for n in evaluation.of_type(NETWORK) if n.inputs["driver"] == "overlay"]
    return network


def test_encrypted_overlay_reads_back_without_a_difference():
    network = workspace_network(overlay(encrypted=True))
    state = {**network.inputs, "options": {**network.inputs["options"], VXLAN_OPTION: "4097"}}
    differing = {key for key in state if state[key] != network.inputs.get(key)}
    # Every network attribute is ForceNew (resource_docker_network.go), so any difference replaces the
    # network; the bridge drops ignored attributes from the diff (pulumi-terraform-bridge
    # pkg/tfshim/sdk-v2/instance_diff.go processIgnoreChanges).
    assert differing - set(network.options.ignore_changes) == set()


def test_turning_encryption_on_creates_a_network_beside_the_old_one():
    """A change of `options` on the same resource keeps the old options: the engine resets ignored
    inputs to the old inputs before anything else (step_generator.go processIgnoreChanges)."""
    plain, encrypted = workspace_network(overlay(encrypted=False)), workspace_network(overlay(encrypted=True))
    assert plain.urn != encrypted.urn, "a new resource, created with its own options"
    assert plain.inputs["name"] != encrypted.inputs["name"], "created before the old one goes: no name clash"


def test_only_the_encrypted_overlay_asks_for_encryption():
    plain, encrypted = workspace_network(overlay(encrypted=False)), workspace_network(overlay(encrypted=True))
    assert not plain.inputs.get("options")
    assert encrypted.inputs["options"] == {"encrypted": "true"}


def test_the_server_joins_the_network_the_site_names():
    evaluation = overlay(encrypted=True)
    server = evaluation.named("codenvy-master-server").inputs
    assert workspace_network(evaluation).inputs["name"] in {n["name"] for n in server["networksAdvanced"]}


def test_the_server_puts_workspaces_on_the_network_the_site_names():
    evaluation = overlay(encrypted=True)
    machine = properties_of(container_file(evaluation.named("codenvy-master-server"), MACHINE_PROPERTIES))
    assert machine["che.docker.network"] == workspace_network(evaluation).inputs["name"]
