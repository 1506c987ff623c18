"""The host firewall as the program registers it on each host: who may reach which port, read from the nftables ruleset
it renders."""

from __future__ import annotations

import functools
import re

import pytest

from components.host_firewall import FirewallSettings, render_nftables
from components.master_layout import ENGINE_TLS_PORT
from tests.harness import evaluate, script_of, script_parameters, site_config, stack_file_config


@functools.cache
def sim():
    return evaluate("sim")


def firewall_rules(host: str) -> str:
    return script_parameters(script_of(sim().named(f"codenvy-ws-{host}-firewall")))["RULESET"]


def test_every_sim_host_has_a_firewall():
    assert sorted(r.name for r in sim().resources if r.name.endswith("-firewall")) == [
        f"codenvy-ws-{h}-firewall" for h in ("node1", "node2", "node3")
    ]


def test_a_developer_machine_has_no_firewall():
    assert not [r for r in evaluate("dev").resources if r.name.endswith("-firewall")]


def members_set(site) -> str:
    return f"set members {{ type ipv4_addr; elements = {{ {', '.join(sorted(h.address for h in site.hosts))} }} }}"


# Rules every host's firewall has, master (node1) and worker (node2) alike.
COMMON_RULES = {
    "members-are-the-sites-hosts": members_set(site_config("sim")),
    "drop-by-default": "policy drop",
    "ssh-from-admin-sources": "tcp dport { 22 } ip saddr @ssh_sources accept",
    "swarm-gossip-from-members": "udp dport { 4789, 7946 } ip saddr @members accept",
    "other-published-ports-dropped": "ct status dnat drop",
}


@pytest.mark.parametrize("host", ["node1", "node2"])
@pytest.mark.parametrize("rule", COMMON_RULES)
def test_every_firewall_has_the_common_rule(host, rule):
    assert COMMON_RULES[rule] in firewall_rules(host)


@pytest.mark.parametrize("host", ["node1", "node2"])
def test_no_firewall_opens_postgresql(host):
    assert "5432" not in firewall_rules(host)


@pytest.mark.parametrize(("host", "opened"), [("node1", True), ("node2", False)])
def test_only_the_manager_takes_swarm_joins(host, opened):
    assert ("2377" in firewall_rules(host)) is opened


def test_the_master_lets_members_pull_from_the_registry():
    assert f"ct original proto-dst {site_config('sim').registry.port} ip saddr @members accept" in firewall_rules(
        "node1"
    )


@pytest.mark.parametrize(("host", "opened"), [("node1", False), ("node2", True)])
def test_only_hosts_running_workspaces_publish_workspace_ports(host, opened):
    # The sim stack's master hosts no workspaces.
    assert ("32768-65535" in firewall_rules(host)) is opened


def test_firewall_sources_come_from_config():
    site = site_config("sim")
    custom = site.model_copy(update={"firewall": site.firewall.model_copy(update={"ssh_cidrs": ("10.9.0.0/24",)})})
    assert "elements = { 10.9.0.0/24 }" in render_nftables(
        FirewallSettings.of(custom), custom.master, is_master=True, runs_workspaces=False
    )


def test_deleting_a_firewall_unloads_its_table():
    assert "nft delete table inet codenvy" in script_of(sim().named("codenvy-ws-node2-firewall"), "delete")


def test_a_disabled_firewall_registers_no_firewall():
    off = evaluate("sim", {"codenvy-infra:firewall": {"enabled": False}})
    assert not [r for r in off.resources if r.name.endswith("-firewall")]


def test_no_peer_site_may_pull_from_the_registry_unless_listed():
    site = site_config("sim")
    assert "@peers" not in render_nftables(
        FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=False
    )


def test_a_listed_peer_site_may_pull_from_the_registry():
    site = site_config("sim")
    with_peer = site.model_copy(update={"firewall": site.firewall.model_copy(update={"peer_cidrs": ("10.99.0.7/32",)})})
    rules = render_nftables(FirewallSettings.of(with_peer), with_peer.master, is_master=True, runs_workspaces=False)
    assert "set peers { type ipv4_addr; flags interval; elements = { 10.99.0.7/32 } }" in rules
    assert f"ct original proto-dst {site.registry.port} ip saddr @peers accept" in rules


def encrypted_rules(host: str) -> str:
    encrypted = evaluate("sim", {"codenvy-infra:network": {"mode": "overlay", "encrypted": True}})
    return script_parameters(script_of(encrypted.named(f"codenvy-ws-{host}-firewall")))["RULESET"]


@pytest.mark.parametrize("host", ["node1", "node2"])
def test_an_encrypted_overlay_lets_members_speak_ipsec_esp(host):
    """Encrypted VXLAN travels in ESP (IP protocol 50); dropped, the overlay carries nothing between hosts."""
    assert "meta l4proto esp ip saddr @members accept" in encrypted_rules(host)


def test_a_plain_overlay_admits_no_esp():
    assert "esp" not in firewall_rules("node2")


def input_chain(ruleset: str) -> list[list[str]]:
    """The input chain's rules in order, each as its words (a `{ a, b }` set read as one word per element)."""
    return [re.sub(r"[{},]", " ", line).split() for line in _chain_body(ruleset, "input")]


def _chain_body(ruleset: str, chain: str) -> list[str]:
    lines = ruleset.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == f"chain {chain} {{")
    end = next(i for i in range(start, len(lines)) if lines[i].strip() == "}")
    return [line.strip() for line in lines[start + 1 : end] if not line.strip().startswith("type ")]


def ct_states(rule: list[str]) -> set[str]:
    """The conntrack states a rule matches (`ct state X[ Y]`), empty when it matches on none."""
    if rule[:2] != ["ct", "state"]:
        return set()
    return set(rule[2:-1])


@pytest.mark.parametrize("host", ["node1", "node2"])
def test_packets_conntrack_finds_invalid_are_dropped_before_any_port_is_opened(host):
    """A packet conntrack marks invalid belongs to no connection (nftables wiki, "Matching connection tracking
    stateful metainformation"): dropped before a port rule could accept it as a new connection."""
    rules = input_chain(firewall_rules(host))
    opens_a_port = [i for i, rule in enumerate(rules) if "dport" in rule and rule[-1] == "accept"]
    drops_invalid = [i for i, rule in enumerate(rules) if "invalid" in ct_states(rule) and rule[-1] == "drop"]
    assert opens_a_port and drops_invalid and drops_invalid[0] < opens_a_port[0]


def forward_ports_from(ruleset: str) -> dict[str, set[str]]:
    """For each published port the forward chain lets in (`ct original proto-dst P ip saddr S accept`), the
    sources it lets in from."""
    admitted: dict[str, set[str]] = {}
    for rule in (re.sub(r"[{},]", " ", line).split() for line in _chain_body(ruleset, "forward")):
        if "proto-dst" in rule and rule[-1] == "accept":
            ports = rule[rule.index("proto-dst") + 1 : rule.index("ip")]
            for port in ports:
                admitted.setdefault(port, set()).add(rule[rule.index("saddr") + 1])
    return admitted


@pytest.mark.parametrize("master_hosts_workspaces", [True, False])
def test_only_a_worker_publishes_its_engine_relay_and_to_the_master_alone(master_hosts_workspaces):
    """host_firewall: a worker's engine relay is reached by the placement manager on the master; the master's
    own relay sits on its internal network, published nowhere."""
    site = site_config("sim")
    master = {**stack_file_config("sim")["codenvy-infra:master"], "hostWorkspaces": master_hosts_workspaces}
    evaluation = evaluate("sim", {"codenvy-infra:master": master})
    relay = str(ENGINE_TLS_PORT)
    admitted = {
        host.name: forward_ports_from(
            script_parameters(script_of(evaluation.named(f"codenvy-ws-{host.name}-firewall")))["RULESET"]
        ).get(relay)
        for host in site.hosts
    }
    assert admitted == {host.name: None if host is site.master else {site.master.address} for host in site.hosts}


def admitted_from_members(ruleset: str) -> set[tuple[str, int]]:
    """(protocol, port) of every input rule that lets the site's members in."""
    admitted = set()
    for rule in input_chain(ruleset):
        if rule[-2:] == ["@members", "accept"] and "dport" in rule:
            protocol, ports = rule[0], rule[rule.index("dport") + 1 : rule.index("ip")]
            admitted |= {(protocol, int(port)) for port in ports}
    return admitted


# Docker's swarm mode ports (docs "Use overlay networks", moby): node communication TCP and UDP 7946, overlay
# traffic UDP 4789, cluster management TCP 2377 on managers.
SWARM_MEMBER_PORTS = {("tcp", 7946), ("udp", 7946), ("udp", 4789)}


SWARM_MANAGER_PORTS = {("tcp", 2377)}


@pytest.mark.parametrize(("host", "manager"), [("node1", True), ("node2", False)])
def test_members_reach_each_other_on_swarms_ports(host, manager):
    wanted = SWARM_MEMBER_PORTS | (SWARM_MANAGER_PORTS if manager else set())
    assert admitted_from_members(firewall_rules(host)) & (SWARM_MEMBER_PORTS | SWARM_MANAGER_PORTS) == wanted
