"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them."""

from __future__ import annotations

import functools
import json
import re

import pytest

from components.config import INTERNAL_PORTS
from components.config_loader import ConfigError
from tests.harness import (
    STACKS,
    Evaluation,
    container_env,
    evaluate,
    fake_image_id,
    script_of,
    script_parameters,
    site_config,
    template_of,
)

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
PROVIDER = "pulumi:providers:docker"
COMMANDS = ("command:local:Command", "command:remote:Command")
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
DATA_VOLUMES = ("pgdata", "fs", "che-machines", "logs", "instance", "registry-data")
# The master's services, as upstream's compose file has them (rsyslog, nginx, socat and zookeeper aside:
# docs/architecture.md).
MASTER_SERVICES = ("postgres", "server", "haproxy", "registry", "swarm", "agents")


@functools.cache
def shipped(stack: str) -> Evaluation:
    """A shipped stack file as it is, evaluated once for the tests that only read it."""
    return evaluate(stack)


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> tuple[str, Evaluation]:
    return request.param, shipped(request.param)


def commands(evaluation: Evaluation):
    return [r for r in evaluation.resources if r.type in COMMANDS]


def containers(evaluation: Evaluation):
    return {c.inputs["name"]: c for c in evaluation.of_type(CONTAINER)}


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


def test_the_site_runs_the_master_services_and_a_relay_on_each_workspace_host(stack):
    name, evaluation = stack
    site = site_config(name)
    services = {f"{site.site_name}-{service}" for service in MASTER_SERVICES}
    relays = {f"{site.site_name}-socat"} if site.workspace_hosts else set()
    assert {c.inputs["name"] for c in evaluation.of_type(CONTAINER)} == services | relays


def test_the_server_image_is_the_configured_version(stack):
    name, evaluation = stack
    site = site_config(name)
    assert f"{site.images.server}:{site.version}" in {i.inputs["name"] for i in evaluation.of_type(REMOTE_IMAGE)}


def test_every_pulled_image_is_pinned_to_a_tag(stack):
    _, evaluation = stack
    for image in (i.inputs["name"] for i in evaluation.of_type(REMOTE_IMAGE)):
        tag = image.rpartition("/")[2].partition(":")[2]
        assert tag and tag != "latest", image


def test_containers_run_the_pulled_images(stack):
    _, evaluation = stack
    pulled_ids = {fake_image_id(i.inputs["name"]) for i in evaluation.of_type(REMOTE_IMAGE)}
    assert {c.inputs["image"] for c in evaluation.of_type(CONTAINER)} <= pulled_ids


# Each rule of the Docker hardening the containers follow (CIS Docker Benchmark), on a container's inputs.
HARDENING = {
    "memory-limit": lambda inputs: inputs["memory"] > 0,
    # Back after a reboot, and stopped only by hand (on-failure leaves a service that exited 0 stopped).
    "restarts-after-a-reboot": lambda inputs: inputs["restart"] == "always",
    "shell-healthcheck": lambda inputs: inputs["healthcheck"]["tests"][0] == "CMD-SHELL",
    "log-rotation": lambda inputs: set(inputs["logOpts"]) == {"max-size", "max-file"},
    "unprivileged": lambda inputs: not inputs.get("privileged"),
    "no-docker-socket": lambda inputs: (
        "/var/run/docker.sock" not in [v.get("hostPath") for v in inputs.get("volumes", [])]
        or relays_with_client_certificates(inputs)
    ),
}


def relays_with_client_certificates(inputs) -> bool:
    """The engine relay is the one container that binds the engine's socket: behind TLS that verifies clients."""
    listeners = [arg for arg in inputs.get("command", []) if arg.startswith("OPENSSL-LISTEN:")]
    return len(listeners) == 1 and "verify=1" in listeners[0].split(",")


@pytest.mark.parametrize("rule", HARDENING)
def test_every_container_follows_the_hardening_rule(stack, rule):
    _, evaluation = stack
    breaking = [c.name for c in evaluation.of_type(CONTAINER) if not HARDENING[rule](c.inputs)]
    assert breaking == []


def test_no_internal_port_is_published_on_every_interface(stack):
    _, evaluation = stack
    for container in evaluation.of_type(CONTAINER):
        for port in container.inputs.get("ports", []):
            assert port["external"] not in INTERNAL_PORTS or port.get("ip"), container.name


def test_only_engine_relays_publish_the_docker_api_port(stack):
    _, evaluation = stack
    publishers = {
        c.inputs["name"]
        for c in evaluation.of_type(CONTAINER)
        for p in c.inputs.get("ports", [])
        if p["external"] == 2376
    }
    assert publishers <= {f"{site_config(stack[0]).site_name}-socat"}


def test_published_ports_come_from_config(stack):
    name, evaluation = stack
    site = site_config(name)
    published = {
        name: sorted(p["external"] for p in c.inputs.get("ports", [])) for name, c in containers(evaluation).items()
    }
    assert published[f"{site.site_name}-haproxy"] == sorted({site.master.http_port, site.master.https_port})
    assert published[f"{site.site_name}-registry"] == [site.registry.port]
    assert published[f"{site.site_name}-postgres"] == []
    assert published[f"{site.site_name}-server"] == []


def test_site_data_lives_on_named_volumes(stack):
    name, evaluation = stack
    site = site_config(name)
    volumes = {v.inputs["name"] for v in evaluation.of_type(VOLUME)}
    assert {f"{site.site_name}-{purpose}" for purpose in DATA_VOLUMES} <= volumes


def test_data_volumes_are_kept_when_the_stack_is_destroyed(stack):
    name, evaluation = stack
    site = site_config(name)
    data = {f"{site.site_name}-{purpose}" for purpose in DATA_VOLUMES}
    kept = {v.inputs["name"] for v in evaluation.of_type(VOLUME) if v.options.retain_on_delete}
    assert data <= kept


def test_postgres_keeps_its_database_on_its_volume(stack):
    name, evaluation = stack
    site = site_config(name)
    mounts = containers(evaluation)[f"{site.site_name}-postgres"].inputs["volumes"]
    assert {"volumeName": f"{site.site_name}-pgdata", "containerPath": "/var/lib/postgresql/data"} in mounts


def test_the_server_environment_names_the_sites_host(stack):
    name, evaluation = stack
    site = site_config(name)
    assert container_env(evaluation.named(f"{site.site_name}-master-server"))["CODENVY_HOST"] == site.hostname


def test_the_servers_version_file_names_the_configured_version(stack):
    name, evaluation = stack
    site = site_config(name)
    uploads = {u["file"]: u["content"] for u in evaluation.named(f"{site.site_name}-master-server").inputs["uploads"]}
    assert uploads["/instance/codenvy.ver"].strip() == site.version


def test_the_placement_manager_lists_every_workspace_host_at_its_relay(stack):
    name, evaluation = stack
    site = site_config(name)
    params = script_parameters(script_of(evaluation.named(f"{site.site_name}-master-placement-node-list")))
    expected = [f"{'codenvy-socat' if host is site.master else host.address}:2376" for host in site.workspace_hosts]
    assert params["NODE_LIST"].split() == expected


def test_the_node_list_declares_the_sites_capacity(stack):
    name, evaluation = stack
    site = site_config(name)
    params = script_parameters(script_of(evaluation.named(f"{site.site_name}-master-placement-node-list")))
    assert json.loads(params["NODE_SET"]) == site.node_set


def test_the_node_list_is_written_once_the_manager_exists(stack):
    name, evaluation = stack
    site = site_config(name)
    manager = evaluation.named(f"{site.site_name}-master-placement-container")
    assert manager.urn in evaluation.named(f"{site.site_name}-master-placement-node-list").dependencies


# Inputs that carry a secret (the database password, the registry's key and htpasswd, HAProxy's key).
SECRET_INPUTS = [("master-postgres", "envs"), ("master-server", "envs"), ("registry-container", "uploads")]
SECRET_INPUTS += [("master-haproxy", "uploads")]


@pytest.mark.parametrize(("resource", "key"), SECRET_INPUTS)
def test_inputs_holding_a_secret_are_secret(stack, resource, key):
    name, evaluation = stack
    assert key in evaluation.named(f"{site_config(name).site_name}-{resource}").secret_inputs


def test_the_registry_password_is_exported_as_a_secret(stack):
    _, evaluation = stack
    assert "registryPassword" in evaluation.secret_exports


def test_the_join_token_reaches_each_join_as_a_secret_stdin():
    joins = [c for c in commands(shipped("sim")) if c.name.endswith("-swarm-join")]
    assert joins and all("stdin" in join.secret_inputs for join in joins)


def test_the_join_script_holds_no_secret():
    joins = [c for c in commands(shipped("sim")) if c.name.endswith("-swarm-join")]
    assert joins and not [join.name for join in joins if "create" in join.secret_inputs]


def test_the_registry_serves_its_own_certificate(stack):
    name, evaluation = stack
    site = site_config(name)
    registry = evaluation.named(f"{site.site_name}-registry-container")
    uploads = {u["file"]: u["content"] for u in registry.inputs["uploads"]}
    served = uploads[container_env(registry)["REGISTRY_HTTP_TLS_CERTIFICATE"]]
    assert served == evaluation.named(f"{site.site_name}-registry-tls-cert").outputs["certPem"]


def test_the_registry_certificate_names_the_master_address(stack):
    name, evaluation = stack
    site = site_config(name)
    csr = evaluation.named(f"{site.site_name}-registry-tls-csr")
    assert site.master.address in csr.inputs.get("ipAddresses", []) + csr.inputs.get("dnsNames", [])


def test_the_registry_is_exported_at_the_masters_address(stack):
    name, evaluation = stack
    site = site_config(name)
    assert evaluation.exports["registry"] == f"{site.master.address}:{site.registry.port}"


def test_the_exported_registry_ca_is_the_sites_ca_certificate(stack):
    name, evaluation = stack
    ca = evaluation.named(f"{site_config(name).site_name}-ca-cert")
    assert evaluation.exports["registryCaCert"] == ca.outputs["certPem"]


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


# --- topology --------------------------------------------------------------------------------


def test_dev_uses_bridge_networks_only():
    assert {n.inputs["driver"] for n in shipped("dev").of_type(NETWORK)} == {"bridge"}


def test_dev_reaches_only_the_local_docker_socket():
    assert [p.inputs["host"] for p in shipped("dev").of_type(PROVIDER)] == ["unix:///var/run/docker.sock"]


def test_dev_runs_no_command_over_ssh():
    assert {c.type for c in commands(shipped("dev"))} == {"command:local:Command"}


def test_dev_leaves_the_developers_own_engine_unconfigured():
    reconfiguring = ("daemon-config", "swarm", "registry-ca")
    assert [c.name for c in commands(shipped("dev")) if any(kind in c.name for kind in reconfiguring)] == []


def node_address(name: str) -> str:
    """Each test node's own address, whatever nodes are listed with it: ws1 at 10.8.0.2, ws2 at .3, ..."""
    return f"10.8.0.{int(name.removeprefix('ws')) + 1}"


def overlay_evaluation(node_names: list[str], **overrides) -> Evaluation:
    nodes = [
        {"name": n, "address": node_address(n), "ssh": {"user": "root"}, "ramGb": 4, "cpus": 2} for n in node_names
    ]
    return evaluate(
        "dev",
        {
            "codenvy-infra:network": {"mode": "overlay", "encrypted": True},
            "codenvy-infra:master": {"name": "boss", "address": "10.8.0.1", "ssh": {"user": "root"}},
            "codenvy-infra:nodes": nodes,
            **overrides,
        },
    )


@functools.cache
def two_node_overlay() -> Evaluation:
    return overlay_evaluation(["ws1", "ws2"])


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


def daemon_config(**overrides) -> dict:
    return overlay_evaluation(["ws1"], **overrides).named("codenvy-ws-ws1-daemon-config").inputs


def test_an_unchanged_daemon_config_keeps_its_trigger():
    assert daemon_config()["triggers"] == daemon_config()["triggers"]


def test_a_changed_daemon_config_changes_its_trigger():
    assert daemon_config()["triggers"] != daemon_config(**{"codenvy-infra:logs": {"maxSize": "20m"}})["triggers"]


def node_daemon_json(evaluation: Evaluation, node: str) -> dict:
    return json.loads(script_parameters(script_of(evaluation.named(f"codenvy-ws-{node}-daemon-config")))["DAEMON_JSON"])


def test_the_daemon_config_carries_the_configured_log_size():
    evaluation = overlay_evaluation(["ws1"], **{"codenvy-infra:logs": {"maxSize": "20m"}})
    assert node_daemon_json(evaluation, "ws1")["log-opts"]["max-size"] == "20m"


def test_no_node_daemon_trusts_an_insecure_registry():
    assert "insecure-registries" not in node_daemon_json(two_node_overlay(), "ws1")


def test_nodes_trust_the_registry_ca_at_the_registry_address():
    params = script_parameters(script_of(two_node_overlay().named("codenvy-ws-ws1-registry-ca")))
    assert params["TARGET"] == "/etc/docker/certs.d/10.8.0.1:5000/ca.crt"


def test_nodes_trust_the_sites_own_ca():
    evaluation = two_node_overlay()
    params = script_parameters(script_of(evaluation.named("codenvy-ws-ws1-registry-ca")))
    assert params["CONTENT"] == evaluation.named("codenvy-ca-cert").outputs["certPem"]


def urn_inputs(evaluation: Evaluation) -> dict[str, dict]:
    return {r.urn: r.inputs for r in evaluation.resources}


@functools.cache
def adding_a_node() -> tuple[dict[str, dict], dict[str, dict]]:
    """Every resource's inputs by URN, before and after a third node is added."""
    return urn_inputs(two_node_overlay()), urn_inputs(overlay_evaluation(["ws1", "ws2", "ws3"]))


def test_adding_a_node_keeps_every_resource():
    before, after = adding_a_node()
    assert set(before) <= set(after)


def test_adding_a_node_adds_only_that_nodes_resources():
    before, after = adding_a_node()
    added = set(after) - set(before)
    relay = f"codenvy-relay-{node_address('ws3').replace('.', '-')}"
    assert added and all(re.search(rf"codenvy-ws-ws3|-ws3-docker|{relay}", urn) for urn in added)


def test_adding_a_node_changes_only_the_placement_managers_node_list_commands():
    before, after = adding_a_node()
    changed = {urn.rsplit("::", 1)[-1] for urn in before if before[urn] != after[urn]}
    assert changed == {"codenvy-master-placement-node-list", "codenvy-master-placement-ready"}, "no service"


def test_removing_a_node_removes_only_that_nodes_resources():
    before = {r.urn for r in overlay_evaluation(["ws1", "ws2", "ws3"]).resources}
    after = {r.urn for r in overlay_evaluation(["ws1", "ws3"]).resources}
    removed = before - after
    assert after <= before
    relay = f"codenvy-relay-{node_address('ws2').replace('.', '-')}"
    assert removed and all("ws2" in urn or relay in urn for urn in removed)


def test_no_node_waits_on_another_node():
    evaluation = overlay_evaluation(["ws1", "ws2", "ws3"])
    for resource in evaluation.resources:
        own = resource.name.split("-")[2] if resource.name.startswith("codenvy-ws-") else None
        for dependency in resource.dependencies:
            other = dependency.rsplit("::", 1)[-1]
            if own and other.startswith("codenvy-ws-"):
                assert other.split("-")[2] == own, f"{resource.name} waits on {other}"


# --- validation before registration --------------------------------------------------------


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


@functools.cache
def with_secret_ssh_key() -> Evaluation:
    key = {"codenvy-infra:sshPrivateKey": "-----BEGIN KEY-----"}
    return evaluate("sim", key, secret_keys=tuple(key))


def test_the_ssh_private_key_from_secret_config_reaches_every_connection():
    keys = {command.inputs["connection"]["privateKey"] for command in commands(with_secret_ssh_key())}
    assert keys == {"-----BEGIN KEY-----"}


def test_every_connection_holding_the_ssh_key_is_secret():
    holding = [c for c in commands(with_secret_ssh_key()) if c.inputs["connection"].get("privateKey")]
    assert holding and all("connection" in c.secret_inputs for c in holding)


def critical_path(evaluation: Evaluation) -> int:
    """The longest chain of resources each waiting on the one before (explicit and input dependencies)."""
    by_urn = {r.urn: r for r in evaluation.resources}
    depth: dict[str, int] = {}

    def chain(urn: str) -> int:
        if urn not in depth:
            waits_on = [d for d in by_urn[urn].dependencies if d in by_urn]
            depth[urn] = 1 + max((chain(d) for d in waits_on), default=0)
        return depth[urn]

    return max(chain(urn) for urn in by_urn)


def test_converge_critical_path_does_not_grow_with_the_number_of_nodes():
    assert critical_path(overlay_evaluation(["ws1", "ws2"])) == critical_path(
        overlay_evaluation([f"ws{i}" for i in range(1, 9)])
    )
