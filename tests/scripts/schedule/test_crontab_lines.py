"""The crontab lines the program installs run on a fresh host: cron hands each line to sh, and sh runs nothing
when it cannot open the line's log (POSIX: a redirection that fails skips the command)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from components.host_tools import cron_entry, render_schedule
from tests.harness.dr_evaluations import streaming_primary, streaming_standby
from tests.harness.evaluation import evaluate
from tests.harness.host_inputs import script_of, script_parameters, template_of

MARKER = "codenvy-backup-codenvy"


def schedules() -> list[tuple[str, dict[str, str]]]:
    """Every crontab line the program keeps: the backups of the sim site, a primary's fence, a streaming
    standby's nightly transfer and file sync; as (resource name, the schedule script's parameters)."""
    found = []
    for evaluation in (evaluate("sim"), streaming_primary(), streaming_standby(transferSchedule="30 2 * * *")):
        for registration in evaluation.resources:
            if registration.type in ("command:remote:Command", "command:local:Command"):
                script = script_of(registration)
                if template_of(script) == "schedule":
                    found.append((registration.name, script_parameters(script)))
    return sorted(found)  # registrations arrive in no fixed order; the test ids must be the same in every process


def log_of(entry: str) -> str:
    words = entry.split()
    return words[words.index(">>") + 1]


def test_the_program_schedules_backups_fences_and_transfers():
    names = " ".join(name for name, _ in schedules())
    assert all(tool in names for tool in ("backup", "fence", "transfer", "file-sync")), names


@pytest.mark.parametrize(("name", "parameters"), schedules(), ids=lambda value: value if isinstance(value, str) else "")
def test_every_scheduled_line_has_the_directory_of_its_log_made_with_it(name, parameters):
    assert parameters["LOG_DIR"] == os.path.dirname(log_of(parameters["ENTRY"])), name


def fake_crontab(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    crontab = bin_dir / "crontab"
    crontab.write_text(
        f"""#!/usr/bin/env bash
table={tmp_path}/crontab
case "$1" in
  -l) [ -f "$table" ] && cat "$table" ;;
  -r) rm -f "$table" ;;
  -) cat > "$table" ;;
esac
"""
    )
    crontab.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def schedule(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], env=env, cwd=cwd, capture_output=True, text=True, check=False)


def run_as_cron(line: str, env: dict[str, str]) -> None:
    """The command part of a crontab line (after its five time fields), as cron runs it."""
    command = line.split(" ", 5)[5].rsplit(" # ", 1)[0]
    subprocess.run(["sh", "-c", command], env=env, check=False, capture_output=True)


def test_a_line_scheduled_on_a_fresh_host_runs_its_tool(tmp_path):
    env = fake_crontab(tmp_path)
    tool, log = tmp_path / "tool", tmp_path / "backups" / "backup.log"
    tool.write_text("#!/bin/sh\necho ran\n")
    tool.chmod(0o755)
    entry = cron_entry("0 2 * * *", str(tool), str(log))
    scheduled = schedule(render_schedule(MARKER, "boss", entry, str(log)), env, tmp_path)
    assert scheduled.returncode == 0, scheduled.stderr
    (line,) = (tmp_path / "crontab").read_text().splitlines()
    run_as_cron(line, env)
    assert log.read_text() == "ran\n"
    assert (log.parent.stat().st_mode & 0o777) == 0o700, "the log's directory is the owner's alone"


def test_scheduling_again_changes_nothing(tmp_path):
    env = fake_crontab(tmp_path)
    log = tmp_path / "backups" / "backup.log"
    script = render_schedule(MARKER, "boss", cron_entry("0 2 * * *", "/t/tool", str(log)), str(log))
    assert schedule(script, env, tmp_path).returncode == 0
    again = schedule(script, env, tmp_path)
    assert again.stdout.strip() == f"schedule {MARKER} on boss: unchanged"


def test_a_crontab_marker_removes_only_its_own_sites_line(tmp_path):
    env = fake_crontab(tmp_path)
    (tmp_path / "crontab").write_text("30 2 * * * /t/codenvy-backup-codenvy-dr # codenvy-backup-codenvy-dr\n")
    result = schedule(render_schedule("codenvy-backup-codenvy", "boss"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "# codenvy-backup-codenvy-dr" in (tmp_path / "crontab").read_text()


def test_two_schedules_of_one_host_keep_each_others_lines_where_they_are(tmp_path):
    """Run again, each finds its line in place: neither moves the other's to change the crontab each time."""
    env = fake_crontab(tmp_path)
    schedules = [
        render_schedule("codenvy-backup-codenvy-dr", "boss", "0 2 * * * /t/codenvy-backup-codenvy-dr"),
        render_schedule("codenvy-transfer-files-codenvy-dr", "boss", "* * * * * /t/codenvy-transfer-codenvy-dr files"),
    ]
    for script in schedules:
        assert schedule(script, env, tmp_path).returncode == 0
    converged = (tmp_path / "crontab").read_text()
    again = [schedule(script, env, tmp_path).stdout.strip() for script in schedules]
    assert (tmp_path / "crontab").read_text() == converged
    assert all(said.endswith(": unchanged") for said in again), again


def test_a_changed_schedule_replaces_its_line_in_place(tmp_path):
    env = fake_crontab(tmp_path)
    (tmp_path / "crontab").write_text("0 1 * * * /t/mine # mine\n5 * * * * /t/theirs # theirs\n")
    result = schedule(render_schedule("mine", "boss", "0 3 * * * /t/mine"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "crontab").read_text() == "0 3 * * * /t/mine # mine\n5 * * * * /t/theirs # theirs\n"
