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
    return found


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
    scheduled = subprocess.run(
        ["bash", "-c", render_schedule(MARKER, "boss", entry, str(log))], env=env, capture_output=True, text=True
    )
    assert scheduled.returncode == 0, scheduled.stderr
    (line,) = (tmp_path / "crontab").read_text().splitlines()
    run_as_cron(line, env)
    assert log.read_text() == "ran\n"
    assert (log.parent.stat().st_mode & 0o777) == 0o700, "the log's directory is the owner's alone"


def test_scheduling_again_changes_nothing(tmp_path):
    env = fake_crontab(tmp_path)
    log = tmp_path / "backups" / "backup.log"
    script = render_schedule(MARKER, "boss", cron_entry("0 2 * * *", "/t/tool", str(log)), str(log))
    subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True)
    again = subprocess.run(["bash", "-c", script], env=env, check=True, capture_output=True, text=True)
    assert again.stdout.strip() == f"schedule {MARKER} on boss: unchanged"
