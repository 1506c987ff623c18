"""The backup tool's retention, run for real: it removes only its own site's old archives, whole names at a time."""

from __future__ import annotations

import os
from pathlib import Path

from components.backups import BackupSettings, render_backup
from tests.scripts.backup.fake_host import backup_site, fake_bin, run
from tests.stack_values import STAMP_OTHER


def old_archive(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text("old")
    os.utime(path, (1_000_000, 1_000_000))
    return path


def test_retention_keeps_the_archives_of_a_site_whose_name_extends_this_one(tmp_path):
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    other = old_archive(backups, f"codenvy-codenvy-dr-{STAMP_OTHER}-5.22.0.tar")
    result = run(render_backup(BackupSettings.of(backup_site(backups)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert other.exists()


def test_retention_never_splits_a_file_name(tmp_path):
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("not an archive")
    old_archive(backups, "codenvy-codenvy-20200101T000000Z-1.0 victim .tar")
    result = run(render_backup(BackupSettings.of(backup_site(backups)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert victim.exists()
