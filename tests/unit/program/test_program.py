"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: which components it
builds, under which parents and providers, and what it exports."""

from __future__ import annotations

import re

import pytest

from components.config_loader import ConfigError
from tests.harness import STACKS, Evaluation, evaluate, site_config
from tests.unit.program.shipped import NETWORK, commands, shipped

PROVIDER = "pulumi:providers:docker"


COMPONENTS = {
    "Site",
    "MasterNode",
    "Registry",
    "AppServer",
    "LoadBalancer",
    "WorkspaceNetwork",
    "DockerHost",
    "DatabaseReplication",
    "PlacementManager",
    "EngineRelay",
    "AgentsService",
    "CertificateAuthority",
    "Backups",
    "DisasterRecovery",
}


def test_the_stacks_the_layout_names_are_shipped():
    assert {"dev", "dr"} <= set(STACKS)


def test_shipped_stacks_cover_both_roles():
    assert {site_config(name).role for name in STACKS} == {"primary", "standby"}


def test_shipped_stacks_cover_both_network_modes():
    assert {site_config(name).network.mode for name in STACKS} == {"bridge", "overlay"}


def test_every_component_has_a_codenvy_infra_type(stack):
    _, evaluation = stack
    types = {
        r.type
        for r in evaluation.resources
        if not r.type.startswith(("docker:", "tls:", "random:", "command:", "pulumi:"))
    }
    assert types <= {f"codenvy:infra:{name}" for name in COMPONENTS}


def test_every_resource_but_the_site_lives_inside_a_component(stack):
    _, evaluation = stack
    outside = [
        r.name
        for r in evaluation.resources
        if r.type != "codenvy:infra:Site" and not r.parent_type.startswith("codenvy:infra:")
    ]
    assert outside == []


def test_one_docker_provider_per_host(stack):
    name, evaluation = stack
    hosts = sorted(p.inputs["host"] for p in evaluation.of_type(PROVIDER))
    assert hosts == sorted(h.docker_endpoint for h in site_config(name).hosts)


def test_every_docker_resource_uses_a_hosts_provider(stack):
    _, evaluation = stack
    provider_urns = {p.urn for p in evaluation.of_type(PROVIDER)}
    on_default = [
        r.name
        for r in evaluation.resources
        if r.type.startswith("docker:") and r.provider.rsplit("::", 1)[0] not in provider_urns
    ]
    assert on_default == []


# What the exports tell users and the standby of a site, from its config.
EXPORTED = {
    "version": lambda site: site.version,
    "role": lambda site: site.role,
    "networkMode": lambda site: site.network.mode,
    "managerAddress": lambda site: site.master.address,
    "nodes": lambda site: [
        {"name": h.name, "address": h.address, "ramGb": h.ram_gb, "cpus": h.cpus} for h in site.workspace_hosts
    ],
}


@pytest.mark.parametrize("key", EXPORTED)
def test_an_export_describes_the_site(stack, key):
    name, evaluation = stack
    assert evaluation.exports[key] == EXPORTED[key](site_config(name))


def test_the_exported_url_uses_https_when_the_site_does(stack):
    name, evaluation = stack
    scheme = evaluation.exports["url"].split("://", 1)[0]
    assert scheme == ("https" if site_config(name).https else "http")


def test_every_resource_has_a_urn_of_its_own(stack):
    _, evaluation = stack
    urns = [r.urn for r in evaluation.resources]
    assert len(set(urns)) == len(urns)


def test_dev_uses_bridge_networks_only():
    assert {n.inputs["driver"] for n in shipped("dev").of_type(NETWORK)} == {"bridge"}


def test_dev_reaches_only_the_local_docker_socket():
    assert [p.inputs["host"] for p in shipped("dev").of_type(PROVIDER)] == ["unix:///var/run/docker.sock"]


def test_dev_runs_no_command_over_ssh():
    assert {c.type for c in commands(shipped("dev"))} == {"command:local:Command"}


def test_dev_leaves_the_developers_own_engine_unconfigured():
    reconfiguring = ("daemon-config", "swarm", "registry-ca")
    assert [c.name for c in commands(shipped("dev")) if any(kind in c.name for kind in reconfiguring)] == []


@pytest.mark.parametrize(
    ("overrides", "key"),
    [
        ({"codenvy-infra:network": {"mode": "mesh"}}, "codenvy-infra:network.mode"),
        ({"codenvy-infra:registryPort": 5000}, "codenvy-infra:registryPort"),
        ({"codenvy-infra:images": {"postgres": "postgres"}}, "codenvy-infra:images.postgres"),
    ],
)
def test_bad_config_fails_before_any_resource_is_registered(overrides, key):
    attempt = Evaluation()
    with pytest.raises(ConfigError, match=re.escape(key)):
        evaluate("dev", overrides, into=attempt)
    assert attempt.resources == []
