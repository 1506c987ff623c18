"""Continuous DR on real engines: a primary on node1 streaming to a hot standby on node2, each a bridge-mode
site of one host. The standby's database follows within seconds and its project files after each sync; a
standby whose slot the primary dropped says so in the next preview; promotion while the primary is cut off makes
the standby the active site, and the old primary, back, fences itself and is refused by its own preview; failback
makes the old primary its standby, seeded from it. Tests run in file order."""

from __future__ import annotations

import shlex
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest

from components.certificate_authority import SERVER_EARLY_RENEWAL_HOURS, SERVER_VALIDITY_HOURS
from tests.cluster.dr_pair import MIRROR_KEY_FILE, STANDBY_SITE, STANDBY_STACK, dr_pair, mirror_key, standby_of
from tests.cluster.host_state import changes_when_run_again, host_state
from tests.cluster.sim import set_link
from tests.cluster.site_driver import SITE, Site, add_user, all_users, api, create_workspace, healthy, wait_for
from tests.engine.engine import Backend, EngineError, Result

LANE_NODES = 2
# Small enough that the lane can outgrow it with a little writing, so a stopped standby loses its slot.
MAX_WAL_KEEP_MB = 64
ROW_WAIT = 10
SITE_FS = "/opt/codenvy-data/fs"


@pytest.fixture(scope="module")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="module")
def sites(cluster, ssh_agent, backend) -> tuple[Site, Site]:
    return dr_pair(cluster, backend, ssh_agent, maxWalKeepMb=MAX_WAL_KEEP_MB)


@pytest.fixture(scope="module")
def primary(sites) -> Site:
    return sites[0]


@pytest.fixture(scope="module")
def standby(sites) -> Site:
    return sites[1]


@pytest.fixture(scope="module")
def pair(primary, standby) -> tuple[Result, Result]:
    first = primary.up()
    wait_for("the primary healthy", lambda: healthy(primary))
    second = standby.up()
    wait_for("the standby healthy", lambda: healthy(standby))
    return first, second


def sql(site: Site, query: str) -> str:
    return site.master.docker("exec", f"{site.name}-postgres", "psql", "-X", "-At", "-U", "codenvy", "-d", "codenvy",
                              "-c", query).stdout.strip()  # fmt: skip


def users(site: Site) -> set[str]:
    return {user["email"] for user in all_users(site)}


def tool(site: Site, name: str, *args: str, check: bool = True):
    return site.master.ssh(" ".join([f"{SITE.backup.tools_directory}/codenvy-{name}-{site.name}", *args]), check=check)


def test_the_standbys_database_is_a_read_only_replica(standby, pair):
    assert sql(standby, "SELECT pg_is_in_recovery()") == "t"


def test_a_row_written_on_the_primary_is_readable_on_the_standby_within_seconds(primary, standby, pair):
    add_user(primary, "first")
    wait_for("the user on the standby", lambda: "first@example.com" in users(standby), timeout=ROW_WAIT, every=0.2)


def test_the_idle_standby_refuses_writes(standby, pair):
    body = {"name": "nobody", "email": "nobody@example.com", "password": "nobody-pw-1"}
    assert api(standby, "POST", "/user", body)[0] == 503


def test_the_primarys_database_refuses_its_superuser_from_the_standbys_master(primary, standby, pair):
    """The standby's master passes the firewall to replicate; pg_hba.conf admits it for nothing else, even with
    the superuser's right password."""
    env = dict(item.split("=", 1) for item in primary.container("postgres")["Config"]["Env"])
    conninfo = f"host={primary.master.address} user=codenvy dbname=codenvy sslmode=require connect_timeout=5"
    login = standby.master.docker("exec", "-e", f"PGPASSWORD={env['POSTGRES_PASSWORD']}", f"{standby.name}-postgres",
                                  "psql", "-X", "-At", "-d", conninfo, "-c", "SELECT 1", check=False)  # fmt: skip
    assert "no pg_hba.conf entry" in login.stderr, login.stdout + login.stderr


@pytest.fixture(scope="module")
def workspace(primary, pair) -> str:
    """A workspace of the primary's, for its project files."""
    return create_workspace(primary, None, "files")


def project_file(site: Site, workspace: str, path: str) -> int:
    return api(site, "GET", f"/project/{workspace}/{path}")[0]


def test_a_file_written_on_the_primary_reaches_the_standby_with_the_next_sync(primary, standby, workspace):
    assert api(primary, "PUT", f"/project/{workspace}/kept.txt", b"kept")[0] == 201
    tool(standby, "transfer", "files")
    assert project_file(standby, workspace, "kept.txt") == 200


def test_a_file_deleted_on_the_primary_is_gone_from_the_standby_after_the_next_sync(primary, standby, workspace):
    assert api(primary, "PUT", f"/project/{workspace}/gone.txt", b"soon gone")[0] == 201
    tool(standby, "transfer", "files")
    primary.master.docker("exec", f"{primary.name}-server", "rm", f"{SITE_FS}/{workspace}/gone.txt")
    tool(standby, "transfer", "files")
    assert project_file(standby, workspace, "gone.txt") == 404


# --- what the standby's key may do on the primary: read fs/ and the archives, nothing else -----------------------

SSH = (f"ssh -i {MIRROR_KEY_FILE} -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
       "-o LogLevel=ERROR")  # fmt: skip


def with_transfer_key(site: Site, command: str):
    """`command` run on `site`'s master, where its transfer key is."""
    return site.master.ssh(command, check=False)


def test_the_standbys_key_runs_no_shell_on_the_primary(primary, standby, pair):
    result = with_transfer_key(standby, f"{SSH} codenvy-mirror@{primary.master.address} id")
    assert result.returncode != 0 and "uid=" not in result.stdout
    assert "mirror of codenvy: refused" in result.stderr


def test_the_standbys_key_is_not_roots_on_the_primary(primary, standby, pair):
    result = with_transfer_key(standby, f"{SSH} root@{primary.master.address} id")
    assert result.returncode == 255 and "uid=" not in result.stdout


@pytest.mark.parametrize("path", ["/etc/", "fs/../", "archives/../../../etc/", "archives/incoming/", "."])
def test_the_standbys_key_reads_nothing_outside_what_it_syncs(primary, standby, pair, path):
    result = with_transfer_key(
        standby, f"rsync -e '{SSH}' --list-only -r codenvy-mirror@{primary.master.address}:{path}"
    )
    assert result.returncode != 0 and result.stdout == ""


def test_the_standbys_key_writes_nothing_on_the_primary(primary, standby, pair):
    result = with_transfer_key(standby, f"rsync -e '{SSH}' /etc/hostname codenvy-mirror@{primary.master.address}:fs/x")
    assert result.returncode != 0 and "mirror of codenvy: refused" in result.stderr


def test_a_second_run_of_the_mirror_account_script_changes_nothing(primary, pair):
    (account,) = [r for r in primary.engine.checkpoint.resources if r.urn.endswith("codenvy-mirror-account")]
    assert primary.master.ssh(account.inputs["create"]).stdout.strip().endswith("codenvy-mirror unchanged")


# --- what the file sync refuses -------------------------------------------------------------------------------


def volume_path(site: Site) -> str:
    return site.master.ssh(f"docker volume inspect -f '{{{{.Mountpoint}}}}' {site.name}-fs").stdout.strip()


# In front of the standby's docker and rsync: a `volume inspect` that prints nothing (a daemon's empty answer),
# and, should the transfer not refuse that, an rsync that never writes outside the standby's volume.
EMPTY_ANSWER = """#!/bin/sh
[ "$1" = volume ] && exit 0
exec /usr/bin/docker "$@"
"""
RSYNC_GUARD = f"""#!/bin/bash
case "${{@: -1}}" in
  *:* | */volumes/{STANDBY_SITE}-fs/_data/) exec /usr/bin/rsync "$@" ;;
esac
echo "lane guard: rsync into ${{@: -1}} refused" >&2
exit 99
"""


def test_the_file_sync_refuses_an_empty_mountpoint(standby, pair):
    """About 1 s: the nodes share this machine's /tmp."""
    with tempfile.TemporaryDirectory() as shadow:
        for name, text in (("docker", EMPTY_ANSWER), ("rsync", RSYNC_GUARD)):
            (Path(shadow) / name).write_text(text)
            (Path(shadow) / name).chmod(0o755)
        command = f"{SITE.backup.tools_directory}/codenvy-transfer-{standby.name} files"
        result = standby.master.ssh(f"PATH={shadow}:$PATH {command}", check=False)
    assert result.returncode == 1 and f"the volume {STANDBY_SITE}-fs has no usable mountpoint here" in result.stderr


@pytest.fixture(scope="module")
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


@pytest.mark.parametrize("named", ["fs/hostile-null (a device node)", "fs/hostile-suid (setuid)",
                                   "fs/hostile-root (a link out of fs/)"])  # fmt: skip
def test_the_file_sync_refuses_device_setuid_and_outward_link_entries_by_name(hostile_sync, named):
    assert named in hostile_sync[0].stderr


def test_the_file_sync_leaves_refused_entries_on_the_primary(hostile_sync):
    assert not [name for name in hostile_sync[1] if name.startswith("hostile-")]


def test_the_status_tool_reports_a_healthy_replica(standby, pair):
    assert tool(standby, "replication").stdout.strip().endswith(f"replication of {STANDBY_SITE}: healthy")


def test_the_standbys_second_preview_is_empty(standby, pair):
    assert standby.preview().diff() == []


def test_the_primarys_second_preview_is_empty(primary, pair):
    assert primary.preview().diff() == []


def database_state(site: Site) -> str:
    """What the replication scripts keep in the database: the replication role (its salted password hash is
    new with every ALTER ROLE … PASSWORD), the slots, and the stream itself (a reconnect is a new process)."""
    return "\n".join(
        sql(site, query)
        for query in (
            "SELECT rolpassword, shobj_description(oid, 'pg_authid') FROM pg_authid WHERE rolname = 'replicator'",
            "SELECT slot_name FROM pg_replication_slots ORDER BY 1",
            "SELECT pid FROM pg_stat_replication UNION ALL SELECT pid FROM pg_stat_wal_receiver",
        )
    )


def pair_state(primary: Site, standby: Site) -> dict[str, dict[str, str]]:
    state = {name: host_state(node) for name, node in primary.nodes.items()}
    for site in (primary, standby):
        state[site.master.name]["database"] = database_state(site)
    return state


def test_every_script_run_again_on_the_converged_pair_changes_nothing(primary, standby, pair):
    changed, printed = changes_when_run_again(lambda: pair_state(primary, standby), primary.engine, standby.engine)
    assert changed == [], printed


# --- the primary's certificates renewed: the replica keeps streaming ------------------------------------


def receiver_pid(site: Site) -> str:
    """The standby's stream process: a reconnect to the primary is a new one."""
    return sql(site, "SELECT pid FROM pg_stat_wal_receiver")


@pytest.fixture(scope="module")
def renewed(primary, standby, pair) -> tuple[Result, str]:
    """An `up` of the primary once its certificates are in their renewal window (the tls provider's clock moved
    on, the CA has years left); with the standby's stream process from before it."""
    receiver = receiver_pid(standby)
    window_opens = primary.engine.now() + timedelta(hours=SERVER_VALIDITY_HOURS - SERVER_EARLY_RENEWAL_HOURS)
    primary.engine.now = lambda: window_opens
    result = primary.up()
    wait_for("the primary healthy after the renewal", lambda: healthy(primary))
    return result, receiver


def test_an_up_in_the_renewal_window_renews_the_primarys_certificates(renewed):
    kinds = {step.kind for step in renewed[0].steps if step.type == "tls:index/locallySignedCert:LocallySignedCert"}
    assert kinds == {"replace", "delete-replaced"}


def test_the_renewed_primary_serves_clients_that_trust_the_site_ca(primary, renewed):
    assert api(primary, "GET", "/user")[0] == 200


def test_the_replica_keeps_its_stream_through_the_primarys_renewal(standby, renewed):
    assert receiver_pid(standby) == renewed[1]


def test_a_row_written_after_the_renewal_reaches_the_standby_within_seconds(primary, standby, renewed):
    add_user(primary, "renewed")
    wait_for("the user on the standby", lambda: "renewed@example.com" in users(standby), timeout=ROW_WAIT, every=0.2)


def test_the_primarys_preview_after_the_renewal_is_empty(primary, renewed):
    assert primary.preview().diff() == []


# --- a standby that fell behind for longer than the primary keeps WAL for it ---------------------------


@pytest.fixture(scope="module")
def slot_lost(primary, standby, pair) -> None:
    standby.master.docker("stop", f"{standby.name}-postgres")
    sql(primary, "CREATE TABLE filler AS SELECT repeat(md5(i::text), 40) AS pad FROM generate_series(1, 80000) i")
    for _ in range(4):
        sql(primary, "SELECT pg_switch_wal()")
        sql(primary, "CHECKPOINT")
    wait_for("the slot lost", lambda: sql(primary, "SELECT wal_status FROM pg_replication_slots") in ("lost", ""))
    standby.master.docker("start", f"{standby.name}-postgres")
    wait_for("the standby's database answering", lambda: sql(standby, "SELECT 1") == "1")


def test_a_replica_that_lost_its_slot_is_reported_by_the_status_tool(standby, slot_lost):
    assert "no longer keeps slot" in tool(standby, "replication", check=False).stdout


def test_a_replica_that_lost_its_slot_fails_the_status_tool(standby, slot_lost):
    assert tool(standby, "replication", check=False).returncode == 1


def test_a_replica_that_lost_its_slot_is_reported_in_the_next_preview(standby, slot_lost):
    before = len(standby.engine.log)
    standby.preview()
    warnings = [line.text for line in standby.engine.log[before:] if line.severity == "warning"]
    assert any("broken" in text and "dr.reseed" in text for text in warnings)


@pytest.fixture(scope="module")
def reseeded(primary, standby, slot_lost) -> Result:
    standby.remember(dr={**standby.config["codenvy-infra:dr"], "reseed": 1})
    result = standby.up()
    wait_for("the reseeded standby healthy", lambda: healthy(standby))
    return result


def test_raising_reseed_makes_the_replica_follow_again(primary, standby, reseeded):
    add_user(primary, "after-reseed")
    wait_for("the user on the standby", lambda: "after-reseed@example.com" in users(standby), timeout=ROW_WAIT)


# --- promotion ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
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


def test_promotion_makes_the_standby_writable(standby, promoted):
    assert add_user(standby, "promoted").id


def test_promotion_keeps_what_the_primary_had(standby, promoted):
    assert {"first@example.com", "after-reseed@example.com"} <= users(standby)


def test_promotion_keeps_the_synced_project_files(standby, workspace, promoted):
    assert project_file(standby, workspace, "kept.txt") == 200


def test_promotion_replaces_no_container(promoted):
    assert [step for step in promoted.steps if step.kind in ("replace", "delete-replaced")] == []


def test_promotion_removes_the_standbys_crontab_lines(standby, promoted):
    crontab = standby.master.ssh("crontab -l 2> /dev/null || true").stdout
    assert f"codenvy-transfer-{STANDBY_SITE}" not in crontab


def test_the_promoted_standby_claims_the_dns_record(standby, promoted):
    assert standby.engine.checkpoint.outputs["dnsRecord"]["value"] == standby.master.address


def test_the_promoted_standbys_second_preview_is_empty(standby, promoted):
    assert standby.preview().diff() == []


def test_every_script_run_again_on_the_promoted_standby_changes_nothing(primary, standby, promoted):
    changed, printed = changes_when_run_again(lambda: pair_state(primary, standby), standby.engine)
    assert changed == [], printed


# --- the old primary comes back: fenced ------------------------------------------------------------------


def test_the_returning_primarys_preview_names_its_promoted_standby(primary, standby, promoted):
    """Asked before its fence job has run: the gate asks the standby itself."""
    refused = (
        f"codenvy-infra:role: this site is no longer the primary: the standby {standby.master.address} was promoted"
    )
    with pytest.raises(EngineError, match=refused):
        primary.preview()


def scheduled_command(site: Site, tool_name: str) -> str:
    """What cron runs for the site's `tool_name` line: the command between the five time fields and the tag."""
    marker = f" # codenvy-{tool_name}-{site.name}"
    (line,) = [line for line in site.master.ssh("crontab -l").stdout.splitlines() if line.endswith(marker)]
    return line.removesuffix(marker).split(None, 5)[5]


def in_recovery(site: Site) -> bool:
    return site.master.docker("exec", f"{site.name}-postgres", "psql", "-X", "-At", "-U", "codenvy", "-d", "postgres",
                              "-c", "SELECT pg_is_in_recovery()").stdout.strip() == "t"  # fmt: skip


@pytest.fixture(scope="module")
def fenced(primary, promoted) -> str:
    """The old primary's fence line run as cron runs it (the lane's hosts have no cron daemon); its database's
    start time after."""
    fence = scheduled_command(primary, "fence")
    primary.master.ssh(f"env -i PATH=/usr/bin:/bin sh -c {shlex.quote(fence)}")
    wait_for("the old primary's database in recovery", lambda: in_recovery(primary), timeout=60)
    return primary.container("postgres")["State"]["StartedAt"]


def test_the_fenced_primary_refuses_writes_through_its_api(primary, fenced):
    body = {"name": "split", "email": "split@example.com", "password": "split-pw-1"}
    assert api(primary, "POST", "/user", body)[0] == 503


def test_the_fenced_primarys_database_refuses_the_superusers_writes(primary, fenced):
    write = primary.master.docker("exec", f"{primary.name}-postgres", "psql", "-X", "-U", "codenvy", "-d", "codenvy",
                                  "-c", "CREATE TABLE split (id int)", check=False)  # fmt: skip
    assert "read-only transaction" in write.stderr, write.stdout + write.stderr


def test_the_fenced_primarys_preview_still_names_its_promoted_standby(primary, standby, fenced):
    with pytest.raises(EngineError, match=f"the standby {standby.master.address} was promoted"):
        primary.preview()


def test_the_fence_run_again_leaves_the_fenced_database_as_it_is(primary, fenced):
    primary.master.ssh(f"env -i PATH=/usr/bin:/bin sh -c {shlex.quote(scheduled_command(primary, 'fence'))}")
    assert primary.container("postgres")["State"]["StartedAt"] == fenced


# --- failback: the old primary becomes the standby of the promoted site --------------------------------


@pytest.fixture(scope="module")
def failed_back(cluster, primary, standby, promoted) -> Result:
    standby.remember(replication={"standbyAddresses": [cluster[0].address], "standbyKeys": [mirror_key(cluster[0])]})
    standby.up()
    primary.config.pop("codenvy-infra:replication")
    primary.remember(role="standby", dr=standby_of(STANDBY_STACK, cluster[0], transferSchedule=None))
    result = primary.up()
    wait_for("the old primary healthy as a standby", lambda: healthy(primary))
    return result


def test_failback_makes_the_old_primary_a_replica(primary, failed_back):
    assert sql(primary, "SELECT pg_is_in_recovery()") == "t"


def test_failback_brings_the_promoted_sites_writes_to_the_old_primary(primary, failed_back):
    assert "promoted@example.com" in users(primary)


def test_failback_keeps_the_old_primarys_own_data_in_an_archive(primary, failed_back):
    listing = primary.master.ssh(f"ls {SITE.backup.directory}").stdout
    assert any(name.startswith("pre-seed-") for name in listing.split())


def test_after_failback_the_old_primarys_key_runs_no_shell_on_the_promoted_site(primary, standby, failed_back):
    result = with_transfer_key(primary, f"{SSH} codenvy-mirror@{standby.master.address} id")
    assert result.returncode != 0 and "uid=" not in result.stdout
    assert f"mirror of {STANDBY_SITE}: refused" in result.stderr


def test_after_failback_the_old_primary_syncs_the_promoted_sites_files(primary, failed_back):
    assert "file sync: files transferred" in tool(primary, "transfer", "files").stdout


def test_the_old_primary_follows_new_writes(primary, standby, failed_back):
    add_user(standby, "after-failback")
    wait_for("the user on the old primary", lambda: "after-failback@example.com" in users(primary), timeout=ROW_WAIT)


def test_the_promoted_sites_next_up_after_failback_replaces_nothing(standby, failed_back):
    """It now reads the old primary as its standby: its password and its containers stay as they are."""
    assert [str(step) for step in standby.up().steps if step.kind in ("replace", "delete-replaced")] == []


def test_failback_keeps_the_old_primarys_database_container(failed_back):
    """Its server is replaced (its declared role changes), never its PostgreSQL: the seed replaced its data."""
    replaced = {step.urn.rsplit("::", 1)[-1] for step in failed_back.steps if step.kind == "replace"}
    assert "codenvy-master-postgres" not in replaced


# --- a standby switched from streaming to the nightly archive ------------------------------------------------


@pytest.fixture(scope="module")
def switched_to_archive(cluster, primary, failed_back) -> Result:
    """The old primary, now a streaming standby, told to take the nightly archive instead: its database keeps
    the data directory the stream made (standby.signal included), and its server gets a password of its own."""
    primary.remember(dr=standby_of(STANDBY_STACK, cluster[0], transferSchedule=None, replication="archive"))
    return primary.up()


def test_a_standby_switched_to_archive_takes_writes_again(primary, switched_to_archive):
    assert sql(primary, "SELECT pg_is_in_recovery()") == "f"


def test_a_standby_switched_to_archive_serves_under_its_new_password(primary, switched_to_archive):
    wait_for("the standby switched to archive healthy", lambda: healthy(primary))
