"""The restore tool, run for real, takes only an archive whose every member its checksums cover, and touches no
container before it has checked."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

from components.backups import BackupSettings, render_restore
from components.config_loader import load_site_config
from tests.scripts.backup.fake_host import fake_bin, run


def archive_with(tmp_path: Path, members: dict[str, str | Path], sums_for: list[str]) -> Path:
    build = tmp_path / "build"
    build.mkdir()
    for name, content in members.items():
        if isinstance(content, Path):
            (build / name).symlink_to(content)
        else:
            (build / name).write_text(content)
    sums = subprocess.run(["sha256sum", *sums_for], cwd=build, text=True, capture_output=True, check=True).stdout
    (build / "SHA256SUMS").write_text(sums)
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("manifest.json", "SHA256SUMS", *[m for m in members if m != "manifest.json"]):
            tar.add(build / name, arcname=name)
    return archive


MANIFEST = '{\n  "version": "5.22.0",\n}\n'


# fs.tar: an empty tar (zero blocks), which the restore lists before it unpacks anything.
DATA = {"manifest.json": MANIFEST, "database.dump": "d", "fs.tar": "\0" * 10240, "instance.tar": "i"}


SUMMED = ["database.dump", "fs.tar", "instance.tar", "manifest.json"]


def restore(
    tmp_path: Path, members: dict[str, str | Path], summed: list[str]
) -> tuple[subprocess.CompletedProcess, str]:
    """The restore tool on an archive of `members` whose SHA256SUMS lists `summed`; its result and the
    docker calls it made."""
    env = fake_bin(tmp_path)
    archive = archive_with(tmp_path, members, summed)
    result = run(render_restore(BackupSettings.of(load_site_config({}))), env, tmp_path, str(archive))
    return result, (tmp_path / "calls.log").read_text()


SYMLINKED_DUMP = {**DATA, "database.dump": Path("/etc/hostname")}


def test_restore_refuses_a_symlinked_dump_that_no_checksum_covers(tmp_path):
    result, _ = restore(tmp_path, SYMLINKED_DUMP, ["manifest.json"])
    assert result.returncode != 0 and "refused" in result.stderr


def test_a_refused_restore_touches_no_container(tmp_path):
    _, calls = restore(tmp_path, SYMLINKED_DUMP, ["manifest.json"])
    assert "docker" not in calls


def test_restore_refuses_an_archive_with_an_extra_member(tmp_path):
    result, _ = restore(tmp_path, {**DATA, "extra": "x"}, SUMMED)
    assert result.returncode != 0 and "other members" in result.stderr


def test_restore_refuses_a_manifest_the_checksums_do_not_cover(tmp_path):
    # The manifest's version decides what a restore accepts, so an edited one must not pass.
    result, _ = restore(tmp_path, DATA, SUMMED[:-1])
    assert result.returncode != 0 and "do not cover exactly" in result.stderr


def test_restore_goes_ahead_with_an_archive_whose_every_member_is_summed(tmp_path):
    result, calls = restore(tmp_path, DATA, SUMMED)
    assert result.returncode == 0, result.stderr
    assert "pg_restore" in calls
