"""Backup, transfer and restore on real PostgreSQL: a primary site on node1 and its standby on node2, both
converged by the program's own commands; the database and application containers are the ones the
program registers, on images built from this machine's Debian binaries."""

from __future__ import annotations

import json
import time

import pytest

from tests.cluster.images import BUSYBOX_IMAGE, POSTGRES_IMAGE, REGISTRY_IMAGE, import_images
from tests.cluster.live import CommandRun, LiveMocks, Node, apply_container
from tests.harness import Evaluation, evaluate, full_stack_name, site_config

SIM = site_config("sim")
PRIMARY_NAME, STANDBY_NAME = "codenvy", "codenvy-dr"
DATA = "/home/codenvy/codenvy-data/fs"
SIM_KEY = "/var/lib/codenvy-sim/ssh/id_ed25519"
STACK_STATE: dict[str, dict] = {}


def master_on(node: Node) -> dict:
    """The sim stack's master settings, moved to `node`, hosting workspaces itself (a one-host site)."""
    master = SIM.master.model_dump(by_alias=True, exclude_none=True)
    return {**master, "name": node.name, "address": node.address, "hostWorkspaces": True}


def primary_config(node: Node, **extra) -> dict:
    return {
        "codenvy-infra:siteName": PRIMARY_NAME,
        "codenvy-infra:network": {"mode": "bridge"},
        "codenvy-infra:nodes": [],
        "codenvy-infra:master": master_on(node),
        "codenvy-infra:hostname": node.address,
        **extra,
    }


def standby_config(node: Node) -> dict:
    return primary_config(
        node,
        **{
            "codenvy-infra:siteName": STANDBY_NAME,
            "codenvy-infra:role": "standby",
            "codenvy-infra:dr": {"primaryStack": full_stack_name("sim"), "sshKeyFile": SIM_KEY},
        },
    )


def converge(nodes: list[Node], config: dict, outputs: dict) -> tuple[Evaluation, LiveMocks]:
    mocks = LiveMocks(nodes, STACK_STATE, outputs)
    return evaluate("sim", config, mocks=mocks), mocks


def start_services(node: Node, evaluation: Evaluation, site_name: str, with_registry: bool) -> None:
    apply_container(node, evaluation.named(f"{site_name}-master-postgres"), POSTGRES_IMAGE)
    # The application server is not run here; a stand-in holds its volumes and version file.
    apply_container(node, evaluation.named(f"{site_name}-master-server"), BUSYBOX_IMAGE, ("sleep", "86400"))
    if with_registry:
        apply_container(node, evaluation.named(f"{site_name}-registry-container"), REGISTRY_IMAGE)
    for _ in range(60):
        if node.docker("exec", f"{site_name}-postgres", "pg_isready", "-U", "codenvy", check=False).returncode == 0:
            return
        time.sleep(1)
    raise AssertionError(f"PostgreSQL of {site_name} did not start on {node.name}")


def sql(node: Node, site_name: str, statement: str) -> str:
    result = node.docker(
        "exec", f"{site_name}-postgres", "psql", "-qtA", "-U", "codenvy", "-d", "codenvy", "-c", statement
    )
    return result.stdout.strip()


def fingerprint(node: Node, site_name: str) -> dict[str, str]:
    """Row counts, a digest of every row, and the checksum of every project file."""
    files = node.docker(
        "exec", f"{site_name}-server", "sh", "-c", f"cd {DATA} && find . -type f | sort | xargs -r sha256sum"
    ).stdout
    return {
        "users": sql(node, site_name, "SELECT count(*) FROM users"),
        "workspaces": sql(node, site_name, "SELECT count(*) FROM workspaces"),
        "rows": sql(node, site_name, "SELECT md5(string_agg(u::text || w::text, ',' ORDER BY w.id)) "
                                     "FROM workspaces w JOIN users u ON u.id = w.owner"),
        "files": files,
    }  # fmt: skip


def seed(node: Node) -> None:
    sql(node, PRIMARY_NAME, "CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL UNIQUE)")
    sql(node, PRIMARY_NAME, "CREATE TABLE workspaces (id serial PRIMARY KEY, owner int REFERENCES users, name text)")
    sql(
        node,
        PRIMARY_NAME,
        "INSERT INTO users (email) SELECT 'dev' || n || '@example.org' FROM generate_series(1, 25) n",
    )
    sql(
        node,
        PRIMARY_NAME,
        "INSERT INTO workspaces (owner, name) SELECT 1 + n % 25, 'wksp-' || n FROM generate_series(1, 40) n",
    )
    node.docker("exec", f"{PRIMARY_NAME}-server", "sh", "-c",
                f"mkdir -p {DATA}/wksp-1/src {DATA}/wksp-2 && echo 'class A {{}}' > {DATA}/wksp-1/src/A.java "
                f"&& echo readme > {DATA}/wksp-2/README.md")  # fmt: skip


@pytest.fixture(scope="module")
def sites(cluster):
    primary_node, standby_node = cluster[0], cluster[1]
    # The primary lets its standby pull from its registry, as a DR pair must be set up.
    peers = {"codenvy-infra:firewall": {"peerCidrs": [f"{standby_node.address}/32"]}}
    config = primary_config(primary_node, **peers)
    primary, _ = converge(cluster, config, {})
    for node in (primary_node, standby_node):
        import_images(node.docker_host, (BUSYBOX_IMAGE, REGISTRY_IMAGE, POSTGRES_IMAGE))
    start_services(primary_node, primary, PRIMARY_NAME, with_registry=True)
    seed(primary_node)
    standby, standby_mocks = converge(cluster, standby_config(standby_node), {full_stack_name("sim"): primary.exports})
    start_services(standby_node, standby, STANDBY_NAME, with_registry=False)
    return {"primary": primary_node, "standby": standby_node, "standby_mocks": standby_mocks, "config": config}


def tool(site_name: str, name: str) -> str:
    return f"{SIM.backup.tools_directory}/codenvy-{name}-{site_name}"


@pytest.fixture(scope="module")
def archive(sites) -> str:
    """A backup taken by the primary's installed backup tool (what its crontab line runs)."""
    return sites["primary"].ssh(tool(PRIMARY_NAME, "backup")).stdout.strip().splitlines()[-1]


def test_backup_archive_carries_a_manifest_with_checksums(sites, archive):
    primary = sites["primary"]
    manifest = json.loads(primary.ssh(f"tar -xOf {archive} manifest.json").stdout)
    assert manifest["version"] == SIM.version and manifest["site"] == PRIMARY_NAME
    sums = dict(reversed(line.split()) for line in primary.ssh(f"tar -xOf {archive} SHA256SUMS").stdout.splitlines())
    assert manifest["members"] == sums
    assert set(sums) == {"database.dump", "fs.tar", "instance.tar"}
    dump_head = primary.ssh(f"tar -xOf {archive} database.dump | head -c 5").stdout
    assert dump_head == "PGDMP", "pg_dump custom format"
    crontab = primary.ssh("crontab -l").stdout
    assert f"{SIM.backup.schedule} {tool(PRIMARY_NAME, 'backup')}" in crontab


def test_standby_checked_the_primary_registry_and_installed_its_transfer_job(sites):
    mocks = sites["standby_mocks"]
    assert "reachable" in mocks.output_of("-dr-primary-registry").stdout
    assert "codenvy-transfer-codenvy-dr" in sites["standby"].ssh("crontab -l").stdout


def test_restore_through_the_nightly_transfer_gives_identical_rows_and_files(sites, archive):
    primary, standby = sites["primary"], sites["standby"]
    output = standby.ssh(tool(STANDBY_NAME, "transfer")).stdout
    assert "fetched" in output and "restored" in output
    assert fingerprint(standby, STANDBY_NAME) == fingerprint(primary, PRIMARY_NAME)
    assert fingerprint(standby, STANDBY_NAME)["users"] == "25"


def test_restore_and_transfer_again_change_nothing(sites, archive):
    standby = sites["standby"]
    before = fingerprint(standby, STANDBY_NAME)
    output = standby.ssh(tool(STANDBY_NAME, "transfer")).stdout
    assert "already fetched" in output and "already restored" in output
    assert fingerprint(standby, STANDBY_NAME) == before


def restore_copy(standby: Node, archive: str, damage: str) -> tuple[CommandRun, dict]:
    """Restore a damaged copy of the fetched archive; returns the run and the target's state after it."""
    incoming = f"/var/backups/codenvy/incoming/{archive.rsplit('/', 1)[-1]}"
    standby.ssh(
        f"rm -rf /tmp/damaged && mkdir /tmp/damaged && cp {incoming} /tmp/damaged/a.tar && cd /tmp/damaged && {damage}"
    )
    result = standby.ssh(f"{tool(STANDBY_NAME, 'restore')} /tmp/damaged/a.tar", check=False)
    assert result.returncode != 0, "a damaged archive must be refused"
    return CommandRun("restore", standby.name, result.stdout, result.stderr), fingerprint(standby, STANDBY_NAME)


def test_restore_refuses_a_truncated_archive_and_leaves_the_target_untouched(sites, archive):
    standby = sites["standby"]
    sql(standby, STANDBY_NAME, "INSERT INTO users (email) VALUES ('only-on-standby@example.org')")
    before = fingerprint(standby, STANDBY_NAME)
    run, after = restore_copy(standby, archive, "truncate -s 4096 a.tar")
    assert "corrupt or truncated" in run.stderr and "nothing was changed" in run.stderr
    assert after == before


def test_restore_refuses_a_tampered_member(sites, archive):
    standby = sites["standby"]
    before = fingerprint(standby, STANDBY_NAME)
    damage = "mkdir x && tar -xf a.tar -C x && echo junk >> x/fs.tar && tar -C x -cf a.tar ."
    run, after = restore_copy(standby, archive, damage)
    assert "checksums" in run.stderr and after == before


def test_restore_refuses_a_backup_from_a_newer_version(sites, archive):
    standby = sites["standby"]
    before = fingerprint(standby, STANDBY_NAME)
    damage = (
        'mkdir x && tar -xf a.tar -C x && sed -i \'s/"version": "[^"]*"/"version": "9.0.0"/\' x/manifest.json '
        "&& tar -C x -cf a.tar manifest.json SHA256SUMS database.dump fs.tar instance.tar"
    )
    run, after = restore_copy(standby, archive, damage)
    assert f"from 9.0.0, newer than this site's {SIM.version}" in run.stderr
    assert after == before


def test_pre_upgrade_backup_saves_the_deployed_version_before_the_new_one(cluster, sites):
    primary = sites["primary"]
    target = "5.23.0"
    previous = {full_stack_name("sim"): {"version": SIM.version}}
    _, mocks = converge(cluster, {**sites["config"], "codenvy-infra:version": target}, previous)
    saved = mocks.output_of("-master-pre-upgrade-backup").stdout.strip().splitlines()[-1]
    assert saved.endswith(f"-{SIM.version}.tar"), "the archive holds the version being replaced"
    manifest = json.loads(primary.ssh(f"tar -xOf {saved} manifest.json").stdout)
    assert manifest["reason"] == "pre-upgrade" and manifest["version"] == SIM.version
    # The second converge on this host: what the version does not touch changes nothing.
    for unchanged in ("-backups-schedule", f"-ws-{primary.name}-firewall", f"-ws-{primary.name}-daemon-config"):
        assert "unchanged" in mocks.output_of(unchanged).stdout, unchanged
    crontab = primary.ssh("crontab -l").stdout.splitlines()
    assert len([line for line in crontab if line.endswith("# codenvy-backup-codenvy")]) == 1
