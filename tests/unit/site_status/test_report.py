"""`make status`: the probe's answers and the stack outputs read into a report (components/site_status.py),
and the probe itself (components/scripts/site_status.sh) run against a stand-in docker."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from components.script_templates import render_script
from components.site_status import (
    certificate_check,
    certificates_in,
    enddate,
    host_checks,
    placement_check,
    probe_params,
    render,
)
from tests.harness import PROJECT_DIR, site_config

NOW = 1_800_000_000
# Standalone Swarm's /info, shaped as the Engine API documents it for a Swarm manager (moby/moby
# api/swarm.yaml, SystemStatus example): two engines, one of them not validated yet.
SWARM_INFO = {
    "SystemStatus": [
        ["Role", "primary"],
        ["Strategy", "spread"],
        ["Nodes", "2"],
        [" node2", "10.77.0.12:2376"],
        [" └ ID", "5CT6:FBGO|10.77.0.12:2376"],
        [" └ Status", "Healthy"],
        [" └ Containers", "1 (1 Running, 0 Paused, 0 Stopped)"],
        [" node3", "10.77.0.13:2376"],
        [" └ ID", "TAMD:7LL3|10.77.0.13:2376"],
        [" └ Status", "Pending"],
    ]
}


def answer(*sections: tuple[str, list[str]]) -> str:
    return "".join(f"== {name}\n" + "".join(f"{line}\n" for line in lines) for name, lines in sections)


def by_subject(checks):
    return {check.subject: check for check in checks}


def master_answer(**overrides: list[str]) -> str:
    parts = {
        "now": [str(NOW)],
        "containers": [
            "codenvy-server\trunning\tUp 3 hours (healthy)",
            "codenvy-haproxy\trunning\tUp 3 hours (unhealthy)",
            "codenvy-registry\texited\tExited (1) 2 minutes ago",
        ],
        "backup": [f"{NOW - 3600}.0000000000 codenvy-codenvy-20270115T020000Z-5.22.0.tar"],
        "placement": [json.dumps(SWARM_INFO)],
        **overrides,
    }
    return answer(*parts.items())


def test_a_running_healthy_container_is_ok():
    assert by_subject(host_checks("node1", master_answer()))["codenvy-server"].ok is True


def test_an_unhealthy_container_is_a_problem():
    assert by_subject(host_checks("node1", master_answer()))["codenvy-haproxy"].ok is False


def test_an_exited_container_is_a_problem():
    assert by_subject(host_checks("node1", master_answer()))["codenvy-registry"].ok is False


def test_the_last_backups_age_is_read_from_its_time():
    check = by_subject(host_checks("node1", master_answer()))["last backup"]
    assert (check.ok, check.detail.split(" ago")[0]) == (True, "1 h")


def test_a_backup_older_than_a_missed_night_is_a_problem():
    stale = [f"{NOW - 3 * 86400} codenvy-codenvy-20270112T020000Z-5.22.0.tar"]
    assert by_subject(host_checks("node1", master_answer(backup=stale)))["last backup"].ok is False


def test_no_backup_yet_is_a_problem():
    assert by_subject(host_checks("node1", master_answer(backup=[])))["last backup"].ok is False


def test_the_placement_engines_are_listed_with_their_status():
    check = placement_check("node1", json.dumps(SWARM_INFO))
    assert check.detail == "10.77.0.12:2376 Healthy, 10.77.0.13:2376 Pending"


def test_placement_with_an_engine_not_healthy_is_a_problem():
    assert placement_check("node1", json.dumps(SWARM_INFO)).ok is False


def test_a_manager_that_does_not_answer_is_a_problem():
    assert placement_check("node1", "no answer").ok is False


# The replication status tool's answers (components/scripts/replication_status.sh) for each verdict.
@pytest.mark.parametrize(
    ("verdict", "ok"),
    [
        ("replication of codenvy-dr: healthy", True),
        ("replication of codenvy-dr: broken: the database is not streaming (none)", False),
        ("not installed", None),
    ],
)
def test_replication_is_the_status_tools_verdict(verdict, ok):
    lines = ["database: receiver streaming, 0 bytes not yet replayed, primary last heard 1 s ago", verdict]
    replication = by_subject(
        host_checks("master", answer(("now", [str(NOW)]), ("containers", []), ("replication", lines)))
    )
    assert replication["replication"].ok is ok


def test_a_host_that_did_not_answer_is_one_problem():
    (check,) = host_checks("node2", "ssh: connect to host 10.77.0.12 port 22: Connection refused")
    assert (check.ok, "Connection refused" in check.detail) == (False, True)


def test_each_ca_generation_of_the_trust_bundle_is_checked():
    bundle = "".join(f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n" for body in ("AAA", "BBB"))
    assert [pem.split("\n")[1] for pem in certificates_in(bundle)] == ["AAA", "BBB"]


def test_openssls_end_date_is_read():
    assert enddate("notAfter=Mar  4 12:00:00 2027 GMT\n") == datetime(2027, 3, 4, 12, tzinfo=UTC)


def test_a_certificate_expiring_within_the_warning_is_a_problem():
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert certificate_check("-", "site CA", now + timedelta(days=3), now).ok is False


def test_a_certificate_far_from_expiry_is_ok():
    now = datetime(2027, 3, 1, tzinfo=UTC)
    assert certificate_check("-", "site CA", now + timedelta(days=300), now).ok is True


def test_the_report_ends_with_the_count_of_problems():
    report = render({"siteName": "codenvy"}, host_checks("node1", master_answer()))
    assert report.splitlines()[-1] == "3 problem(s)"


def test_the_master_is_asked_about_the_placement_manager_a_node_is_not():
    site = site_config("sim")
    assert (probe_params(site, "node1")["manager"], probe_params(site, "node2")["manager"]) == ("codenvy-swarm", "")


def test_a_standby_master_is_asked_about_its_transfers():
    site = site_config("dr")
    assert probe_params(site, site.master.name)["incoming_dir"] == site.backup.incoming_directory


@pytest.fixture
def probed(tmp_path: Path) -> str:
    """The probe run by bash with a stand-in `docker` that lists one container, and one backup archive."""
    bin_dir, backups = tmp_path / "bin", tmp_path / "backups"
    bin_dir.mkdir()
    backups.mkdir()
    (bin_dir / "docker").write_text("#!/bin/sh\nprintf 'codenvy-registry\\trunning\\tUp 2 minutes (healthy)\\n'\n")
    (bin_dir / "docker").chmod(0o755)
    for age, name in (
        (7200, "codenvy-codenvy-20270101T000000Z-5.21.0.tar"),
        (60, "codenvy-codenvy-20270101T020000Z-5.22.0.tar"),
    ):
        archive = backups / name
        archive.write_text("")
        os.utime(archive, (NOW - age, NOW - age))
    params = {**probe_params(site_config("sim"), "node1"), "backup_dir": str(backups), "manager": ""}
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}
    return subprocess.run(
        ["bash", "-c", render_script("site_status", **params)], capture_output=True, text=True, env=env, check=True
    ).stdout


def test_the_probe_reports_the_newest_backup(probed):
    check = by_subject(host_checks("node1", probed))["last backup"]
    assert check.detail.endswith(": codenvy-codenvy-20270101T020000Z-5.22.0.tar")


def test_the_probe_reports_the_sites_containers(probed):
    assert by_subject(host_checks("node1", probed))["codenvy-registry"].ok is True


def sample_report() -> str:
    """The report docs/operations-status.md shows: the sim site's master and a node, from the answers above."""
    now = datetime.fromtimestamp(NOW, UTC)
    node2 = answer(("now", [str(NOW)]), ("containers", ["codenvy-socat\trunning\tUp 3 hours"]))
    checks = [
        *host_checks("node1", master_answer()),
        *host_checks("node2", node2),
        *host_checks("node3", "ssh: connect to host 10.77.0.13 port 22: No route to host"),
        certificate_check("-", "site CA 1", now + timedelta(days=3640), now),
        certificate_check("-", "served at 10.77.0.11:443", now + timedelta(days=20), now),
    ]
    outputs = {
        "siteName": "codenvy",
        "role": "primary",
        "active": True,
        "version": "5.22.0",
        "url": "https://10.77.0.11",
    }
    return render(outputs, checks)


def test_the_documented_sample_is_what_the_report_renders():
    page = (PROJECT_DIR / "docs" / "operations-status.md").read_text()
    shown = page.split("<!-- sample:start -->\n```\n")[1].split("```\n<!-- sample:end -->")[0]
    assert shown == sample_report(), sample_report()
