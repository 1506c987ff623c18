"""What the real engine and docker provider make of the containers and networks the program registers.

pulumi-docker 5.2 bridges kreuzwerker/terraform-provider-docker v4.5.0. The rules below come from its
internal/provider/resource_docker_{container,network}*.go, from moby, and from pulumi/pulumi's step
generator; each test evaluates the real program under mocks and applies one rule to what it registered.
Sections follow the items of issue 11 ("What a real `pulumi up` would break")."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from components import app_server
from components.load_balancer import HAPROXY_CERT_PATH, render_haproxy_cfg
from tests import harness
from tests.engine import docker_provider
from tests.engine.docker_provider import MIB, container_state
from tests.engine.rules import CONTAINER, Diff, diff, with_container_defaults
from tests.harness import (
    FabricatingMocks,
    container_file,
    evaluate,
    properties_of,
    script_of,
    site_config,
    stack_file_config,
)

MACHINE_PROPERTIES = "/opt/codenvy-data/conf/machine.properties"

NETWORK = "docker:index/network:Network"
DEV = harness.full_stack_name("dev")
# moby daemon/daemon_unix.go (adaptContainerSettings): a memory limit without a swap limit is stored with
# swap = twice the memory.
DAEMON_SWAP_FACTOR = 2
# What the daemon adds to an overlay network's options (the VXLAN IDs it picked); the provider reads all
# options back (resource_docker_network_funcs.go, resourceDockerNetworkReadRefreshFunc).
VXLAN_OPTION = "com.docker.network.driver.overlay.vxlanid_list"
# The user each image starts as when the container names none (its Dockerfile's USER): the official
# haproxy image runs as `haproxy` (uid 99) since 2.4.
IMAGE_USER = {"haproxy": "haproxy"}
ROOT = ("root", "0", "0:0", "root:root")


def daemon_swap(memory: int, swap: int, *, swap_accounted: bool) -> int:
    """The MemorySwap a daemon stores, in bytes, for the provider's memory and memory_swap (MiB; a positive
    swap goes in MiB, -1 as it is: resource_docker_container_funcs.go). moby daemon/create.go checks, then
    adapts (daemon/daemon_unix.go): a daemon without swap accounting turns any swap limit of a memory-limited
    container, unset included, into -1 (verifyPlatformContainerResources); an unset one left is twice the
    memory (adaptContainerSettings)."""
    stored = swap * MIB if swap > 0 else swap
    if memory > 0 and stored != -1 and not swap_accounted:
        stored = -1
    if memory > 0 and stored == 0:
        stored = DAEMON_SWAP_FACTOR * memory * MIB
    return stored


def daemon_report(inputs: dict[str, Any], *, swap_accounted: bool = True) -> dict[str, Any]:
    """What `docker inspect` says of a container just created from `inputs`: started unless `start` is
    false, no published ports unless running, swap as the daemon stores it (`daemon_swap`)."""
    inputs = with_container_defaults(inputs)
    running, memory, swap = inputs["start"], int(inputs.get("memory") or 0), int(inputs.get("memorySwap") or 0)
    ports = {
        f"{int(port['internal'])}/{port['protocol']}": [{"HostIp": port["ip"], "HostPort": str(int(port["external"]))}]
        for port in inputs.get("ports") or []
    }
    return {
        "Name": f"/{inputs['name']}",
        "Image": inputs["image"],
        "State": {"Running": running, "ExitCode": 0},
        "Config": {"User": inputs.get("user") or ""},
        "HostConfig": {
            "RestartPolicy": {"Name": inputs["restart"], "MaximumRetryCount": int(inputs.get("maxRetryCount") or 0)},
            "Memory": memory * MIB,
            "MemorySwap": daemon_swap(memory, swap, swap_accounted=swap_accounted),
            "LogConfig": {"Type": inputs.get("logDriver") or "json-file", "Config": inputs.get("logOpts") or {}},
        },
        "NetworkSettings": {"Ports": ports if running else {}},
    }


def state_after_create(inputs: dict[str, Any], *, swap_accounted: bool = True) -> dict[str, Any]:
    """The state resourceDockerContainerCreate leaves: it ends with resourceDockerContainerRead."""
    return container_state(daemon_report(inputs, swap_accounted=swap_accounted), inputs)


def changes(state: dict[str, Any], inputs: dict[str, Any]) -> Diff:
    """The next preview of a container with `state`, registered again with `inputs`."""
    return diff(CONTAINER, inputs, state, inputs)


def runs_after_update(state: dict[str, Any], inputs: dict[str, Any]) -> bool:
    """Whether the container runs after the step to `inputs`: a replacement is created anew, and
    resourceDockerContainerUpdate starts a container whose must_run goes false -> true when start is set."""
    step, wanted = changes(state, inputs), with_container_defaults(inputs)
    if step.kind == "replace" or (not state["mustRun"] and wanted["mustRun"]):
        return wanted["start"]
    return state["start"] and state["mustRun"]


def containers(evaluation: harness.Evaluation) -> dict[str, harness.Registration]:
    return {c.name: c for c in evaluation.of_type(CONTAINER)}


def cold(promote: bool = False) -> harness.Evaluation:
    return evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, "standby": "cold", "promote": promote}})


def overlay(encrypted: bool) -> harness.Evaluation:
    return evaluate("sim", {"codenvy-infra:network": {"mode": "overlay", "encrypted": encrypted}})


def workspace_network(evaluation: harness.Evaluation) -> harness.Registration:
    (network,) = [n for n in evaluation.of_type(NETWORK) if n.inputs["driver"] == "overlay"]
    return network


# --- 1: HAProxy reads its key ------------------------------------------------------------------------


def readable_by(user: str, upload: dict[str, Any]) -> bool:
    """The provider writes uploads as root with `permissions` (0644 when none): a tar entry with uid 0
    (resourceDockerContainerCreate)."""
    mode = int(upload.get("permissions") or "0644", 8)
    return user in ROOT or bool(mode & 0o004)


@pytest.mark.parametrize("stack", ["dev", "sim"])
def test_haproxy_starts_as_a_user_that_can_read_every_file_uploaded_into_it(stack):
    site = site_config(stack)
    haproxy = evaluate(stack).named(f"{site.site_name}-master-haproxy").inputs
    user = haproxy.get("user") or IMAGE_USER["haproxy"]
    assert site.https and any(u["file"] == HAPROXY_CERT_PATH for u in haproxy["uploads"])
    assert all(readable_by(user, upload) for upload in haproxy["uploads"]), f"{user} cannot read them"


def test_haproxy_key_stays_readable_by_root_only():
    site = site_config("dev")
    uploads = evaluate("dev").named(f"{site.site_name}-master-haproxy").inputs["uploads"]
    (key,) = [u for u in uploads if u["file"] == HAPROXY_CERT_PATH]
    assert not readable_by(IMAGE_USER["haproxy"], key)


def test_haproxy_drops_root_for_the_images_unprivileged_account():
    cfg = render_haproxy_cfg(site_config("dev").https)
    global_section = cfg.split("\n\n")[0].splitlines()
    assert global_section[0] == "global"
    settings = dict(line.split(None, 1) for line in global_section[1:])
    assert (settings["user"], settings["group"]) == ("haproxy", "haproxy")


# --- 2: a cold standby ---------------------------------------------------------------------------


def test_cold_standby_containers_read_back_as_registered():
    for name, container in containers(cold()).items():
        assert changes(state_after_create(container.inputs), container.inputs).kind == "same", name


def test_promotion_runs_every_cold_container():
    before, after = containers(cold()), containers(cold(promote=True))
    assert set(before) == set(after)
    for name, container in before.items():
        assert runs_after_update(state_after_create(container.inputs), after[name].inputs), name


def test_a_site_made_cold_again_publishes_no_port():
    """resourceDockerContainerUpdate starts a container whose must_run goes false -> true and never stops one
    ("If false, Terraform leaves the container alone", the schema's must_run): a published container of a site
    turned cold stops only by being replaced, which a change of its ports (ForceNew) does."""
    before, after = containers(cold(promote=True)), containers(cold())
    published = {name: c for name, c in before.items() if c.inputs.get("ports")}
    assert published
    running = [
        name for name, c in published.items() if runs_after_update(state_after_create(c.inputs), after[name].inputs)
    ]
    assert running == []


def test_active_sites_containers_read_back_as_registered():
    for stack in ("dev", "dr", "sim"):
        for name, container in containers(evaluate(stack)).items():
            assert changes(state_after_create(container.inputs), container.inputs).kind == "same", f"{stack}: {name}"


# --- 3: an encrypted overlay ---------------------------------------------------------------------


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


# --- 7: a daemon.json change on a managed master --------------------------------------------------

FAKE_DOCKER = """#!/usr/bin/env bash
# A Docker CLI over a state directory: `running` and `all` list container IDs, newest first.
set -euo pipefail
state=$FAKE_DOCKER_STATE
case "$1" in
  ps) cat "$state/running" ;;
  info) true ;;
  inspect)
    id=${@: -1}
    grep -qx "$id" "$state/all" || exit 1
    if grep -qx "$id" "$state/running"; then echo true; else echo false; fi ;;
  start)
    echo "$2" >> "$state/running"
    echo "$2" >> "$state/started"
    echo "$2" ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""
# The daemon restart stops every container; the fake brings none back by itself, as for workspace machines,
# which have no restart policy.
FAKE_RESTART = """#!/usr/bin/env bash
: > "$FAKE_DOCKER_STATE/running"
"""


def _can_own_etc_docker() -> bool:
    if os.geteuid() != 0 or not Path("/etc/docker").is_dir() or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False).returncode == 0


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


RAN = ["c-haproxy", "c-server", "c-postgres"]


@pytest.fixture
def fake_host(tmp_path) -> Path:
    """A fake Docker (three containers running, one stopped by hand), restart and reload helpers that record
    that they ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "docker", FAKE_DOCKER)
    _executable(tmp_path / "restart-dockerd", FAKE_RESTART + 'echo restart >> "$FAKE_DOCKER_STATE/helpers"\n')
    _executable(tmp_path / "reload-dockerd", '#!/usr/bin/env bash\necho reload >> "$FAKE_DOCKER_STATE/helpers"\n')
    state = tmp_path / "state"
    state.mkdir()
    (state / "running").write_text("".join(f"{c}\n" for c in RAN))
    (state / "all").write_text("".join(f"{c}\n" for c in [*RAN, "c-stopped-by-hand"]))
    return tmp_path


def master_daemon_config(host: Path, master: dict | None = None, **config):
    """The sim master's daemon-config command, with the fake helpers, `master` settings and stack `config`."""
    settings = {
        **stack_file_config("sim")["codenvy-infra:master"],
        "dockerRestartCommand": str(host / "restart-dockerd"),
        "dockerReloadCommand": str(host / "reload-dockerd"),
        **(master or {}),
    }
    stack = {"codenvy-infra:master": settings, **{f"codenvy-infra:{key}": value for key, value in config.items()}}
    return evaluate("sim", stack).named("codenvy-ws-node1-daemon-config")


def run_on_master(host: Path, *commands) -> subprocess.CompletedProcess:
    """The master's daemon-config scripts one after the other, in a mount namespace of their own with an empty
    /etc/docker."""
    own_etc = 'mount --make-rprivate / && mount -t tmpfs tmpfs /etc/docker && for s in "$@"; do bash -c "$s"; done'
    return subprocess.run(
        ["unshare", "--mount", "bash", "-ec", own_etc, "-", *(script_of(command) for command in commands)],
        env={**os.environ, "PATH": f"{host / 'bin'}:{os.environ['PATH']}", "FAKE_DOCKER_STATE": str(host / "state")},
        capture_output=True,
        text=True,
        check=False,
    )


needs_own_etc = pytest.mark.skipif(
    not _can_own_etc_docker(), reason="needs root and a private mount namespace for /etc/docker"
)


@needs_own_etc
def test_daemon_config_change_leaves_the_containers_that_ran_running(fake_host):
    result = run_on_master(fake_host, master_daemon_config(fake_host))
    assert result.returncode == 0, result.stderr
    assert sorted((fake_host / "state" / "running").read_text().split()) == sorted(RAN)


@needs_own_etc
def test_daemon_config_change_starts_the_database_before_the_server(fake_host):
    run_on_master(fake_host, master_daemon_config(fake_host))
    assert (fake_host / "state" / "started").read_text().split() == list(reversed(RAN))


@needs_own_etc
def test_draining_a_host_reloads_its_daemon_without_a_restart(fake_host):
    drained = master_daemon_config(fake_host, {"drain": True})
    result = run_on_master(fake_host, master_daemon_config(fake_host), drained)
    assert result.returncode == 0, result.stderr
    assert (fake_host / "state" / "helpers").read_text().split() == ["restart", "reload"]


@needs_own_etc
def test_a_daemon_change_a_reload_cannot_apply_restarts(fake_host):
    bigger_logs = master_daemon_config(fake_host, logs={"maxSize": "20m", "maxFile": 3})
    run_on_master(fake_host, master_daemon_config(fake_host), bigger_logs)
    assert (fake_host / "state" / "helpers").read_text().split() == ["restart", "restart"]


# --- 9: a failed upgrade ---------------------------------------------------------------------------


class ServerFails(FabricatingMocks):
    """The server's create fails, as a new version's server that cannot be created or started."""

    def new_resource(self, args):
        if args.typ == CONTAINER and args.name.endswith("-master-server"):
            raise RuntimeError("Unable to start container: the new server exits at once")
        return super().new_resource(args)


def test_a_failed_server_create_records_no_new_version():
    """The SDK registers the stack's outputs once all of them resolve; when one never does, the engine
    keeps the previous outputs (deployment_executor.go, "Finalize the stack outputs"), so `version` still
    names the server that runs and going back to it is not refused as a downgrade."""
    attempt = harness.Evaluation()
    with pytest.raises(Exception, match="new server exits"):
        evaluate(
            "dev",
            {"codenvy-infra:version": "5.23.0"},
            mocks=ServerFails({DEV: {"version": "5.22.0"}}),
            into=attempt,
        )
    assert attempt.named("codenvy-master-pre-upgrade-backup"), "the upgrade got as far as the server"
    assert "version" not in attempt.exports


def test_the_exported_version_is_the_one_the_server_declares():
    evaluation = evaluate("dev", {"codenvy-infra:version": "5.23.0"}, stack_outputs={DEV: {"version": "5.22.0"}})
    server = evaluation.named("codenvy-master-server").inputs
    labels = {item["label"]: item["value"] for item in server["labels"]}
    assert evaluation.exports["version"] == labels[app_server.VERSION_LABEL] == "5.23.0"


# --- 11: node changes and stopping ---------------------------------------------------------------


def sim_with_nodes(count: int) -> harness.Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    extra = [{**nodes[-1], "name": f"node{4 + i}", "address": f"10.77.0.{14 + i}"} for i in range(count - len(nodes))]
    return evaluate("sim", {"codenvy-infra:nodes": [*nodes, *extra][:count]})


def test_adding_a_node_leaves_every_container_as_it_was():
    """The server's environment, labels and uploads force a new container when they change."""
    before, after = containers(sim_with_nodes(2)), containers(sim_with_nodes(3))
    for name, container in before.items():
        state = state_after_create(container.inputs)
        assert changes(state, after[name].inputs).keys == changes(state, container.inputs).keys, name


def test_every_container_stops_gracefully_before_it_is_removed():
    """resourceDockerContainerDelete stops with destroy_grace_seconds, or with a timeout of 0 (a kill)."""
    for stack in ("dev", "dr", "sim"):
        for name, container in containers(evaluate(stack)).items():
            assert (container.inputs.get("destroyGraceSeconds") or 0) > 0, f"{stack}: {name} is killed"


def test_postgres_has_time_for_its_shutdown_checkpoint():
    postgres = evaluate("sim").named("codenvy-master-postgres").inputs
    assert postgres["destroyGraceSeconds"] >= 60


# --- 12: memory swap -----------------------------------------------------------------------------


@pytest.mark.parametrize("stack", ["dev", "sim"])
def test_memory_limits_read_back_unchanged(stack):
    for name, container in containers(evaluate(stack)).items():
        state = state_after_create(container.inputs)
        assert "memorySwap" not in changes(state, container.inputs).keys, name


def test_containers_get_no_swap():
    for name, container in containers(evaluate("sim")).items():
        assert container.inputs.get("memorySwap") == container.inputs.get("memory"), name


def without_swap_accounting(*hosts: str) -> harness.Evaluation:
    """The sim stack with `hosts` (the master's name or the nodes') declared as not accounting swap."""
    config = stack_file_config("sim")
    master, nodes = config["codenvy-infra:master"], config["codenvy-infra:nodes"]
    return evaluate(
        "sim",
        {
            "codenvy-infra:master": {**master, "swapLimit": master["name"] not in hosts},
            "codenvy-infra:nodes": [{**node, "swapLimit": node["name"] not in hosts} for node in nodes],
        },
    )


def next_step(container: harness.Registration, state: dict[str, Any]) -> Diff:
    """The next `up` of a container with `state`, registered again as it is, with its resource options."""
    return diff(CONTAINER, container.inputs, state, container.inputs, ignore_changes=container.options.ignore_changes)


def test_hosts_without_swap_accounting_read_back_as_registered():
    """The second `up` on hosts whose dockerd prints "No swap limit support": nothing changes."""
    every_host = [host.name for host in site_config("sim").hosts]
    for name, container in containers(without_swap_accounting(*every_host)).items():
        step = next_step(container, state_after_create(container.inputs, swap_accounted=False))
        assert step.kind == "same", f"{name}: {step}"


def test_hosts_without_swap_accounting_still_ask_for_no_swap():
    every_host = [host.name for host in site_config("sim").hosts]
    for name, container in containers(without_swap_accounting(*every_host)).items():
        assert container.inputs.get("memorySwap") == container.inputs.get("memory"), name


def test_a_host_without_swap_accounting_leaves_the_others_swap_watched():
    """A swap limit changed by hand on a host that accounts swap is still a difference the next `up` undoes."""
    master = site_config("sim").master.name
    elsewhere = [
        container
        for container in containers(without_swap_accounting(master)).values()
        if f"-{master}-docker::" not in container.provider
    ]
    assert elsewhere, "the sim stack has containers on its workers"
    for container in elsewhere:
        changed_by_hand = {**state_after_create(container.inputs), "memorySwap": -1}
        assert next_step(container, changed_by_hand).keys == ("memorySwap",), container.name


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")
def test_the_stand_in_asks_for_unlimited_swap_as_the_docker_cli_takes_it(tmp_path):
    """The stand-in's create through the real CLI, against no daemon: its arguments parse (the CLI then fails
    to connect), where "-1m" would be refused as an invalid size."""
    nowhere = docker_provider.DockerHost(f"unix://{tmp_path}/no-daemon.sock")
    inputs = {"name": "c", "image": "busybox", "memory": 64, "memorySwap": -1}
    with pytest.raises(docker_provider.ProviderError) as caught:
        docker_provider.create(nowhere, CONTAINER, inputs)
    assert "Cannot connect to the Docker daemon" in str(caught.value)


# --- Found by the lifecycle lane: the master's daemon restarts under its own containers ----------------------


def test_every_docker_resource_on_a_managed_master_waits_for_its_daemon_config():
    # The daemon-config Command restarts the master's dockerd when daemon.json changes; a container,
    # network, volume or image created meanwhile fails ("Cannot connect to the Docker daemon").
    evaluation = evaluate("sim")
    master = site_config("sim").master.name
    (daemon_config,) = [r.urn for r in evaluation.resources if r.name.endswith(f"-ws-{master}-daemon-config")]
    master_provider = next(r.urn for r in evaluation.resources if r.name.endswith(f"-{master}-docker"))
    on_master = [
        r for r in evaluation.resources if r.type.startswith("docker:index/") and r.provider.startswith(master_provider)
    ]
    assert on_master
    waiting = {r.name for r in on_master if daemon_config in evaluation.waits_for(r.urn)}
    assert waiting == {r.name for r in on_master}


# --- Found by the moves lane: a restart policy that lost its retry count -----------------------------------------


class RecordingHost:
    """A Docker host that records the commands the provider sends it."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def docker(self, *args: str, **_: Any) -> None:
        self.commands.append(args)


def test_an_input_the_program_stops_setting_leaves_the_state_on_update():
    server = containers(evaluate("sim"))["codenvy-master-server"].inputs
    before = {**server, "restart": "on-failure", "maxRetryCount": 5}
    host = RecordingHost()
    state = docker_provider.update(host, CONTAINER, "c1", state_after_create(before), server)
    assert [command[:3] for command in host.commands] == [("update", "--restart", "always")]
    assert changes(state, server).keys == ()
