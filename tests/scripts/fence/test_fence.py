"""The fence of a site that streams to standbys: its tool run against a stand-in Docker (what it asks a standby,
what it does when one was promoted past it), and the gate that refuses the old primary's next preview."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from components.config.errors import GateError
from components.config_loader import load_site_config
from components.deploy_gates import establish
from components.fencing import superseded_reason
from tests.harness import evaluate, script_of, script_parameters
from tests.harness.dr_evaluations import (
    PRIMARY_MASTER,
    PRIMARY_STACK,
    STANDBY_MASTER,
    config_files,
    following_standby,
    master,
    streaming_primary,
)

SYSTEM = "7301"
# The primary's current WAL file: timeline 1 (its first 8 hex digits).
WAL_FILE = "00000001000000000000000A"
# Docker on the primary's master as the fence sees it: its database answers as RECOVERY says, a standby answers
# IDENTIFY_SYSTEM with STANDBY (nothing: it does not answer), the reason file holds REASON (unset: none).
FAKE_DOCKER = f"""#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
case "$*" in
  *pg_isready*) exit 0 ;;
  *pg_is_in_recovery*) echo "$RECOVERY" ;;
  *system_identifier*) echo {SYSTEM} ;;
  *pg_walfile_name*) echo {WAL_FILE} ;;
  *IDENTIFY_SYSTEM*) [ -n "$STANDBY" ] && echo "$STANDBY" || exit 2 ;;
  "exec codenvy-postgres cat "*) [ -n "${{REASON:-}}" ] && echo "$REASON" || exit 1 ;;
esac
"""


def fence_script() -> str:
    tool = streaming_primary().named("codenvy-master-replication-fence-tool")
    return script_parameters(script_of(tool))["CONTENT"]


def run_fence(tmp_path: Path, standby: str, *args: str, recovery: str = "f", reason: str = "") -> tuple[str, str]:
    """(what the tool printed, the docker calls it made, one a line)."""
    (tmp_path / "docker").write_text(FAKE_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    calls = tmp_path / "calls"
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(calls), "STANDBY": standby, "RECOVERY": recovery,
           "REASON": reason}  # fmt: skip
    done = subprocess.run(["bash", "-c", fence_script(), "fence", *args], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout, calls.read_text().replace("\0", " ") if calls.exists() else ""


PROMOTED = f"{SYSTEM}|2|0/5000000|"


def test_a_standby_promoted_past_the_primary_makes_its_database_a_replica(tmp_path):
    _, calls = run_fence(tmp_path, PROMOTED)
    assert "standby.signal" in calls and "restart" in calls.split()


def test_a_standby_on_the_primarys_timeline_leaves_it_serving(tmp_path):
    _, calls = run_fence(tmp_path, f"{SYSTEM}|1|0/5000000|")
    assert "restart" not in calls.split()


def test_a_later_timeline_of_another_database_system_fences_nothing(tmp_path):
    _, calls = run_fence(tmp_path, "9999|2|0/5000000|")
    assert "restart" not in calls.split()


def test_a_standby_that_does_not_answer_fences_nothing(tmp_path):
    _, calls = run_fence(tmp_path, "")
    assert "restart" not in calls.split()


def test_the_check_changes_nothing(tmp_path):
    _, calls = run_fence(tmp_path, PROMOTED, "--check")
    assert "restart" not in calls.split() and "standby.signal" not in calls


def test_the_check_names_the_promoted_standby(tmp_path):
    printed, _ = run_fence(tmp_path, PROMOTED, "--check")
    assert STANDBY_MASTER in (superseded_reason("codenvy", printed) or "")


def test_a_fenced_database_is_only_reported_again(tmp_path):
    printed, calls = run_fence(tmp_path, PROMOTED, recovery="t", reason="the standby was promoted long ago")
    assert (superseded_reason("codenvy", printed), "restart" in calls.split()) == (
        "the standby was promoted long ago",
        False,
    )


def test_a_serving_primary_is_not_superseded(tmp_path):
    printed, _ = run_fence(tmp_path, f"{SYSTEM}|1|0/5000000|", "--check")
    assert superseded_reason("codenvy", printed) is None


# --- what the program registers --------------------------------------------------------------------------


def test_the_fence_runs_every_minute():
    schedule = streaming_primary().named("codenvy-master-replication-fence-schedule")
    assert script_parameters(script_of(schedule))["ENTRY"].split()[:5] == ["*"] * 5


def test_the_fence_asks_the_standbys_the_primary_lists():
    assert script_parameters(fence_script())["STANDBYS"] == STANDBY_MASTER


def test_the_fence_logs_in_to_a_standby_with_the_primarys_own_replication_password():
    line = config_files(streaming_primary(), "codenvy")["standbys.pgpass"].strip()
    password = streaming_primary().exports["replicationPassword"]
    assert line.split(":") == [STANDBY_MASTER, "5432", "*", "replicator", password]


def test_a_standby_has_no_fence():
    assert not any("fence" in registration.name for registration in following_standby().resources)


# --- the gate: the old primary's preview ------------------------------------------------------------------


def streaming_primary_site():
    return load_site_config(
        {
            "codenvy-infra:master": json.dumps(master(PRIMARY_MASTER)),
            "codenvy-infra:replication": json.dumps({"standbyAddresses": [STANDBY_MASTER]}),
        }
    )


def test_the_old_primarys_preview_names_the_promoted_standby(tmp_path):
    printed, _ = run_fence(tmp_path, PROMOTED, "--check")
    refused = rf"codenvy-infra:role: this site is no longer the primary: the standby {STANDBY_MASTER} was promoted"
    with pytest.raises(GateError, match=refused):
        establish(
            streaming_primary_site(),
            lambda stack: {},
            superseded=lambda site: superseded_reason(site.site_name, printed),
        )


def test_a_site_without_standbys_is_never_asked_whether_it_was_superseded():
    """Nothing can supersede it, and its previews need not reach its master."""
    asked = []
    establish(load_site_config({}), lambda stack: {}, superseded=asked.append)
    assert asked == []


def test_a_streaming_standby_on_another_port_than_its_primary_is_refused():
    overrides = {
        "codenvy-infra:master": {**master(STANDBY_MASTER), "postgresPort": 5433},
        "codenvy-infra:dr": {"primaryStack": PRIMARY_STACK, "standby": "hot", "transferSchedule": None},
    }
    with pytest.raises(GateError, match=r"codenvy-infra:master\.postgresPort: must be 5432"):
        evaluate("dr", overrides, stack_outputs={PRIMARY_STACK: streaming_primary().exports})
