"""Components built one at a time from settings made here, not from a stack file: each registers what its
settings ask for and nothing else (the whole-program tests are in test_program.py)."""

from __future__ import annotations

from ipaddress import IPv4Network, ip_address

import pulumi
import pulumi_docker as docker
import pytest

from components.certificate_authority import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    CertificateAuthoritySettings,
)
from components.config import FirewallConfig, HostConfig, LogConfig, NetworkConfig, ProxyConfig, RegistryConfig
from components.containers import ContainerSettings
from components.docker_daemon import DaemonSettings
from components.docker_host import DockerHost, DockerHostArgs, DockerHostSettings
from components.host_access import connect_host
from components.host_firewall import FirewallSettings
from components.load_balancer import HAPROXY_CERT_PATH, LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from components.registry import Registry, RegistryArgs, RegistrySettings
from components.workspace_network import WorkspaceNetwork, WorkspaceNetworkArgs, WorkspaceNetworkSettings
from tests.harness import Evaluation, run_under_mocks, script_of, script_parameters

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
COMMANDS = ("command:local:Command", "command:remote:Command")
LOCAL = HostConfig(name="here", address="127.0.0.1")
REMOTE = HostConfig(name="far", address="10.1.0.2", ssh={"hostKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO"})
SHARED = ContainerSettings(site_name="unit", logs=LogConfig(), running=True)
ONE_CA = CertificateAuthoritySettings(site_name="unit", trusted=(1,), signing=1)


def built(make) -> Evaluation:
    """What `make(parent)` registers, under a parent component of its own."""

    def program() -> None:
        make(pulumi.ComponentResource("codenvy:test:Holder", "holder"))

    return run_under_mocks(program, stack="unit", config={})


def registry_settings(**config) -> RegistrySettings:
    return RegistrySettings(
        config=RegistryConfig(**config),
        address="10.1.0.1:5000",
        image="registry:2.8.3",
        memory_mb=256,
        master_name="boss",
        master_address="10.1.0.1",
        hostname="ide.example.org",
        containers=SHARED,
    )


def make_registry(settings: RegistrySettings):
    def make(parent):
        host = connect_host("unit", LOCAL, None, parent)
        ca = CertificateAuthority(
            "unit-ca", CertificateAuthorityArgs(settings=ONE_CA), pulumi.ResourceOptions(parent=parent)
        )
        Registry(
            "unit-registry", RegistryArgs(settings=settings, master=host, ca=ca), pulumi.ResourceOptions(parent=parent)
        )

    return make


def envs_of(evaluation: Evaluation, name: str) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in evaluation.named(name).inputs["envs"])


def test_registry_alone_publishes_its_configured_port():
    evaluation = built(make_registry(registry_settings(port=5443)))
    (port,) = evaluation.named("unit-registry-container").inputs["ports"]
    assert (port["internal"], port["external"]) == (5000, 5443)


def test_registry_without_tls_issues_no_certificate():
    evaluation = built(make_registry(registry_settings(tls=False)))
    assert not [r for r in evaluation.resources if r.name.startswith("unit-registry-tls")]
    assert "REGISTRY_HTTP_TLS_CERTIFICATE" not in envs_of(evaluation, "unit-registry-container")


def test_registry_without_auth_creates_no_password():
    evaluation = built(make_registry(registry_settings(auth="none")))
    assert not [r for r in evaluation.resources if r.name == "unit-registry-password"]
    assert "REGISTRY_AUTH" not in envs_of(evaluation, "unit-registry-container")


@pytest.mark.parametrize("tls", [True, False])
def test_registry_serves_its_debug_endpoints_inside_its_container_only(tls):
    """distribution's debug server (REGISTRY_HTTP_DEBUG_ADDR; registry/registry.go) answers /debug/vars and
    /debug/pprof to anyone who reaches it, with no TLS and no auth: a loopback address keeps it in the container."""
    evaluation = built(make_registry(registry_settings(tls=tls)))
    host, _, port = envs_of(evaluation, "unit-registry-container")["REGISTRY_HTTP_DEBUG_ADDR"].rpartition(":")
    assert ip_address(host).is_loopback and port.isdigit()


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


def balancer_settings(https: bool) -> LoadBalancerSettings:
    return LoadBalancerSettings(
        hostname="ide.example.org",
        https=https,
        master_address="10.1.0.1",
        http_port=8081,
        https_port=8443,
        image="haproxy:2.8.5",
        memory_mb=64,
        containers=SHARED,
    )


def make_balancer(settings: LoadBalancerSettings):
    def make(parent):
        host = connect_host("unit", LOCAL, None, parent)
        ca = CertificateAuthority(
            "unit-ca", CertificateAuthorityArgs(settings=ONE_CA), pulumi.ResourceOptions(parent=parent)
        )
        internal = docker.ContainerNetworksAdvancedArgs(name="unit-internal", aliases=["haproxy"])
        LoadBalancer(
            "unit-lb",
            LoadBalancerArgs(
                settings=settings,
                host=host,
                ca=ca,
                internal_network=internal,
                moved=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=parent)]),
                prefix="unit-master",
                depends_on=[],
                host_ready=[],
            ),
            pulumi.ResourceOptions(parent=parent),
        )

    return make


@pytest.mark.parametrize(("https", "published"), [(True, [(80, 8081), (443, 8443)]), (False, [(80, 8081)])])
def test_load_balancer_publishes_https_only_when_it_serves_it(https, published):
    evaluation = built(make_balancer(balancer_settings(https)))
    ports = evaluation.named("unit-master-haproxy").inputs["ports"]
    assert [(port["internal"], port["external"]) for port in ports] == published


def test_load_balancer_uploads_a_certificate_only_for_https():
    plain = built(make_balancer(balancer_settings(False))).named("unit-master-haproxy").inputs["uploads"]
    assert HAPROXY_CERT_PATH not in [upload["file"] for upload in plain]


def test_load_balancer_keeps_the_names_its_resources_had_under_the_master():
    evaluation = built(make_balancer(balancer_settings(True)))
    names = {r.name for r in evaluation.resources if r.type != "codenvy:infra:LoadBalancer"}
    assert {"unit-master-haproxy", "unit-master-haproxy-image", "unit-master-https-cert"} <= names


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
