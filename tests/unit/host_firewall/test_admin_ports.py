"""The firewall lets the program back in: the host's own SSH port and a TCP host's Docker TLS port stay open to the
admin sources."""

from __future__ import annotations

from components.config_loader import load_site_config
from components.host_firewall import FirewallSettings, render_nftables
from tests.stack_values import raw
from tests.unit.config.site_values import overlay


def admin_ports(ruleset: str) -> set[int]:
    (line,) = [line for line in ruleset.splitlines() if "@ssh_sources accept" in line]
    inside = line.split("{", 1)[1].split("}", 1)[0]
    return {int(port) for port in inside.split(",")}


def test_firewall_opens_the_hosts_own_ssh_port():
    site = load_site_config(raw(**overlay(nodes=[{"name": "ws1", "address": "10.9.0.2", "ssh": {"port": 2222}}])))
    node = site.nodes[0]
    assert 2222 in admin_ports(render_nftables(FirewallSettings.of(site), node, is_master=False, runs_workspaces=True))


def test_firewall_opens_the_docker_tls_port_of_a_tcp_host():
    node = {"name": "ws1", "address": "10.9.0.2", "ssh": {}, "dockerHost": "tcp://10.9.0.2:2376"}
    site = load_site_config(raw(**overlay(nodes=[{**node, "dockerCertPath": "/certs"}])))
    assert 2376 in admin_ports(
        render_nftables(FirewallSettings.of(site), site.nodes[0], is_master=False, runs_workspaces=True)
    )
