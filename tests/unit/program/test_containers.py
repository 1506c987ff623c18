"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: the containers it
runs, their images, ports and volumes."""

from __future__ import annotations

import pytest

from components.config import INTERNAL_PORTS
from tests.harness import Evaluation, container_env, fake_image_id, site_config

CONTAINER = "docker:index/container:Container"


REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


VOLUME = "docker:index/volume:Volume"


DATA_VOLUMES = ("pgdata", "fs", "che-machines", "logs", "instance", "registry-data")


# The master's services, as upstream's compose file has them (rsyslog, nginx, socat and zookeeper aside:
# docs/architecture.md).
MASTER_SERVICES = ("postgres", "server", "haproxy", "registry", "swarm", "agents")


def containers(evaluation: Evaluation):
    return {c.inputs["name"]: c for c in evaluation.of_type(CONTAINER)}


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
