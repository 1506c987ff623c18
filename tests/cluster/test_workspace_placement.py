"""Workspace placement on real engines: the sim stack's site on three hosts (node1 the master, node2 and node3
workspace nodes, node4 added later), its server placing workspaces through the placement manager, as users of
the site's API start and stop them. Tests run in file order, each from the state the previous one left."""

from __future__ import annotations

import json
import re

import pytest

from tests.cluster.images import WORKSPACE_IMAGE
from tests.cluster.sim import Node, lane_engine, sim_worker
from tests.cluster.site_driver import (
    ADMIN_PASSWORD,
    SITE,
    Member,
    Site,
    add_user,
    api,
    config_keys,
    create_workspace,
    healthy,
    push_stack_image,
    start_workspace,
    stop_workspace,
    wait_for,
    workspace_config,
)
from tests.engine.engine import Backend

LANE_NODES = 4
WORKERS = ("node2", "node3")
# The manager reads its node list every 10 s and refreshes engines every 5-10 s (components/placement.py);
# waits for what follows from either allow a few rounds on a busy machine.
PLACEMENT_WAIT = 90


# Defaults no lane user reaches, so only placement (and the per-environment limit) refuses a workspace.
DEFAULT_LIMITS = {"defaults": {"ramMb": 256 * 1024, "workspaces": 100, "runtimes": 50}}


def worker(node: Node, **settings) -> dict:
    """A workspace node of the sim stack, declaring the RAM its engine really has (every simulated host
    reports this machine's), so the server's per-environment limit is the real largest host."""
    ram_gb = int(node.docker("info", "--format", "{{.MemTotal}}").stdout) // 2**30
    return {**sim_worker(node), "ramGb": ram_gb, **settings}


@pytest.fixture(scope="module")
def site(cluster, ssh_agent) -> Site:
    nodes = {node.name: node for node in cluster}
    workers = [worker(nodes[name]) for name in WORKERS]
    config = config_keys({"adminPassword": ADMIN_PASSWORD, "limits": DEFAULT_LIMITS, "nodes": workers})
    placed = Site(lane_engine("placement", cluster, Backend(), ssh_agent), nodes, config)
    placed.up()
    wait_for("the master's services healthy", lambda: healthy(placed))
    return placed


@pytest.fixture(scope="module")
def stack_image(site) -> str:
    return push_stack_image(site, WORKSPACE_IMAGE)


@pytest.fixture(scope="module")
def developer(site) -> Member:
    return add_user(site, "dev")


def machines_on(site: Site, workspace: str) -> dict[str, str]:
    """machine name -> the host its container runs on, read from every host's own engine."""
    found = {}
    for node in site.nodes.values():
        listing = node.docker("ps", "--filter", f"label=che:workspace:id={workspace}",
                              "--format", '{{.Label "che:machine:name"}}').stdout.split()  # fmt: skip
        found.update(dict.fromkeys(listing, node.name))
    return found


def started(site: Site, owner: Member, image: str, name: str, machines: dict[str, int] | None = None) -> str:
    workspace = create_workspace(site, owner, name, image, machines)
    status, answer = start_workspace(site, owner, workspace)
    assert status == 200, f"starting {name}: HTTP {status}: {answer!r}"
    return workspace


def stop_all(site: Site, owner: Member, workspaces: list[str]) -> None:
    for workspace in workspaces:
        status, answer = stop_workspace(site, owner, workspace)
        assert status == 204, f"stopping {workspace}: HTTP {status}: {answer!r}"


def engine_row(site: Site, node: str, row: str) -> str | None:
    """A row swarm reports for the engine of `node` (its rows follow the node's name row); None when swarm has
    no such engine."""
    rows = manager_info_rows(site)
    names = [index for index, (name, _) in enumerate(rows) if name.strip() == node]
    if not names:
        return None
    following = rows[names[0] + 1 :]
    return next(value for name, value in following if name.strip().endswith(row))


def engine_status(site: Site, node: str) -> str:
    return engine_row(site, node, "Status") or "absent"


def under_maintenance(site: Site, node: str) -> bool:
    """The engine carries Codenvy's maintenance label, as the manager sees it."""
    return "com.codenvy.node-state=maintenance" in (engine_row(site, node, "Labels") or "")


def engines_healthy(site: Site, nodes: tuple[str, ...]) -> bool:
    return all(engine_status(site, node) == "Healthy" for node in nodes)


def manager_info_rows(site: Site) -> list[tuple[str, str]]:
    tls = "/etc/swarm/tls"
    answer = site.master.docker("exec", f"{site.name}-swarm", "wget", "-qO-", f"--ca-certificate={tls}/ca.pem",
                                f"--certificate={tls}/cert.pem", f"--private-key={tls}/key.pem",
                                "https://127.0.0.1:2376/info").stdout  # fmt: skip
    return [tuple(row) for row in json.loads(answer).get("SystemStatus") or []]


# --- workspaces spread over the workspace nodes ------------------------------------------------------------


@pytest.fixture(scope="module")
def spread(site, developer, stack_image) -> list[str]:
    wait_for("both workspace engines healthy in the manager", lambda: engines_healthy(site, WORKERS),
             timeout=PLACEMENT_WAIT)  # fmt: skip
    workspaces = [started(site, developer, stack_image, f"spread-{index}") for index in range(4)]
    yield workspaces
    stop_all(site, developer, workspaces)


def test_workspaces_started_through_the_api_spread_over_the_workspace_nodes(site, spread):
    hosts = sorted(next(iter(machines_on(site, workspace).values())) for workspace in spread)
    assert hosts == ["node2", "node2", "node3", "node3"]


def test_no_workspace_is_placed_on_the_master(site, spread):
    assert not [w for w in spread if "node1" in machines_on(site, w).values()]


def test_a_workspace_machine_gets_its_memory_limit_on_its_node(site, spread):
    (host,) = machines_on(site, spread[0]).values()
    (container,) = site.nodes[host].docker("ps", "-q", "--filter", f"label=che:workspace:id={spread[0]}").stdout.split()
    assert site.nodes[host].inspect(container)["HostConfig"]["Memory"] == 256 * 1024 * 1024


# --- one workspace, two machines, two nodes --------------------------------------------------------------


@pytest.fixture(scope="module")
def two_machines(site, developer, stack_image) -> str:
    workspace = started(site, developer, stack_image, "pair", {"dev-machine": 256, "db": 256})
    yield workspace
    stop_all(site, developer, [workspace])


def test_a_workspaces_two_machines_are_placed_on_two_nodes(site, two_machines):
    assert sorted(machines_on(site, two_machines).values()) == sorted(WORKERS)


def test_a_workspaces_machines_reach_each_other_by_name_over_the_overlay(site, two_machines):
    placed = machines_on(site, two_machines)
    db, dev = site.nodes[placed["db"]], site.nodes[placed["dev-machine"]]
    (db_container,) = db.docker("ps", "-q", "--filter", f"label=che:workspace:id={two_machines}").stdout.split()
    db.docker("exec", db_container, "sh", "-c",
              "mkdir -p /tmp/www && echo from-db > /tmp/www/hello && httpd -p 8000 -h /tmp/www")  # fmt: skip
    (dev_container,) = dev.docker("ps", "-q", "--filter", f"label=che:workspace:id={two_machines}").stdout.split()
    fetched = wait_for(
        "db reached from the dev machine by name",
        lambda: dev.docker("exec", dev_container, "wget", "-qO-", f"http://db.{two_machines}:8000/hello").stdout,
        timeout=30,
    )
    assert fetched == "from-db\n"


# --- snapshots -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def snapshotted(site, developer, stack_image) -> tuple[str, str]:
    """A workspace changed inside its machine, then stopped with a snapshot: (workspace, the node it ran on)."""
    workspace = started(site, developer, stack_image, "snap")
    ((_, host),) = machines_on(site, workspace).items()
    node = site.nodes[host]
    (container,) = node.docker("ps", "-q", "--filter", f"label=che:workspace:id={workspace}").stdout.split()
    node.docker("exec", container, "sh", "-c", "echo kept > /root/marker && echo edited > /projects/notes.txt")
    status, answer = stop_workspace(site, developer, workspace, snapshot=True)
    assert status == 204, answer
    # A snapshot that fails is only logged and the stop goes on (WorkspaceManager.java:718-729): say why here.
    status, snapshots = api(site, "GET", f"/workspace/{workspace}/snapshot", user=developer)
    if status != 200 or not snapshots:
        logs = site.master.docker("logs", "--tail", "400", f"{site.name}-server")
        log = (logs.stdout + logs.stderr).splitlines()
        pytest.fail(
            f"no snapshot of {workspace} (HTTP {status}); the server said: "
            + " | ".join(line for line in log if "snapshot" in line.lower() or "push" in line.lower())[-3000:]
        )
    return workspace, host


def registry_catalog(site: Site) -> list[str]:
    outputs = site.engine.checkpoint.outputs
    address, user, password = outputs["registry"], outputs["registryUsername"], outputs["registryPassword"]
    answer = site.master.ssh(f"curl -fsS --cacert /etc/docker/certs.d/{address}/ca.crt -u {user}:{password} "
                             f"https://{address}/v2/_catalog")  # fmt: skip
    return json.loads(answer.stdout)["repositories"]


def test_a_stopped_workspaces_snapshot_is_pushed_to_the_masters_registry(site, snapshotted):
    assert [repository for repository in registry_catalog(site) if re.fullmatch(r"machine_snapshot_\w{16}", repository)]


def test_a_snapshotted_workspace_leaves_no_machine_behind(site, snapshotted):
    workspace, _ = snapshotted
    assert machines_on(site, workspace) == {}


def nodes_but(site: Site, drained: str) -> list[dict]:
    return [worker(site.nodes[name], drain=name == drained) for name in WORKERS]


@pytest.fixture(scope="module")
def restored(site, developer, snapshotted) -> tuple[str, str]:
    """The snapshotted workspace started again with the node it ran on drained (Codenvy's maintenance label,
    which every machine image build is constrained against): (workspace, its new node)."""
    workspace, old_host = snapshotted
    site.up(nodes=nodes_but(site, old_host))
    wait_for(f"{old_host} under maintenance in the manager", lambda: under_maintenance(site, old_host),
             timeout=PLACEMENT_WAIT)  # fmt: skip
    status, answer = start_workspace(site, developer, workspace)
    assert status == 200, answer
    ((_, new_host),) = machines_on(site, workspace).items()
    yield workspace, new_host
    stop_all(site, developer, [workspace])
    site.up(nodes=nodes_but(site, ""))


def test_a_snapshot_is_restored_on_another_node(snapshotted, restored):
    assert restored[1] != snapshotted[1]


def test_a_restored_snapshot_keeps_what_the_machine_held(site, restored):
    workspace, host = restored
    (container,) = site.nodes[host].docker("ps", "-q", "--filter", f"label=che:workspace:id={workspace}").stdout.split()
    assert site.nodes[host].docker("exec", container, "cat", "/root/marker").stdout == "kept\n"


def test_a_restored_workspace_gets_its_project_files_back(site, restored):
    workspace, host = restored
    (container,) = site.nodes[host].docker("ps", "-q", "--filter", f"label=che:workspace:id={workspace}").stdout.split()
    assert site.nodes[host].docker("exec", container, "cat", "/projects/notes.txt").stdout == "edited\n"


def test_a_drained_node_gets_no_new_workspace(site, developer, stack_image, restored):
    _, host = restored
    drained = next(name for name in WORKERS if name != host)
    workspaces = [started(site, developer, stack_image, f"drained-{index}") for index in range(2)]
    try:
        assert not [w for w in workspaces if drained in machines_on(site, w).values()]
    finally:
        stop_all(site, developer, workspaces)


# --- a node added, then removed ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def node_added(site, restored):
    """node4 added to the stack file; the server is the one that ran before."""
    started_at = site.container("server")["State"]["StartedAt"]
    site.up(nodes=[*[worker(site.nodes[name]) for name in (*WORKERS, "node4")]])
    wait_for("node4 healthy in the manager", lambda: engine_status(site, "node4") == "Healthy", timeout=PLACEMENT_WAIT)
    return started_at


def test_an_added_node_takes_workspaces(site, developer, stack_image, node_added):
    # Spread ranks the empty node first: the next workspace lands there.
    workspace = started(site, developer, stack_image, "on-the-new-node")
    try:
        assert list(machines_on(site, workspace).values()) == ["node4"]
    finally:
        stop_all(site, developer, [workspace])


def test_an_added_node_takes_workspaces_without_a_server_restart(site, node_added):
    assert site.container("server")["State"]["StartedAt"] == node_added


@pytest.fixture(scope="module")
def node_removed(site, node_added) -> None:
    site.up(nodes=[worker(site.nodes[name]) for name in WORKERS])
    wait_for("node4 gone from the manager", lambda: engine_status(site, "node4") == "absent", timeout=PLACEMENT_WAIT)


def test_a_removed_node_gets_no_new_workspace(site, developer, stack_image, node_removed):
    workspaces = [started(site, developer, stack_image, f"after-removal-{index}") for index in range(3)]
    try:
        assert not [w for w in workspaces if "node4" in machines_on(site, w).values()]
    finally:
        stop_all(site, developer, workspaces)


# --- refusals and failures ---------------------------------------------------------------------------------


def memory_mb(site: Site, node: str) -> int:
    return int(site.nodes[node].docker("info", "--format", "{{.MemTotal}}").stdout) // 2**20


def test_a_workspace_larger_than_any_node_is_refused_with_the_reason(site, developer, stack_image, node_removed):
    largest = max(memory_mb(site, name) for name in WORKERS)
    config = workspace_config("too-big", stack_image, {"dev-machine": largest + 1024})
    status, answer = api(site, "POST", f"/workspace?namespace={developer.name}", config, user=developer)
    assert status >= 400 and b"RAM per workspace" in answer, (status, answer)


@pytest.fixture(scope="module")
def reserved(site, developer, stack_image, node_removed):
    """A workspace on each node reserving three fifths of its memory."""
    share = 3 * min(memory_mb(site, name) for name in WORKERS) // 5
    workspaces = [started(site, developer, stack_image, f"reserving-{index}", {"dev-machine": share})
                  for index in range(len(WORKERS))]  # fmt: skip
    yield share
    stop_all(site, developer, workspaces)


def test_placement_refuses_a_workspace_no_nodes_free_memory_holds_and_says_why(site, developer, stack_image, reserved):
    workspace = create_workspace(site, developer, "no-room", stack_image, {"dev-machine": reserved})
    status, answer = start_workspace(site, developer, workspace)
    assert status >= 400 and b"no resources available to schedule container" in answer, (status, answer)


# Swarm counts a call that cannot connect against the engine and flags it Unhealthy after three (engine.go);
# the firewall drops what reaches a stopped relay's port, so each call waits out swarm's 10 s dial timeout
# after a refresh interval of 5-10 s.
UNHEALTHY_WAIT = 240


@pytest.fixture(scope="module")
def node3_unreachable(site, node_removed):
    """node3's relay stopped: the manager's calls to its engine fail to connect, and it counts them. Started
    again afterwards; nothing later in the module places workspaces."""
    node3, relay = site.nodes["node3"], f"{site.name}-socat"
    node3.docker("stop", relay)
    try:
        wait_for("node3 unhealthy in the manager", lambda: engine_status(site, "node3") == "Unhealthy",
                 timeout=UNHEALTHY_WAIT)  # fmt: skip
        yield
    finally:
        node3.docker("start", relay)


def test_an_unreachable_nodes_engine_is_skipped_by_placement(site, developer, stack_image, node3_unreachable):
    workspaces = [started(site, developer, stack_image, f"while-node3-is-away-{index}") for index in range(2)]
    try:
        assert {host for w in workspaces for host in machines_on(site, w).values()} == {"node2"}
    finally:
        stop_all(site, developer, workspaces)


# --- the firewall and the relays ------------------------------------------------------------------------------


def tcp_connects(site: Site, source: str, target: str, port: int) -> bool:
    address = site.nodes[target].address
    return site.nodes[source].ssh(f"timeout 3 bash -c '</dev/tcp/{address}/{port}'", check=False).returncode == 0


def test_placement_reaches_a_workers_engine_relay_from_the_master(site, node_removed):
    assert tcp_connects(site, "node1", "node2", 2376)


def test_the_firewall_keeps_other_workers_from_a_workers_engine_relay(site, node_removed):
    assert not tcp_connects(site, "node3", "node2", 2376)


def test_a_workers_engine_relay_refuses_a_client_without_a_site_certificate(site, node_removed):
    address, ca = site.nodes["node2"].address, f"/etc/docker/certs.d/{SITE.registry_address}/ca.crt"
    answer = site.master.ssh(f"curl -sS --max-time 10 --cacert {ca} https://{address}:2376/_ping", check=False)
    assert answer.returncode != 0 and "OK" not in answer.stdout, answer
