"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them."""

from __future__ import annotations

import json
import re

import pytest

from components.config import INTERNAL_PORTS
from components.stack_config import ConfigError
from tests.harness import STACKS, Evaluation, evaluate, fake_image_id, script_of, script_parameters, site_config

CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
PROVIDER = "pulumi:providers:docker"
COMMANDS = ("command:local:Command", "command:remote:Command")
COMPONENTS = {
    "Site",
    "MasterNode",
    "Registry",
    "OverlayNetwork",
    "WorkspaceNode",
    "CertificateAuthority",
    "Backups",
    "DisasterRecovery",
}


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> tuple[str, Evaluation]:
    return request.param, evaluate(request.param)


def commands(evaluation: Evaluation):
    return [r for r in evaluation.resources if r.type in COMMANDS]


def test_shipped_stacks_include_primary_standby_and_an_overlay_site():
    assert {"dev", "dr"} <= set(STACKS)
    modes = {site_config(name).network.mode for name in STACKS}
    roles = {site_config(name).role for name in STACKS}
    assert modes == {"bridge", "overlay"}
    assert roles == {"primary", "standby"}


def test_every_component_is_typed_and_every_resource_has_a_parent(stack):
    _, evaluation = stack
    types = {
        r.type
        for r in evaluation.resources
        if not r.type.startswith(("docker:", "tls:", "random:", "command:", "pulumi:"))
    }
    assert types <= {f"codenvy:infra:{name}" for name in COMPONENTS}
    for resource in evaluation.resources:
        if resource.type == "codenvy:infra:Site":
            continue
        assert resource.parent_type.startswith("codenvy:infra:"), f"{resource.name} is not inside a component"


def test_one_docker_provider_per_host_and_every_docker_resource_uses_one(stack):
    name, evaluation = stack
    site = site_config(name)
    providers = evaluation.of_type(PROVIDER)
    assert sorted(p.inputs["host"] for p in providers) == sorted(h.docker_endpoint for h in site.hosts)
    provider_urns = {p.urn for p in providers}
    for resource in evaluation.resources:
        if resource.type.startswith("docker:"):
            assert resource.provider.rsplit("::", 1)[0] in provider_urns, f"{resource.name} uses the default provider"


def test_master_runs_postgres_server_haproxy_and_registry(stack):
    name, evaluation = stack
    site = site_config(name)
    containers = {c.inputs["name"]: c for c in evaluation.of_type(CONTAINER)}
    expected = {f"{site.site_name}-{svc}" for svc in ("postgres", "server", "haproxy", "registry")}
    assert set(containers) == expected


def test_images_are_pinned_and_the_server_runs_the_configured_version(stack):
    name, evaluation = stack
    site = site_config(name)
    pulled = {image.inputs["name"] for image in evaluation.of_type(REMOTE_IMAGE)}
    assert f"{site.images.server}:{site.version}" in pulled
    for image in pulled:
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
    images_by_id = {fake_image_id(image) for image in pulled}
    for container in evaluation.of_type(CONTAINER):
        assert container.inputs["image"] in images_by_id, "containers run the pulled, pinned image"


def test_containers_are_hardened(stack):
    _, evaluation = stack
    for container in evaluation.of_type(CONTAINER):
        inputs = container.inputs
        assert inputs["memory"] > 0
        assert inputs["restart"] == "on-failure" and inputs["maxRetryCount"] > 0
        assert inputs["healthcheck"]["tests"][0] == "CMD-SHELL"
        assert set(inputs["logOpts"]) == {"max-size", "max-file"}
        assert not inputs.get("privileged")
        mounts = [v.get("hostPath", "") for v in inputs.get("volumes", [])]
        assert "/var/run/docker.sock" not in mounts


def test_no_internal_port_is_published(stack):
    _, evaluation = stack
    for container in evaluation.of_type(CONTAINER):
        for port in container.inputs.get("ports", []):
            assert port["external"] not in INTERNAL_PORTS, container.name


def test_published_ports_come_from_config(stack):
    name, evaluation = stack
    site = site_config(name)
    published = {
        c.inputs["name"]: sorted(p["external"] for p in c.inputs.get("ports", []))
        for c in evaluation.of_type(CONTAINER)
    }
    assert published[f"{site.site_name}-haproxy"] == sorted({site.master.http_port, site.master.https_port})
    assert published[f"{site.site_name}-registry"] == [site.registry.port]
    assert published[f"{site.site_name}-postgres"] == []
    assert published[f"{site.site_name}-server"] == []


def test_data_lives_on_named_volumes_kept_on_destroy(stack):
    name, evaluation = stack
    site = site_config(name)
    volumes = {v.inputs["name"] for v in evaluation.of_type("docker:index/volume:Volume")}
    for purpose in ("pgdata", "fs", "che-machines", "instance", "registry-data"):
        assert f"{site.site_name}-{purpose}" in volumes
    containers = {c.inputs["name"]: c for c in evaluation.of_type(CONTAINER)}
    postgres_mounts = {v["containerPath"] for v in containers[f"{site.site_name}-postgres"].inputs["volumes"]}
    assert "/var/lib/postgresql/data" in postgres_mounts


def test_server_environment_and_version_file_follow_config(stack):
    name, evaluation = stack
    site = site_config(name)
    server = evaluation.named(f"{site.site_name}-master-server")
    env = dict(item.split("=", 1) for item in server.inputs["envs"])
    assert env["CODENVY_HOST"] == site.hostname
    assert env["CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"] == site.network.mode
    assert "envs" in server.secret_inputs, "the database password makes the environment secret"
    uploads = {u["file"]: u["content"] for u in server.inputs["uploads"]}
    assert uploads["/instance/codenvy.ver"].strip() == site.version


def test_the_workspace_nodes_are_written_into_the_servers_instance_folder(stack):
    name, evaluation = stack
    site = site_config(name)
    command = evaluation.named(f"{site.site_name}-master-workspace-nodes")
    params = script_parameters(script_of(command))
    assert json.loads(params["NODE_SET"]) == site.node_set
    assert params["CONTAINER"] == evaluation.named(f"{site.site_name}-master-server").inputs["name"]
    assert params["TARGET"].startswith("/instance/")
    assert evaluation.named(f"{site.site_name}-master-server").urn in command.dependencies


def test_secrets_stay_secret(stack):
    name, evaluation = stack
    site = site_config(name)
    assert "registryPassword" in evaluation.secret_exports
    assert "envs" in evaluation.named(f"{site.site_name}-master-postgres").secret_inputs
    assert "uploads" in evaluation.named(f"{site.site_name}-registry-container").secret_inputs
    assert "uploads" in evaluation.named(f"{site.site_name}-master-haproxy").secret_inputs
    for join in (c for c in commands(evaluation) if c.name.endswith("-swarm-join")):
        assert "stdin" in join.secret_inputs, "the join token reaches the join on stdin"
        assert "create" not in join.secret_inputs, "the join script itself holds no secret"


def test_registry_serves_tls_from_the_site_ca(stack):
    name, evaluation = stack
    site = site_config(name)
    registry = evaluation.named(f"{site.site_name}-registry-container")
    env = dict(item.split("=", 1) for item in registry.inputs["envs"])
    assert env["REGISTRY_HTTP_TLS_CERTIFICATE"] in {u["file"] for u in registry.inputs["uploads"]}
    csr = evaluation.named(f"{site.site_name}-registry-tls-csr")
    assert site.master.address in csr.inputs.get("ipAddresses", []) + csr.inputs.get("dnsNames", [])
    assert evaluation.exports["registry"] == f"{site.master.address}:{site.registry.port}"
    assert evaluation.exports["registryCaCert"] == evaluation.named(f"{site.site_name}-ca-cert").inputs.get(
        "certPem", evaluation.exports["registryCaCert"]
    )


def test_exports_describe_the_site_for_users_and_the_dr_stack(stack):
    name, evaluation = stack
    site = site_config(name)
    exports = evaluation.exports
    assert exports["version"] == site.version and exports["role"] == site.role
    assert exports["networkMode"] == site.network.mode
    assert exports["managerAddress"] == site.master.address
    assert [n["name"] for n in exports["nodes"]] == [h.name for h in site.workspace_hosts]
    assert [(n["ramGb"], n["cpus"]) for n in exports["nodes"]] == [(h.ram_gb, h.cpus) for h in site.workspace_hosts]
    assert exports["url"].startswith("https://" if site.https else "http://")


def test_every_resource_has_a_urn_of_its_own(stack):
    _, evaluation = stack
    urns = [r.urn for r in evaluation.resources]
    assert len(set(urns)) == len(urns)


# --- topology --------------------------------------------------------------------------------


def test_dev_is_bridge_mode_on_the_local_engine_without_touching_its_daemon():
    evaluation = evaluate("dev")
    networks = evaluation.of_type("docker:index/network:Network")
    assert {n.inputs["driver"] for n in networks} == {"bridge"}
    assert [p.inputs["host"] for p in evaluation.of_type(PROVIDER)] == ["unix:///var/run/docker.sock"]
    local = [c.name for c in commands(evaluation)]
    assert {c.type for c in commands(evaluation)} == {"command:local:Command"}, "no SSH in dev"
    assert not [name for name in local if "daemon-config" in name or "swarm" in name or "registry-ca" in name], (
        "a developer's own engine is not reconfigured"
    )


def overlay_evaluation(node_names: list[str]) -> Evaluation:
    nodes = [
        {"name": n, "address": f"10.8.0.{i + 2}", "ssh": {"user": "root"}, "ramGb": 4, "cpus": 2}
        for i, n in enumerate(node_names)
    ]
    return evaluate(
        "dev",
        {
            "codenvy-infra:network": {"mode": "overlay", "encrypted": True},
            "codenvy-infra:master": {"name": "boss", "address": "10.8.0.1", "ssh": {"user": "root"}},
            "codenvy-infra:nodes": nodes,
        },
    )


def test_overlay_initialises_swarm_on_the_master_and_creates_an_attachable_encrypted_network():
    evaluation = overlay_evaluation(["ws1", "ws2"])
    init = [c for c in commands(evaluation) if c.name.endswith("-swarm-init")]
    assert len(init) == 1 and "--advertise-addr" in init[0].inputs["create"]
    assert init[0].inputs["connection"]["host"] == "10.8.0.1"
    (overlay,) = [n for n in evaluation.of_type("docker:index/network:Network") if n.inputs["driver"] == "overlay"]
    assert overlay.inputs["attachable"] is True
    assert "encrypted" in overlay.inputs["options"]
    assert init[0].urn in overlay.dependencies


def test_each_overlay_node_joins_through_its_own_connection_and_is_checked_from_the_manager():
    evaluation = overlay_evaluation(["ws1", "ws2"])
    for node, address in (("ws1", "10.8.0.2"), ("ws2", "10.8.0.3")):
        join = evaluation.named(f"codenvy-ws-{node}-swarm-join")
        assert join.inputs["connection"]["host"] == address
        assert "MANAGER_ADDR=10.8.0.1" in join.inputs["create"] and "/swarm/join" in join.inputs["create"]
        assert "swarm leave" in join.inputs["delete"]
        membership = evaluation.named(f"codenvy-ws-{node}-membership")
        assert membership.inputs["connection"]["host"] == "10.8.0.1"
        assert "node inspect" in membership.inputs["create"]
        assert "drain" in membership.inputs["delete"] and "node rm" in membership.inputs["delete"]
        assert join.urn in membership.dependencies


def test_daemon_config_is_replaced_only_when_its_content_changes():
    before = overlay_evaluation(["ws1"]).named("codenvy-ws-ws1-daemon-config")
    same = overlay_evaluation(["ws1"]).named("codenvy-ws-ws1-daemon-config")
    assert before.inputs["triggers"] == same.inputs["triggers"]
    changed = evaluate(
        "dev",
        {
            "codenvy-infra:network": {"mode": "overlay"},
            "codenvy-infra:master": {"name": "boss", "address": "10.8.0.1", "ssh": {"user": "root"}},
            "codenvy-infra:nodes": [{"name": "ws1", "address": "10.8.0.2", "ssh": {}, "ramGb": 4, "cpus": 2}],
            "codenvy-infra:logs": {"maxSize": "20m"},
        },
    ).named("codenvy-ws-ws1-daemon-config")
    assert before.inputs["triggers"] != changed.inputs["triggers"]
    assert '"max-size": "20m"' in changed.inputs["create"]


def test_nodes_trust_the_registry_ca_at_the_registry_address():
    evaluation = overlay_evaluation(["ws1"])
    trust = evaluation.named("codenvy-ws-ws1-registry-ca")
    assert "TARGET=/etc/docker/certs.d/10.8.0.1:5000/ca.crt" in trust.inputs["create"]
    assert "insecure" not in trust.inputs["create"]


def test_adding_a_node_adds_only_that_nodes_resources():
    before = {r.urn: r.inputs for r in overlay_evaluation(["ws1", "ws2"]).resources}
    after = {r.urn: r.inputs for r in overlay_evaluation(["ws1", "ws2", "ws3"]).resources}
    added = set(after) - set(before)
    assert set(before) <= set(after)
    assert added and all("codenvy-ws-ws3" in urn or "-ws3-docker" in urn for urn in added)
    changed = {urn for urn in before if before[urn] != after[urn]}
    assert changed == {u for u in before if u.endswith("::codenvy-master-workspace-nodes")}, "not the server"


def test_removing_a_node_removes_only_that_nodes_resources():
    before = {r.urn for r in overlay_evaluation(["ws1", "ws2", "ws3"]).resources}
    after = {r.urn for r in overlay_evaluation(["ws1", "ws3"]).resources}
    assert after <= before
    assert all("ws2" in urn for urn in before - after)


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


def test_ssh_private_key_from_secret_config_reaches_connections_as_a_secret():
    evaluation = evaluate(
        "sim", {"codenvy-infra:sshPrivateKey": "-----BEGIN KEY-----"}, secret_keys=("codenvy-infra:sshPrivateKey",)
    )
    for command in commands(evaluation):
        assert command.inputs["connection"]["privateKey"] == "-----BEGIN KEY-----"
        assert "connection" in command.secret_inputs


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
