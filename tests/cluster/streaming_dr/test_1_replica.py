"""The standby's database follows within seconds, its project files after each sync, and the standby's key may
only read fs/ and the archives on the primary."""

from __future__ import annotations

import pytest

from tests.cluster.site_driver import add_user, api, wait_for
from tests.cluster.streaming_dr.steps import ROW_WAIT, SSH, project_file, sql, tool, users, with_transfer_key

SITE_FS = "/opt/codenvy-data/fs"


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
