"""Continuous DR on real engines: a primary on node1 streaming to a hot standby on node2, each a bridge-mode
site of one host. Each step (the pair converged, a renewal, a lost slot, promotion, the old primary back, failback)
is a package-scoped fixture that runs once after the step before it; the numbered modules test them in order."""

from __future__ import annotations

import shlex
from datetime import timedelta

import pytest

from components.certificate_authority import SERVER_EARLY_RENEWAL_HOURS, SERVER_VALIDITY_HOURS
from tests.cluster.dr_pair import STANDBY_STACK, dr_pair, mirror_key, standby_of
from tests.cluster.lane_fixtures import lane_fixtures
from tests.cluster.sim import set_link
from tests.cluster.site_driver import Site, create_workspace, healthy, wait_for
from tests.cluster.streaming_dr.steps import receiver_pid, scheduled_command, sql, tool
from tests.engine.engine import Backend, Result

# Small enough that the lane can outgrow it with a little writing, so a stopped standby loses its slot.
MAX_WAL_KEEP_MB = 64


# Two hosts: the primary site on one, its standby on the other.
cluster, ssh_agent = lane_fixtures("package", nodes=2)


@pytest.fixture(scope="package")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="package")
def sites(cluster, ssh_agent, backend) -> tuple[Site, Site]:
    return dr_pair(cluster, backend, ssh_agent, maxWalKeepMb=MAX_WAL_KEEP_MB)


@pytest.fixture(scope="package")
def primary(sites) -> Site:
    return sites[0]


@pytest.fixture(scope="package")
def standby(sites) -> Site:
    return sites[1]


@pytest.fixture(scope="package")
def pair(primary, standby) -> tuple[Result, Result]:
    first = primary.up()
    wait_for("the primary healthy", lambda: healthy(primary))
    second = standby.up()
    wait_for("the standby healthy", lambda: healthy(standby))
    return first, second


@pytest.fixture(scope="package")
def workspace(primary, pair) -> str:
    """A workspace of the primary's, for its project files."""
    return create_workspace(primary, None, "files")


# --- what the file sync refuses -------------------------------------------------------------------------------


def volume_path(site: Site) -> str:
    return site.master.ssh(f"docker volume inspect -f '{{{{.Mountpoint}}}}' {site.name}-fs").stdout.strip()


@pytest.fixture(scope="package")
def hostile_sync(primary, standby, workspace):
    """A sync while the primary's fs/ holds a device node, a setuid file and a link to `/` (about 3 s with the
    sync that follows their removal): what it said, and what the standby's volume then held."""
    source = volume_path(primary)
    primary.master.ssh(f"cd {source} && mknod hostile-null c 1 3 && cp /bin/true hostile-suid && "
                       "chmod 4755 hostile-suid && ln -s / hostile-root")  # fmt: skip
    try:
        result = tool(standby, "transfer", "files", check=False)
        landed = standby.master.ssh(f"ls -A {volume_path(standby)}").stdout.split()
    finally:
        primary.master.ssh(f"rm -f {source}/hostile-*")
        tool(standby, "transfer", "files")
    return result, landed


@pytest.fixture(scope="package")
def renewed(primary, standby, pair) -> tuple[Result, str]:
    """An `up` of the primary once its certificates are in their renewal window (the tls provider's clock moved
    on, the CA has years left); with the standby's stream process from before it."""
    receiver = receiver_pid(standby)
    window_opens = primary.engine.now() + timedelta(hours=SERVER_VALIDITY_HOURS - SERVER_EARLY_RENEWAL_HOURS)
    primary.engine.now = lambda: window_opens
    result = primary.up()
    wait_for("the primary healthy after the renewal", lambda: healthy(primary))
    return result, receiver


# --- a standby that fell behind for longer than the primary keeps WAL for it ---------------------------


@pytest.fixture(scope="package")
def slot_lost(primary, standby, pair) -> None:
    standby.master.docker("stop", f"{standby.name}-postgres")
    sql(primary, "CREATE TABLE filler AS SELECT repeat(md5(i::text), 40) AS pad FROM generate_series(1, 80000) i")
    for _ in range(4):
        sql(primary, "SELECT pg_switch_wal()")
        sql(primary, "CHECKPOINT")
    wait_for("the slot lost", lambda: sql(primary, "SELECT wal_status FROM pg_replication_slots") in ("lost", ""))
    standby.master.docker("start", f"{standby.name}-postgres")
    wait_for("the standby's database answering", lambda: sql(standby, "SELECT 1") == "1")


@pytest.fixture(scope="package")
def reseeded(primary, standby, slot_lost) -> Result:
    standby.remember(dr={**standby.config["codenvy-infra:dr"], "reseed": 1})
    result = standby.up()
    wait_for("the reseeded standby healthy", lambda: healthy(standby))
    return result


# --- promotion ------------------------------------------------------------------------------------------


@pytest.fixture(scope="package")
def promoted(primary, standby, reseeded) -> Result:
    """The standby promoted while the primary's host is cut off; then the partition heals, and the old primary
    comes back still running as a primary, as after a power cut or a network split."""
    tool(standby, "transfer", "files")
    standby.remember(dr={**standby.config["codenvy-infra:dr"], "promote": True})
    set_link(primary.master, "down")
    try:
        result = standby.up()
        wait_for("the promoted standby healthy", lambda: healthy(standby))
    finally:
        set_link(primary.master, "up")
    wait_for("the old primary reachable again", lambda: primary.master.ssh("true").returncode == 0, timeout=60)
    return result


def in_recovery(site: Site) -> bool:
    return site.master.docker("exec", f"{site.name}-postgres", "psql", "-X", "-At", "-U", "codenvy", "-d", "postgres",
                              "-c", "SELECT pg_is_in_recovery()").stdout.strip() == "t"  # fmt: skip


@pytest.fixture(scope="package")
def fenced(primary, promoted) -> str:
    """The old primary's fence line run as cron runs it (the lane's hosts have no cron daemon); its database's
    start time after."""
    fence = scheduled_command(primary, "fence")
    primary.master.ssh(f"env -i PATH=/usr/bin:/bin sh -c {shlex.quote(fence)}")
    wait_for("the old primary's database in recovery", lambda: in_recovery(primary), timeout=60)
    return primary.container("postgres")["State"]["StartedAt"]


# --- failback: the old primary becomes the standby of the promoted site --------------------------------


@pytest.fixture(scope="package")
def failed_back(cluster, primary, standby, promoted) -> Result:
    standby.remember(replication={"standbyAddresses": [cluster[0].address], "standbyKeys": [mirror_key(cluster[0])]})
    standby.up()
    primary.config.pop("codenvy-infra:replication")
    primary.remember(role="standby", dr=standby_of(STANDBY_STACK, cluster[0], transferSchedule=None))
    result = primary.up()
    wait_for("the old primary healthy as a standby", lambda: healthy(primary))
    return result


# --- a standby switched from streaming to the nightly archive ------------------------------------------------


@pytest.fixture(scope="package")
def switched_to_archive(cluster, primary, failed_back) -> Result:
    """The old primary, now a streaming standby, told to take the nightly archive instead: its database keeps
    the data directory the stream made (standby.signal included), and its server gets a password of its own."""
    primary.remember(dr=standby_of(STANDBY_STACK, cluster[0], transferSchedule=None, replication="archive"))
    return primary.up()
