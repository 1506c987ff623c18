"""The primary's certificates renewed under a streaming replica, and a standby that fell behind for longer than
the primary keeps WAL for it: the status tool and the next preview say so."""

from __future__ import annotations

from tests.cluster.site_driver import add_user, api, wait_for
from tests.cluster.streaming_dr.steps import ROW_WAIT, receiver_pid, tool, users


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


def test_a_replica_that_lost_its_slot_is_reported_by_the_status_tool(standby, slot_lost):
    assert "no longer keeps slot" in tool(standby, "replication", check=False).stdout


def test_a_replica_that_lost_its_slot_fails_the_status_tool(standby, slot_lost):
    assert tool(standby, "replication", check=False).returncode == 1


def test_a_replica_that_lost_its_slot_is_reported_in_the_next_preview(standby, slot_lost):
    before = len(standby.engine.log)
    standby.preview()
    warnings = [line.text for line in standby.engine.log[before:] if line.severity == "warning"]
    assert any("broken" in text and "dr.reseed" in text for text in warnings)


def test_raising_reseed_makes_the_replica_follow_again(primary, standby, reseeded):
    add_user(primary, "after-reseed")
    wait_for("the user on the standby", lambda: "after-reseed@example.com" in users(standby), timeout=ROW_WAIT)
