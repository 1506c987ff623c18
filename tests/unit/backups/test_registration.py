"""Backups as the program registers them: the backup and restore tools installed on the master and run on the
configured schedule."""

from __future__ import annotations

import functools
import posixpath

from tests.harness import Evaluation, evaluate, site_config
from tests.unit.stack_reads import cron_words, installed_parameters, parameters, refusal


@functools.cache
def sim() -> Evaluation:
    return evaluate("sim")


def test_backups_run_the_backup_tool_on_the_configured_schedule():
    site = site_config("sim")
    schedule, command = cron_words(parameters(sim().named("codenvy-backups-schedule"))["ENTRY"])
    assert (schedule, command) == (
        site.backup.schedule.split(),
        f"{site.backup.tools_directory}/codenvy-backup-codenvy",
    )


def test_removing_the_schedule_removes_its_crontab_line():
    assert parameters(sim().named("codenvy-backups-schedule"), "delete")["ENTRY"] == ""


def test_the_backup_tool_keeps_the_configured_number_of_archives():
    keep = installed_parameters(sim().named("codenvy-backups-backup-tool"))["KEEP"]
    assert int(keep) == site_config("sim").backup.keep


def test_the_backup_tool_is_installed_executable():
    assert parameters(sim().named("codenvy-backups-backup-tool"))["FILE_MODE"] == "0755"


def test_the_backup_tool_is_installed_on_the_master():
    tool = sim().named("codenvy-backups-backup-tool")
    assert tool.inputs["connection"]["host"] == site_config("sim").master.address


def test_backups_must_be_scheduled_outside_dev():
    message = refusal("unscheduled-backups")[0]
    assert "codenvy-infra:backup.schedule: backups must be scheduled outside environment dev" in message


def test_the_restore_tool_is_installed_beside_the_backup_tool():
    restore, backup = (parameters(sim().named(f"codenvy-backups-{kind}-tool")) for kind in ("restore", "backup"))
    assert posixpath.dirname(restore["TARGET"]) == posixpath.dirname(backup["TARGET"])


def test_the_restore_tool_restores_the_database_in_one_transaction():
    assert "pg_restore --single-transaction" in parameters(sim().named("codenvy-backups-restore-tool"))["CONTENT"]


def test_the_restore_tool_analyzes_the_restored_database():
    assert "ANALYZE" in parameters(sim().named("codenvy-backups-restore-tool"))["CONTENT"]
