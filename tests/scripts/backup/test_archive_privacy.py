"""What a scheduled backup writes is open to root only: the archives and the directory that holds them."""

from __future__ import annotations

import stat
from pathlib import Path

from components.backups import BackupSettings, render_backup
from tests.scripts.backup.fake_host import backup_site, fake_bin, run


def scheduled_backup(tmp_path: Path) -> tuple[Path, Path]:
    """A scheduled backup run into a fresh directory: the archive it wrote and that directory."""
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    result = run(render_backup(BackupSettings.of(backup_site(backups, keep=3)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1]), backups


def test_backup_archives_are_readable_by_root_only(tmp_path):
    archive, _ = scheduled_backup(tmp_path)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def test_the_backup_directory_is_open_to_root_only(tmp_path):
    _, backups = scheduled_backup(tmp_path)
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
