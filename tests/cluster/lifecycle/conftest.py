"""The lifecycle lane: the sim stack's real program converges, changes and goes away on real engines, step by
step as `pulumi up` would take it (tests/engine). Each step is a package-scoped fixture that runs once, after the
step before it; the numbered modules test the steps in that order, each from the state the previous one left.
A standby stack converges beside the primary on its own host."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cluster.dr_pair import MIRROR_KEY_FILE, mirror_key
from tests.cluster.lane_fixtures import lane_fixtures
from tests.cluster.lifecycle.steps import LIMITED_USER, MISSING_VERSION, UPGRADE_VERSION
from tests.cluster.sim import lane_engine, sim_worker
from tests.cluster.site_driver import (
    ADMIN_PASSWORD,
    MASTER_SERVICES,
    SITE,
    Site,
    add_user,
    api,
    config_keys,
    create_workspace,
    healthy,
    wait_for,
)
from tests.engine.engine import Backend, EngineError, Result
from tests.harness import full_stack_name

cluster, ssh_agent = lane_fixtures("package")

LIMITS = {
    "users": [
        {
            "userId": LIMITED_USER,
            "resources": [{"type": "RAM", "amount": 3072, "unit": "mb"}, {"type": "workspace", "amount": 4}],
        }
    ]
}


@pytest.fixture(scope="package")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="package")
def primary(cluster, ssh_agent, backend, tmp_path_factory) -> Site:
    nodes = {node.name: node for node in cluster}
    config = config_keys(
        {
            "adminPassword": ADMIN_PASSWORD,
            "limits": LIMITS,
            "audit": {"enabled": True, "directory": str(tmp_path_factory.mktemp("audit"))},
        }
    )
    return Site(lane_engine("sim", cluster, backend, ssh_agent), nodes, config)


# --- the first `up` -----------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def first_up(primary) -> Result:
    return primary.up()


# --- upgrade ------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def user_data(primary, first_up) -> dict[str, Any]:
    """A user, a workspace and a project file written through the API before the upgrade."""
    wait_for("healthy", lambda: healthy(primary))
    user = add_user(primary, "bob")
    workspace = create_workspace(primary, user, "demo")
    status, _ = api(primary, "PUT", f"/project/{workspace}/src/main.py", b"print('hello')\n")
    assert status == 201
    return {"user": user, "workspace": workspace, "stats": api(primary, "GET", "/stats")[1]}


@pytest.fixture(scope="package")
def upgraded(primary, user_data) -> Result:
    old_server = primary.container("server")["Id"]
    result = primary.up(version=UPGRADE_VERSION)
    primary.remember(version=UPGRADE_VERSION)
    return result, old_server


@pytest.fixture(scope="package")
def failed_upgrade(primary, upgraded) -> str:
    with pytest.raises(EngineError) as caught:
        primary.up(version=MISSING_VERSION)
    return str(caught.value)


@pytest.fixture(scope="package")
def upgrade_abandoned(primary, failed_upgrade) -> Result:
    return primary.up()


# --- add and remove a workspace node ------------------------------------------------------------------


def sim_workers(primary: Site) -> list[dict[str, Any]]:
    return [sim_worker(primary.nodes[node.name]) for node in SITE.nodes]


@pytest.fixture(scope="package")
def join_refused(primary, upgrade_abandoned) -> str:
    """node4 is added while it cannot reach the manager's swarm port: the `up` fails."""
    node4 = primary.nodes["node4"]
    block = f"OUTPUT -d {SITE.master.address} -p tcp --dport 2377 -j REJECT"
    node4.ssh(f"iptables -I {block}")
    try:
        with pytest.raises(EngineError) as caught:
            primary.up(nodes=[*sim_workers(primary), sim_worker(node4)])
    finally:
        node4.ssh(f"iptables -D {block}")
    return str(caught.value)


@pytest.fixture(scope="package")
def node_added(primary, join_refused) -> Result:
    return primary.up(nodes=[*sim_workers(primary), sim_worker(primary.nodes["node4"])])


@pytest.fixture(scope="package")
def node_removed(primary, node_added) -> Result:
    return primary.up(nodes=sim_workers(primary))


# --- daemon.json change on the managed master ---------------------------------------------------------------


@pytest.fixture(scope="package")
def daemon_changed(primary, node_removed) -> tuple[Result, dict[str, Any], dict[str, str]]:
    """The master's advertised RAM changes: a label in its daemon.json, nothing any container reads."""
    stats = api(primary, "GET", "/stats")[1]
    containers = {service: primary.container(service)["Id"] for service in MASTER_SERVICES}
    master = SITE.master.model_dump(mode="json", by_alias=True, exclude_none=True)
    primary.remember(master={**master, "ramGb": SITE.master.ram_gb + 0.5})
    return primary.up(), stats, containers


# --- renames: a node under a new name stays a member; a site is not renamed in place -------------------------


def renamed_workers(primary: Site, old: str, new: str) -> list[dict[str, Any]]:
    return [{**w, "name": new} if w["name"] == old else w for w in sim_workers(primary)]


@pytest.fixture(scope="package")
def node_renamed(primary, daemon_changed) -> Result:
    return primary.up(nodes=renamed_workers(primary, "node2", "worker2"))


# --- an encrypted overlay -------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def encrypted(primary, node_renamed) -> Result:
    primary.remember(network={"mode": "overlay", "encrypted": True})
    return primary.up()


# --- a standby beside the primary, cold, then promoted ---------------------------------------------------


@pytest.fixture(scope="package")
def standby(cluster, ssh_agent, backend, primary, encrypted) -> Site:
    """A standby matching the primary (version, two workspace hosts of the same capacity): its master on
    node5, which runs workspaces too, and node4 (which left the primary) as its worker."""
    master_host, worker_host = primary.nodes["node5"], primary.nodes["node4"]
    master = {**SITE.master.model_dump(by_alias=True, exclude_none=True), "name": master_host.name,
              "address": master_host.address, "hostWorkspaces": True, "ramGb": SITE.nodes[0].ram_gb,
              "cpus": SITE.nodes[0].cpus}  # fmt: skip
    # The primary lets its standby pull from its registry, as a DR pair must be set up.
    firewall = SITE.firewall.model_dump(mode="json", by_alias=True, exclude_none=True)
    primary.remember(
        firewall={**firewall, "peerCidrs": [f"{master_host.address}/32"]},
        replication={"standbyKeys": [mirror_key(master_host)]},
    )  # its transfer reads as codenvy-mirror
    primary.up()
    config = config_keys(
        {
            "siteName": "codenvy-dr",
            "role": "standby",
            "version": UPGRADE_VERSION,
            "hostname": master_host.address,
            "master": master,
            "nodes": [sim_worker(worker_host)],
            "dr": {
                "primaryStack": full_stack_name("sim"),
                "standby": "cold",
                "sshKeyFile": MIRROR_KEY_FILE,
                "transferSchedule": "30 2 * * *",
            },
        }
    )
    engine = lane_engine("sim-dr", cluster, backend, ssh_agent)
    return Site(engine, {n.name: n for n in cluster}, config)


@pytest.fixture(scope="package")
def cold_standby(standby) -> Result:
    return standby.up()


@pytest.fixture(scope="package")
def transferred(primary, standby, cold_standby) -> dict[str, Any]:
    primary.master.ssh(f"{SITE.backup.tools_directory}/codenvy-backup-{SITE.site_name}")
    standby.master.ssh(f"{SITE.backup.tools_directory}/codenvy-transfer-codenvy-dr")
    return api(primary, "GET", "/stats")[1]


@pytest.fixture(scope="package")
def cold_backup(standby, transferred) -> str:
    """The cold standby's own backup, as its nightly crontab line makes it after a transfer: the archive's path."""
    return standby.master.ssh(f"{SITE.backup.tools_directory}/codenvy-backup-{standby.name}").stdout.split()[-1]


@pytest.fixture(scope="package")
def promoted(standby, transferred) -> Result:
    dr = {**standby.config["codenvy-infra:dr"], "promote": True}
    standby.remember(dr=dr)
    return standby.up()


# --- a worker that is gone for good ---------------------------------------------------------------------


@pytest.fixture(scope="package")
def dead_worker_removed(primary, promoted) -> list[Result]:
    """node3 dies for good; the runbook (docs/operations.md): mark it `lost`, `up`, then drop it from the file,
    `up`. The engine log's length before, on the list's end: what the two runs logged follows it."""
    primary.log_mark = len(primary.engine.log)
    dead = primary.nodes["node3"]
    # Its own daemons only: every node sees every process of this machine, but /run is its own.
    dead.ssh("kill $(cat /run/docker.pid) $(cat /run/sshd.pid)", check=False)
    wait_for("node3 down on the manager", lambda: "Down" in primary.master.docker(
        "node", "ls", "--filter", "name=node3", "--format", "{{.Status}}").stdout, timeout=90)  # fmt: skip
    workers = sim_workers(primary)
    # `--refresh=false` both times: a refresh would read node3's containers through its dead daemon, and fail.
    marked = primary.up(nodes=[{**w, "lost": True} if w["name"] == "node3" else w for w in workers], refresh=False)
    primary.remember(nodes=[w for w in workers if w["name"] != "node3"])
    return [marked, primary.up(refresh=False)]


# --- destroy ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def destroyed(primary, standby, dead_worker_removed):
    standby.engine.destroy()
    primary.engine.destroy()
    return primary
