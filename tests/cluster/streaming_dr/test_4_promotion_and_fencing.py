"""Promotion while the primary is cut off makes the standby the active site; the old primary, back, fences
itself and is refused by its own preview."""

from __future__ import annotations

import shlex

import pytest

from tests.cluster.dr_pair import STANDBY_SITE
from tests.cluster.host_state import changes_when_run_again
from tests.cluster.site_driver import add_user, api
from tests.cluster.streaming_dr.steps import pair_state, project_file, scheduled_command, users
from tests.engine.engine import EngineError


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
