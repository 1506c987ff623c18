"""The DockerHost component built alone from settings made here: the daemon config, the registry's trust and the
firewall, in order."""

from __future__ import annotations

from ipaddress import IPv4Network

import pulumi

from components.config import FirewallConfig, HostConfig, LogConfig, ProxyConfig
from components.docker_daemon import DaemonSettings
from components.docker_host import DockerHost, DockerHostArgs, DockerHostSettings
from components.host_access import connect_host
from components.host_firewall import FirewallSettings
from tests.harness import Evaluation, script_of, script_parameters
from tests.unit.built_alone import COMMANDS, LOCAL, built

REMOTE = HostConfig(name="far", address="10.1.0.2", ssh={"hostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO"})


def host_settings(firewall: bool) -> DockerHostSettings:
    return DockerHostSettings(
        daemon=DaemonSettings(site_name="unit", logs=LogConfig(), proxy=ProxyConfig()),
        registry_address="10.1.0.1:5000",
        master_hosts_workspaces=True,
        firewall=FirewallSettings(
            enabled=firewall,
            config=FirewallConfig(ssh_cidrs=(IPv4Network("10.0.0.0/8"),)),
            member_addresses=("10.1.0.1", "10.1.0.2"),
            http_port=80,
            https_port=443,
            registry_port=5000,
            master_address="10.1.0.1",
        ),
    )


def make_docker_host(settings: DockerHostSettings, host_config: HostConfig):
    def make(parent):
        host = connect_host("unit", host_config, None, parent)
        manager = connect_host("unit-manager", LOCAL, None, parent)
        DockerHost(
            "unit-ws",
            DockerHostArgs(settings=settings, host=host, manager=manager, registry_ca_pem="PEM", join_token=None),
            pulumi.ResourceOptions(parent=parent),
        )

    return make


def commands_of(evaluation: Evaluation) -> set[str]:
    return {r.name for r in evaluation.resources if r.type in COMMANDS}


def test_docker_host_without_firewall_configures_daemon_and_registry_trust():
    evaluation = built(make_docker_host(host_settings(firewall=False), REMOTE))
    assert commands_of(evaluation) == {"unit-ws-daemon-config", "unit-ws-registry-ca"}


def test_docker_host_with_firewall_applies_it_after_the_daemon():
    evaluation = built(make_docker_host(host_settings(firewall=True), REMOTE))
    firewall = evaluation.named("unit-ws-firewall")
    daemon = evaluation.named("unit-ws-daemon-config")
    assert daemon.urn in firewall.dependencies


def test_docker_host_trusts_the_registry_at_its_address():
    evaluation = built(make_docker_host(host_settings(firewall=False), REMOTE))
    target = script_parameters(script_of(evaluation.named("unit-ws-registry-ca")))["TARGET"]
    assert target == "/etc/docker/certs.d/10.1.0.1:5000/ca.crt"


def test_docker_host_of_a_machine_it_does_not_manage_registers_nothing_to_run():
    evaluation = built(make_docker_host(host_settings(firewall=True), LOCAL))
    assert commands_of(evaluation) == set()
