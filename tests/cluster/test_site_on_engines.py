"""The sim stack's program converging real Docker engines: every script it emits runs over SSH on the
simulated hosts, in the order its dependencies give. The sim stack is not dev, so its firewall is on
from the first converge: every test here runs with it. Tests run in file order, each from the state
the previous one left."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.cluster.images import BUSYBOX_IMAGE, REGISTRY_IMAGE
from tests.cluster.live import CommandError, LiveMocks, Node, apply_container, run_delete
from tests.harness import Evaluation, evaluate, site_config

SITE = site_config("sim")
WORKERS = [node.name for node in SITE.nodes]


# The stack's state across the module's converges: keys, certificates and passwords made once.
STACK_STATE: dict[str, dict] = {}


def converge(cluster: list[Node], **overrides) -> tuple[Evaluation, LiveMocks]:
    mocks = LiveMocks(cluster, STACK_STATE)
    return evaluate("sim", overrides, mocks=mocks), mocks


def by_name(cluster: list[Node], name: str) -> Node:
    return next(node for node in cluster if node.name == name)


def manager(cluster: list[Node]) -> Node:
    return by_name(cluster, SITE.master.name)


def swarm_nodes(cluster: list[Node]) -> dict[str, str]:
    listing = manager(cluster).docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    return dict(line.split() for line in listing.splitlines())


def dockerd_pid(node: Node) -> str:
    return node.ssh("cat /var/run/docker.pid").stdout.strip()


@pytest.fixture(scope="module")
def first(cluster):
    """The first `pulumi up` of the sim stack on fresh engines."""
    return converge(cluster)


def test_daemon_json_applied_and_docker_restarted_on_first_converge(cluster, first):
    _, mocks = first
    for host in (SITE.master.name, *WORKERS):
        run = mocks.output_of(f"-ws-{host}-daemon-config")
        assert "updated; Docker restarted" in run.stdout
        info = json.loads(by_name(cluster, host).docker("info", "--format", "{{json .}}").stdout)
        assert f"codenvy.node={host}" in info["Labels"]
        assert info["LoggingDriver"] == "json-file"
        assert info["RegistryConfig"]["InsecureRegistryCIDRs"] == ["127.0.0.0/8"], "no insecure registry added"
        config = json.loads(by_name(cluster, host).ssh("cat /etc/docker/daemon.json").stdout)
        assert config["log-opts"]["max-size"] == SITE.logs.max_size


def test_swarm_initialised_on_the_master_and_workers_ready(cluster, first):
    _, mocks = first
    assert "initialised" in mocks.output_of("-swarm-init").stderr
    assert mocks.output_of("-swarm-init").stdout.startswith("SWMTKN-")
    statuses = swarm_nodes(cluster)
    assert statuses == {SITE.master.name: "Ready", **{worker: "Ready" for worker in WORKERS}}
    for worker in WORKERS:
        assert "ready" in mocks.output_of(f"-ws-{worker}-membership").stdout


def test_second_converge_changes_nothing(cluster, first):
    _, before = first
    pids = {node.name: dockerd_pid(node) for node in cluster}
    node_ids = {worker: before.output_of(f"-ws-{worker}-swarm-join").stdout for worker in WORKERS}
    _, again = converge(cluster)
    for host in (SITE.master.name, *WORKERS):
        assert "unchanged" in again.output_of(f"-ws-{host}-daemon-config").stdout
        assert "unchanged" in again.output_of(f"-ws-{host}-registry-ca").stdout
        assert "unchanged" in again.output_of(f"-ws-{host}-firewall").stdout
    assert "already initialised" in again.output_of("-swarm-init").stderr
    for worker in WORKERS:
        assert "already a member" in again.output_of(f"-ws-{worker}-swarm-join").stderr
        assert again.output_of(f"-ws-{worker}-swarm-join").stdout == node_ids[worker]
    assert {node.name: dockerd_pid(node) for node in cluster} == pids, "no daemon was restarted"
    assert len(swarm_nodes(cluster)) == 1 + len(WORKERS)


def create_network(cluster: list[Node], evaluation: Evaluation) -> str:
    """Apply the program's own overlay Network resource on the manager, as the docker provider would."""
    (network,) = [n for n in evaluation.of_type("docker:index/network:Network") if n.inputs["driver"] == "overlay"]
    inputs = network.inputs
    args = ["network", "create", "--driver", inputs["driver"]]
    args += ["--attachable"] if inputs.get("attachable") else []
    for key, value in (inputs.get("options") or {}).items():
        args += ["--opt", f"{key}={value}"]
    manager(cluster).docker(*args, inputs["name"])
    return inputs["name"]


def ping_across(cluster: list[Node], network: str, source: str, target: str) -> str:
    by_name(cluster, target).docker("run", "-d", "--rm", "--name", f"probe-{target}", "--network", network,
                                    BUSYBOX_IMAGE, "sleep", "600")  # fmt: skip
    try:
        result = by_name(cluster, source).docker(
            "run",
            "--rm",
            "--network",
            network,
            BUSYBOX_IMAGE,
            "ping",
            "-c",
            "2",
            "-W",
            "5",
            f"probe-{target}",
            check=False,
        )
        return result.stdout + result.stderr
    finally:
        by_name(cluster, target).docker("rm", "-f", f"probe-{target}", check=False)


@pytest.fixture(scope="module")
def overlay(cluster, first) -> str:
    evaluation, _ = first
    return create_network(cluster, evaluation)


def test_overlay_carries_traffic_between_workers_by_container_name(cluster, overlay):
    output = ping_across(cluster, overlay, WORKERS[0], WORKERS[1])
    assert " 0% packet loss" in output, output


def start_registry(cluster: list[Node], evaluation: Evaluation) -> None:
    """Apply the program's registry container on the master with the locally built registry image."""
    container = next(
        r for r in evaluation.of_type("docker:index/container:Container") if r.name.endswith("registry-container")
    )
    apply_container(manager(cluster), container, REGISTRY_IMAGE)


@pytest.fixture(scope="module")
def registry(cluster, first) -> dict[str, str]:
    evaluation, _ = first
    start_registry(cluster, evaluation)
    password = next(
        env.split("=", 1)[1]
        for c in evaluation.of_type("docker:index/container:Container")
        for env in c.inputs.get("envs", [])
        if env.startswith("CODENVY_DOCKER_REGISTRY_PASSWORD=")
    )
    address = SITE.registry_address
    for _ in range(30):
        if manager(cluster).ssh(f"curl -sk -o /dev/null https://{address}/v2/", check=False).returncode == 0:
            break
        time.sleep(1)
    return {"address": address, "password": password}


def login(node: Node, registry: dict[str, str]) -> None:
    node.docker("login", registry["address"], "-u", "codenvy", "--password-stdin", stdin=registry["password"])


def test_registry_serves_tls_to_nodes_that_trust_the_site_ca(cluster, registry):
    address = registry["address"]
    master, worker = manager(cluster), by_name(cluster, WORKERS[0])
    login(master, registry)
    master.docker("tag", BUSYBOX_IMAGE, f"{address}/probe/busybox:1")
    master.docker("push", f"{address}/probe/busybox:1")
    login(worker, registry)
    worker.docker("rmi", "-f", f"{address}/probe/busybox:1", check=False)
    pulled = worker.docker("pull", f"{address}/probe/busybox:1")
    assert "Downloaded newer image" in pulled.stdout or "Image is up to date" in pulled.stdout


def test_registry_refuses_plain_http_and_untrusted_clients(cluster, registry):
    address = registry["address"]
    worker = by_name(cluster, WORKERS[1])
    plain = worker.ssh(f"curl -s http://{address}/v2/", check=False)
    assert "HTTP request to an HTTPS server" in plain.stdout
    untrusted = worker.ssh(f"curl -s https://{address}/v2/", check=False)
    assert untrusted.returncode == 60, "curl without the site CA must reject the certificate"
    trusted = worker.ssh(
        f"curl -s -o /dev/null -w '%{{http_code}}' --cacert /etc/docker/certs.d/{address}/ca.crt https://{address}/v2/"
    )
    assert trusted.stdout == "401", "trusted TLS, and credentials still required"


def reachable(source: Node | None, address: str, port: int) -> bool:
    """A TCP connection from `source` (None: this machine, which is no cluster member) within 3 s."""
    if source is None:
        try:
            socket.create_connection((address, port), timeout=3).close()
        except OSError:
            return False
        return True
    return source.ssh(f"timeout 3 bash -c '</dev/tcp/{address}/{port}'", check=False).returncode == 0


def test_firewall_lets_members_in_and_keeps_others_out(cluster, registry):
    master, worker = manager(cluster), by_name(cluster, WORKERS[0])
    for node in cluster:
        assert "policy drop" in node.ssh("nft list table inet codenvy").stdout
    # Swarm's manager port and the registry answer cluster members ...
    assert reachable(worker, master.address, 2377)
    assert reachable(worker, master.address, SITE.registry.port)
    # ... and not this machine, which is outside the cluster (both services listen: only the firewall stops it).
    assert not reachable(None, master.address, 2377)
    assert not reachable(None, master.address, SITE.registry.port)
    # SSH stays open to firewall.sshCidrs; workers take no swarm joins.
    assert reachable(None, worker.address, 22)
    assert not reachable(master, worker.address, 2377)


def test_worker_stays_a_member_after_its_dockerd_restarts(cluster, overlay):
    worker = by_name(cluster, WORKERS[0])
    before = dockerd_pid(worker)
    worker.ssh(SITE.nodes[0].docker_restart_command)
    assert dockerd_pid(worker) != before
    for _ in range(60):
        if swarm_nodes(cluster).get(worker.name) == "Ready":
            break
        time.sleep(1)
    assert swarm_nodes(cluster)[worker.name] == "Ready"
    output = ping_across(cluster, overlay, WORKERS[1], WORKERS[0])
    assert " 0% packet loss" in output, output


def test_node_removal_drains_and_removes_it_from_the_swarm(cluster, first):
    evaluation, _ = first
    removed = WORKERS[-1]
    # Pulumi deletes dependents first: the manager-side membership (drain, rm), then the node's join (leave).
    for suffix in ("membership", "swarm-join"):
        registration = evaluation.named(f"{SITE.site_name}-ws-{removed}-{suffix}")
        result = run_delete(registration, cluster)
        assert result.returncode == 0
    assert removed not in swarm_nodes(cluster)
    state = by_name(cluster, removed).docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()
    assert state == "inactive"
    without = site_config("sim").nodes[:-1]
    after, _ = converge(
        cluster, **{"codenvy-infra:nodes": [n.model_dump(by_alias=True, exclude_none=True) for n in without]}
    )
    assert not [r for r in after.resources if f"-ws-{removed}" in r.name]
    assert removed not in swarm_nodes(cluster)


def test_unreachable_manager_during_join_names_the_node_then_rerun_converges(cluster):
    returning = WORKERS[-1]
    node = by_name(cluster, returning)
    block = f"OUTPUT -d {SITE.master.address} -p tcp --dport 2377 -j REJECT"
    node.ssh(f"iptables -I {block}")
    try:
        with pytest.raises(CommandError) as caught:
            converge(cluster)
        assert f"swarm on {returning}" in str(caught.value)
        assert returning not in swarm_nodes(cluster)
    finally:
        node.ssh(f"iptables -D {block}")
    _, mocks = converge(cluster)
    assert f"joined {SITE.master.address}:2377" in mocks.output_of(f"-ws-{returning}-swarm-join").stderr
    assert swarm_nodes(cluster)[returning] == "Ready"
