"""Workspace placement as the program registers it: the standalone Swarm manager over TLS with file discovery,
its node list, and the TLS relay in front of each workspace host's engine."""

from __future__ import annotations

import functools
import json

from components.host_firewall import FirewallSettings, render_nftables
from tests.harness import Evaluation, evaluate, script_of, script_parameters, site_config

SIM_WORKERS = {node.name: node.address for node in site_config("sim").nodes}


def relay_prefix(address: str) -> str:
    """A host's relay is named for its address (Site._engine_relays)."""
    return f"codenvy-relay-{address.replace('.', '-')}"


@functools.cache
def sim() -> Evaluation:
    return evaluate("sim")


@functools.cache
def sim_with(**change) -> Evaluation:
    return evaluate("sim", {f"codenvy-infra:{key}": value for key, value in change.items()})


def manager(evaluation: Evaluation):
    (container,) = [
        c for c in evaluation.of_type("docker:index/container:Container") if c.inputs["name"].endswith("-swarm")
    ]
    return container


def node_list(evaluation: Evaluation) -> list[str]:
    (command,) = [r for r in evaluation.resources if r.name.endswith("-placement-node-list")]
    return script_parameters(script_of(command))["NODE_LIST"].split()


def flag_values(command: list[str]) -> dict[str, str]:
    return dict(arg.removeprefix("--").split("=", 1) for arg in command if arg.startswith("--") and "=" in arg)


def test_the_manager_runs_swarm_manage():
    assert manager(sim()).inputs["command"][0] == "manage"


def test_the_manager_verifies_its_clients_and_the_engines_with_the_site_ca():
    command = manager(sim()).inputs["command"]
    flags = flag_values(command)
    assert "--tlsverify" in command and {"tlscacert", "tlscert", "tlskey"} <= set(flags)


def test_the_manager_reads_the_node_list_the_command_writes():
    (command,) = [r for r in sim().resources if r.name.endswith("-placement-node-list")]
    nodes_dir = script_parameters(script_of(command))["NODES_DIR"]
    assert manager(sim()).inputs["command"][-1] == f"file://{nodes_dir}/node_list"


def test_the_manager_is_not_published():
    assert not manager(sim()).inputs.get("ports")


def test_the_sim_node_list_holds_every_workspace_node_at_its_tls_relay():
    assert sorted(node_list(sim())) == sorted(f"{address}:2376" for address in SIM_WORKERS.values())


def test_the_dev_node_list_is_the_masters_own_engine_behind_its_relay():
    assert node_list(evaluate("dev")) == ["codenvy-socat:2376"]


def drained(name: str) -> list[dict]:
    nodes = [node.model_dump(mode="json", by_alias=True, exclude_none=True) for node in site_config("sim").nodes]
    return [{**node, "drain": node["name"] == name} for node in nodes]


def test_a_drained_node_stays_in_the_node_list():
    """The manager keeps reaching its workspaces; Codenvy's maintenance label keeps new ones away."""
    assert sorted(node_list(evaluate("sim", {"codenvy-infra:nodes": drained("node3")}))) == sorted(
        f"{address}:2376" for address in SIM_WORKERS.values()
    )


def test_a_drained_node_carries_codenvys_maintenance_label():
    daemon = script_parameters(script_of(evaluate("sim", {"codenvy-infra:nodes": drained("node3")}).named(
        "codenvy-ws-node3-daemon-config")))["DAEMON_JSON"]  # fmt: skip
    assert "com.codenvy.node-state=maintenance" in json.loads(daemon)["labels"]


def test_a_node_in_service_carries_no_maintenance_label():
    daemon = script_parameters(script_of(sim().named("codenvy-ws-node3-daemon-config")))["DAEMON_JSON"]
    assert not [label for label in json.loads(daemon)["labels"] if label.startswith("com.codenvy.node-state")]


def test_draining_a_node_changes_only_its_daemon_config():
    before = {r.urn: r.inputs for r in sim().resources}
    after = {r.urn: r.inputs for r in evaluate("sim", {"codenvy-infra:nodes": drained("node3")}).resources}
    changed = {urn.rsplit("::", 1)[-1] for urn in before if before[urn] != after.get(urn)}
    assert changed == {"codenvy-ws-node3-daemon-config", "codenvy-ws-node3-ready"}


def test_a_drained_node_keeps_its_relay_and_membership():
    names = {r.name for r in evaluate("sim", {"codenvy-infra:nodes": drained("node3")}).resources}
    assert {f"{relay_prefix(SIM_WORKERS['node3'])}-container", "codenvy-ws-node3-swarm-join"} <= names


def relay(evaluation: Evaluation, host: str):
    address = SIM_WORKERS.get(host) or site_config("dev").master.address
    return evaluation.named(f"{relay_prefix(address)}-container")


def test_a_workers_relay_is_published_at_the_workers_own_address():
    ports = relay(sim(), "node2").inputs["ports"]
    assert [(p["internal"], p["external"], p["ip"]) for p in ports] == [(2376, 2376, SIM_WORKERS["node2"])]


def test_the_masters_relay_answers_on_the_internal_network_only():
    container = relay(evaluate("dev"), "master").inputs
    assert not container.get("ports")
    assert [n["aliases"] for n in container["networksAdvanced"]] == [["codenvy-socat"]]


def test_a_relay_holds_the_engines_socket():
    volumes = relay(sim(), "node2").inputs["volumes"]
    assert [(v["hostPath"], v["containerPath"]) for v in volumes] == [("/var/run/docker.sock", "/var/run/docker.sock")]


def test_a_relay_requires_a_client_certificate_from_the_site_ca():
    (listener,) = [arg for arg in relay(sim(), "node2").inputs["command"] if arg.startswith("OPENSSL-LISTEN:")]
    options = dict(option.partition("=")[::2] for option in listener.split(",")[1:])
    assert options["verify"] == "1" and options["cafile"].endswith("ca.pem")


def test_a_relays_certificate_names_the_workers_address():
    request = sim().named(f"{relay_prefix(SIM_WORKERS['node2'])}-tls-csr").inputs
    assert request["ipAddresses"] == [SIM_WORKERS["node2"]]


def usages(evaluation: Evaluation, certificate: str) -> set[str]:
    return set(evaluation.named(certificate).inputs["allowedUses"])


def test_the_managers_certificate_serves_and_authenticates_as_a_client():
    assert {"server_auth", "client_auth"} <= usages(sim(), "codenvy-master-placement-tls-cert")


def test_a_relays_certificate_only_serves():
    assert "client_auth" not in usages(sim(), f"{relay_prefix(SIM_WORKERS['node2'])}-tls-cert")


def test_the_servers_certificate_for_the_manager_only_authenticates_a_client():
    assert usages(sim(), "codenvy-master-app-swarm-client-cert") & {"server_auth", "client_auth"} == {"client_auth"}


def test_the_server_starts_after_the_placement_manager():
    assert manager(sim()).urn in sim().named("codenvy-master-server").dependencies


def test_a_workers_relay_starts_after_its_host_is_configured():
    dependencies = {urn.rsplit("::", 1)[-1] for urn in relay(sim(), "node2").dependencies}
    assert {"codenvy-ws-node2-daemon-config", "codenvy-ws-node2-firewall"} <= dependencies


def test_a_lost_workers_relay_leaves_the_state_without_reaching_the_host():
    nodes = [
        {**node.model_dump(mode="json", by_alias=True, exclude_none=True), "lost": node.name == "node3"}
        for node in site_config("sim").nodes
    ]
    evaluation = evaluate("sim", {"codenvy-infra:nodes": nodes})
    assert relay(evaluation, "node3").options.retain_on_delete


def forward_rules(host_name: str) -> list[str]:
    site = site_config("sim")
    host = next(node for node in site.nodes if node.name == host_name)
    ruleset = render_nftables(FirewallSettings.of(site), host, is_master=False, runs_workspaces=True)
    chain = ruleset.split("chain forward {")[1].split("}")[0]
    return [line.strip() for line in chain.splitlines() if line.strip()]


def test_a_workers_firewall_lets_only_the_master_reach_its_relay():
    master = site_config("sim").master.address
    relay_rules = [rule for rule in forward_rules("node2") if "2376" in rule.split()]
    assert len(relay_rules) == 1 and relay_rules[0].endswith(f"ip saddr {master} accept")


def test_a_workers_firewall_drops_every_other_published_port():
    assert forward_rules("node2")[-1] == "ct status dnat drop"


def test_renaming_a_node_keeps_its_relay():
    nodes = [node.model_dump(mode="json", by_alias=True, exclude_none=True) for node in site_config("sim").nodes]
    renamed = [{**node, "name": "worker3"} if node["name"] == "node3" else node for node in nodes]
    before = {r.name for r in sim().resources if r.name.startswith("codenvy-relay-")}
    after = {
        r.name
        for r in evaluate("sim", {"codenvy-infra:nodes": renamed}).resources
        if r.name.startswith("codenvy-relay-")
    }
    assert before == after
