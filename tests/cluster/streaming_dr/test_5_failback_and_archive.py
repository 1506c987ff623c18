"""Failback makes the old primary the standby of the promoted site, seeded from it; switched from streaming to
the nightly archive, it takes writes again under a password of its own."""

from __future__ import annotations

from tests.cluster.dr_pair import STANDBY_SITE
from tests.cluster.site_driver import SITE, add_user, healthy, wait_for
from tests.cluster.streaming_dr.steps import ROW_WAIT, SSH, sql, tool, users, with_transfer_key


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


def test_a_standby_switched_to_archive_takes_writes_again(primary, switched_to_archive):
    assert sql(primary, "SELECT pg_is_in_recovery()") == "f"


def test_a_standby_switched_to_archive_serves_under_its_new_password(primary, switched_to_archive):
    wait_for("the standby switched to archive healthy", lambda: healthy(primary))
