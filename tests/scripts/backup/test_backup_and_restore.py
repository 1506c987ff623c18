"""The backup and restore tools, run for real against a fake Docker whose containers are running or stopped as a
daemon keeps them: a primary's backup is staged on a cold standby, the standby backs itself up, and its restore
takes what it wrote."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from components.backups import BackupSettings, render_backup, render_restore
from components.config import SiteConfig
from components.config_loader import as_pulumi_value, load_site_config
from components.disaster_recovery import DisasterRecoverySettings, render_promotion_restore
from components.master_layout import DATA_ROOT, INSTANCE_DIR, MasterData
from tests.harness import evaluate, site_config, stack_file_config

CONTAINER = "docker:index/container:Container"

# A Docker CLI over a state directory: a directory per container for its files, `running` listing the started
# ones. `docker cp` reads and writes a stopped container's files as a running one's (moby
# daemon/containerfs_linux.go mounts its rootfs and volumes); `docker exec` needs a running one (daemon/exec.go:
# "container ... is not running"). The database is one file, `dump`: pg_dump prints it, pg_restore replaces it.
FAKE_DOCKER = r"""#!/usr/bin/env bash
set -euo pipefail
state=$FAKE_DOCKER_STATE
case "$1" in
  cp)
    if [ "$3" = - ]; then
      name=${2%%:*} path=${2#*:}
      [ -e "$state/$name$path" ] || { echo "Error: No such container:path: $2" >&2; exit 1; }
      tar -C "$state/$name$(dirname "$path")" -cf - "$(basename "$path")"
    else
      name=${3%%:*} path=${3#*:}
      tar -x -C "$state/$name$path"
    fi ;;
  exec)
    shift
    [ "$1" = -i ] && shift
    name=$1
    shift
    grep -qx "$name" "$state/running" 2> /dev/null ||
      { echo "Error response from daemon: container $name is not running" >&2; exit 1; }
    case "$1" in
      pg_dump) cat "$state/$name/dump" ;;
      pg_restore) cat > "$state/$name/dump" ;;
      psql | pg_isready) true ;;
      *) echo "fake docker exec: $*" >&2; exit 2 ;;
    esac ;;
  start) echo "$2" >> "$state/running" ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""
PRIMARY_DATABASE = "the primary's users and workspaces\n"
PROJECT_FILE = "project/main.py"
PRIMARY_PROJECT = "print('hello')\n"


def site(stack: str, tmp_path: Path, **overrides: Any) -> SiteConfig:
    """A shipped stack's site with its backups under `tmp_path/<stack>` and `overrides` (stack-file keys)."""
    config = {
        **stack_file_config(stack),
        "codenvy-infra:backup": {"directory": str(tmp_path / stack), "schedule": None},
        **{f"codenvy-infra:{key}": value for key, value in overrides.items()},
    }
    return load_site_config({key: as_pulumi_value(value) for key, value in config.items()})


def cold_standby(tmp_path: Path, **overrides: Any) -> SiteConfig:
    dr = {**stack_file_config("dr")["codenvy-infra:dr"], "standby": "cold"}
    return site("dr", tmp_path, dr=dr, **overrides)


class Host:
    """One master's containers, in the fake Docker's state directory."""

    def __init__(self, tmp_path: Path) -> None:
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        (self.bin / "docker").write_text(FAKE_DOCKER)
        (self.bin / "docker").chmod(0o755)
        self.state = tmp_path / "docker"
        self.state.mkdir()
        (self.state / "running").touch()

    def container(self, name: str, *, running: bool, files: dict[str, str]) -> None:
        (self.state / name).mkdir(exist_ok=True)
        for path, text in files.items():
            (self.state / f"{name}{path}").parent.mkdir(parents=True, exist_ok=True)
            (self.state / f"{name}{path}").write_text(text)
        if running:
            self.start(name)

    def start(self, name: str) -> None:
        with (self.state / "running").open("a") as running:
            running.write(f"{name}\n")

    def file(self, name: str, path: str) -> str:
        return (self.state / f"{name}{path}").read_text()

    def run(self, script: str, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "FAKE_DOCKER_STATE": str(self.state)}
        return subprocess.run(["bash", "-c", script, "tool", *args], env=env, capture_output=True, text=True)

    def running(self) -> list[str]:
        return (self.state / "running").read_text().split()


def deploy(host: Host, config: SiteConfig, *, running: bool, database: str = "", project: str = "") -> None:
    """The site's server and database containers: the deployed version, `database` as its data and `project`
    as a project file, if given (a cold standby's never ran, so it has neither)."""
    data = MasterData(config.site_name)
    instance = {f"{INSTANCE_DIR}/codenvy.ver": f"{config.version}\n", f"{INSTANCE_DIR}/codenvy.env": config.site_name}
    projects = {f"{DATA_ROOT}/fs/{PROJECT_FILE}": project} if project else {}
    host.container(data.server_container, running=running, files={**instance, **projects})
    (host.state / f"{data.server_container}{DATA_ROOT}/fs").mkdir(parents=True, exist_ok=True)  # its volume
    host.container(data.postgres_container, running=running, files={"/dump": database} if database else {})


@pytest.fixture
def staged(tmp_path) -> tuple[Host, Path]:
    """A primary that ran and backed up, and the cold standby it serves with that archive staged, as the
    standby's transfer leaves it (the primary's modification time kept)."""
    host = Host(tmp_path)
    primary = site("dev", tmp_path)
    deploy(host, primary, running=True, database=PRIMARY_DATABASE, project=PRIMARY_PROJECT)
    backup = host.run(render_backup(BackupSettings.of(primary), "scheduled"))
    assert backup.returncode == 0, backup.stderr
    incoming = Path(cold_standby(tmp_path).backup.incoming_directory)
    incoming.mkdir(parents=True)
    archive = Path(backup.stdout.split()[-1])
    shutil.copy2(archive, incoming / archive.name)
    deploy(host, cold_standby(tmp_path), running=False)
    return host, incoming / archive.name


def manifest(archive: Path) -> dict[str, Any]:
    with tarfile.open(archive) as tar:
        return json.load(tar.extractfile("manifest.json"))


def backed_up(host: Host, config: SiteConfig, reason: str = "scheduled") -> Path:
    result = host.run(render_backup(BackupSettings.of(config), reason))
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.split()[-1])


def test_a_cold_standby_backs_itself_up_without_starting_anything(staged, tmp_path):
    host, _ = staged
    before = host.running()
    backed_up(host, cold_standby(tmp_path))
    assert host.running() == before


@pytest.fixture
def restored_once_promoted(staged, tmp_path) -> tuple[Host, MasterData]:
    """The cold standby's own backup, restored by its restore tool once a promotion started its services."""
    host, _ = staged
    config = cold_standby(tmp_path)
    archive = backed_up(host, config)
    data = MasterData(config.site_name)
    host.start(data.postgres_container)
    host.start(data.server_container)
    restored = host.run(render_restore(BackupSettings.of(config)), str(archive))
    assert restored.returncode == 0, restored.stderr
    return host, data


def test_a_cold_standbys_backup_restores_the_primarys_database(restored_once_promoted):
    host, data = restored_once_promoted
    assert host.file(data.postgres_container, "/dump") == PRIMARY_DATABASE


def test_a_cold_standbys_backup_restores_the_primarys_project_files(restored_once_promoted):
    host, data = restored_once_promoted
    assert host.file(data.server_container, f"{DATA_ROOT}/fs/{PROJECT_FILE}") == PRIMARY_PROJECT


def test_a_cold_standbys_backup_names_the_staged_archive_it_holds(staged, tmp_path):
    host, archive = staged
    assert manifest(backed_up(host, cold_standby(tmp_path)))["data_from"] == archive.name


def test_a_cold_standbys_backup_keeps_its_own_instance_folder(staged, tmp_path):
    host, _ = staged
    config = cold_standby(tmp_path)
    with tarfile.open(backed_up(host, config)) as archive:
        instance = archive.extractfile("instance.tar")
        with tarfile.open(fileobj=instance) as folder:
            assert folder.extractfile("instance/codenvy.env").read().decode() == config.site_name


def test_a_cold_standbys_upgrade_backs_up_the_staged_data_at_its_version(staged, tmp_path):
    host, archive = staged
    upgrading = cold_standby(tmp_path, version="5.23.0")
    written = manifest(backed_up(host, upgrading, "pre-upgrade"))
    assert (written["reason"], written["version"]) == ("pre-upgrade", manifest(archive)["version"])


def test_a_cold_standby_with_nothing_staged_refuses_naming_the_transfer(staged, tmp_path):
    host, archive = staged
    archive.unlink()
    config = cold_standby(tmp_path)
    result = host.run(render_backup(BackupSettings.of(config), "scheduled"))
    assert result.returncode != 0
    assert f"none is staged in {config.backup.incoming_directory}" in result.stderr
    assert f"codenvy-transfer-{config.site_name}" in result.stderr


def test_a_cold_standby_with_nothing_staged_writes_no_archive(staged, tmp_path):
    host, archive = staged
    archive.unlink()
    config = cold_standby(tmp_path)
    host.run(render_backup(BackupSettings.of(config), "scheduled"))
    assert not list(Path(config.backup.directory).glob("*.tar"))


def test_a_damaged_staged_archive_is_refused_not_packed_again(staged, tmp_path):
    host, archive = staged
    unpacked = tmp_path / "unpacked"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    with (unpacked / "database.dump").open("a") as dump:
        dump.write("junk")
    with tarfile.open(archive, "w") as tar:
        for member in sorted(unpacked.iterdir()):
            tar.add(member, member.name)
    config = cold_standby(tmp_path)
    result = host.run(render_backup(BackupSettings.of(config), "scheduled"))
    assert result.returncode != 0 and "is damaged" in result.stderr
    assert not list(Path(config.backup.directory).glob("*.tar"))


# tar as it ends on a full disk: part of the archive written, then "No space left on device".
FULL_DISK_TAR = r"""#!/usr/bin/env bash
archive=
previous=
for arg in "$@"; do
  [ "$previous" = -cf ] && archive=$arg
  previous=$arg
done
if [ -n "$archive" ] && [ "$archive" != - ]; then
  head -c 4096 /dev/zero > "$archive"
  echo "tar: $archive: Wrote only 4096 of 10240 bytes: No space left on device" >&2
  exit 2
fi
exec /usr/bin/tar "$@"
"""


def test_a_backup_that_fills_the_disk_fails_and_leaves_nothing_behind(tmp_path):
    host = Host(tmp_path)
    primary = site("dev", tmp_path)
    deploy(host, primary, running=True, database=PRIMARY_DATABASE, project=PRIMARY_PROJECT)
    (host.bin / "tar").write_text(FULL_DISK_TAR)
    (host.bin / "tar").chmod(0o755)
    backup = host.run(render_backup(BackupSettings.of(primary), "scheduled"))
    assert backup.returncode != 0 and "No space left" in backup.stderr
    assert list(Path(primary.backup.directory).iterdir()) == []


def test_retention_leaves_the_newest_keep_archives_the_new_one_among_them(tmp_path):
    """backup.keep is how many archives stay after a backup (BackupConfig): the new one and the newest older ones."""
    host = Host(tmp_path)
    config = site("dev", tmp_path, backup={"directory": str(tmp_path / "dev"), "keep": 2, "schedule": None})
    deploy(host, config, running=True, database=PRIMARY_DATABASE, project=PRIMARY_PROJECT)
    directory = Path(config.backup.directory)
    older = [directory / f"codenvy-{config.site_name}-2024010{day}T000000Z-5.22.0.tar" for day in (1, 2, 3)]
    older[0].parent.mkdir(parents=True)
    for age, archive in enumerate(reversed(older), start=1):
        archive.write_text("an older backup")
        os.utime(archive, (1_000_000 - age, 1_000_000 - age))
    newest = backed_up(host, config)
    assert set(Path(config.backup.directory).glob("*.tar")) == {newest, older[-1]}


@pytest.mark.parametrize("stack", ["dev", "sim"])
def test_every_backup_command_waits_for_the_containers_the_backup_reads(stack):
    """The backup reads the server's instance folder and dumps the database (backup.sh): the tools and their
    crontab line are put in place only once both containers exist."""
    evaluation = evaluate(stack)
    data = MasterData(site_config(stack).site_name)
    read = {data.server_container, data.postgres_container}
    containers = {c.urn for c in evaluation.of_type(CONTAINER) if c.inputs["name"] in read}
    commands = [r for r in evaluation.resources if r.parent_type == "codenvy:infra:Backups"]
    assert len(containers) == len(read) and commands
    assert all(containers <= evaluation.waits_for(command.urn) for command in commands)


# --- a restore unpacks exactly the regular files, directories and inner links of fs/ -----------------------


def member(name: str, kind: bytes = tarfile.REGTYPE, mode: int = 0o644, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.linkname = kind, mode, link
    if kind == tarfile.CHRTYPE:
        info.devmajor, info.devminor = 1, 3
    return info


# What the other site's fs.tar may hold that docker cp, unpacking as root into the data root, must never get; each
# with how the restore names it.
HOSTILE_MEMBERS = {
    "fs/null (a device node)": member("fs/null", tarfile.CHRTYPE),
    "fs/fifo (a FIFO)": member("fs/fifo", tarfile.FIFOTYPE),
    "fs/suid (setuid)": member("fs/suid", mode=0o4755),
    "fs/sgid (setgid)": member("fs/sgid", mode=0o2755),
    "/etc/cron.d/x (an absolute name)": member("/etc/cron.d/x"),
    "fs/../etc/passwd (a name with ..)": member("fs/../etc/passwd"),
    "che-machines/ws/x (outside fs/)": member("che-machines/ws/x"),
    "fs/root (a link out of fs/)": member("fs/root", tarfile.SYMTYPE, link="/"),
    "fs/up (a link out of fs/)": member("fs/up", tarfile.SYMTYPE, link="../che-machines"),
    "fs/hard (a link out of fs/)": member("fs/hard", tarfile.LNKTYPE, link="che-machines/ws/x"),
}


def with_fs_tar(archive: Path, tmp_path: Path, extra: tarfile.TarInfo) -> Path:
    """A copy of `archive` whose fs.tar also holds `extra`, its checksums made again (as the other site could)."""
    unpacked = tmp_path / "hostile"
    with tarfile.open(archive) as tar:
        tar.extractall(unpacked, filter="data")
    with tarfile.open(unpacked / "fs.tar", "a") as fs_tar:
        fs_tar.addfile(extra, io.BytesIO(b"") if extra.isreg() else None)
    members = ("database.dump", "fs.tar", "instance.tar", "manifest.json")
    sums = subprocess.run(["sha256sum", *members], cwd=unpacked, capture_output=True, text=True, check=True)
    (unpacked / "SHA256SUMS").write_text(sums.stdout)
    copy = tmp_path / "hostile.tar"
    with tarfile.open(copy, "w") as tar:
        for name in ("manifest.json", "SHA256SUMS", *members[:-1]):
            tar.add(unpacked / name, name)
    return copy


@pytest.fixture
def promoted_standby(staged, tmp_path) -> tuple[Host, SiteConfig, Path]:
    """The cold standby with its services started, as its promotion leaves them, and the archive it staged."""
    host, archive = staged
    config = cold_standby(tmp_path)
    data = MasterData(config.site_name)
    host.start(data.postgres_container)
    host.start(data.server_container)
    return host, config, archive


@pytest.mark.parametrize("named", HOSTILE_MEMBERS)
def test_a_restore_refuses_an_fs_tar_holding_what_it_never_unpacks_naming_it(promoted_standby, tmp_path, named):
    host, config, archive = promoted_standby
    hostile = with_fs_tar(archive, tmp_path, HOSTILE_MEMBERS[named])
    result = host.run(render_restore(BackupSettings.of(config)), str(hostile))
    assert result.returncode == 1 and named in result.stderr


def test_a_refused_fs_tar_changes_nothing(promoted_standby, tmp_path):
    host, config, archive = promoted_standby
    data = MasterData(config.site_name)
    hostile = with_fs_tar(archive, tmp_path, HOSTILE_MEMBERS["fs/null (a device node)"])
    host.run(render_restore(BackupSettings.of(config)), str(hostile))
    assert not (host.state / f"{data.server_container}{DATA_ROOT}/fs/{PROJECT_FILE}").exists()
    assert not (host.state / data.postgres_container / "dump").exists()


def test_a_restore_takes_an_fs_tar_with_a_link_inside_fs(promoted_standby, tmp_path):
    host, config, archive = promoted_standby
    inner = with_fs_tar(archive, tmp_path, member("fs/project/latest", tarfile.SYMTYPE, link="main.py"))
    result = host.run(render_restore(BackupSettings.of(config)), str(inner))
    assert result.returncode == 0, result.stderr


def test_a_promotion_refuses_a_staged_archive_whose_fs_tar_holds_a_device(promoted_standby, tmp_path):
    """The promoting `up` runs the restore tool on the newest staged archive: the same look at fs.tar."""
    host, _, archive = promoted_standby
    # Its tools in the test's directory, the rest as the fixture's.
    backup = {"directory": str(tmp_path / "dr"), "schedule": None, "toolsDirectory": str(tmp_path / "tools")}
    config = cold_standby(tmp_path, backup=backup)
    tool = Path(BackupSettings.of(config).toolbox.path("restore"))
    tool.parent.mkdir()
    tool.write_text(render_restore(BackupSettings.of(config)))
    tool.chmod(0o755)
    hostile = with_fs_tar(archive, tmp_path, HOSTILE_MEMBERS["fs/null (a device node)"])
    shutil.copy2(hostile, archive)
    result = host.run(render_promotion_restore(DisasterRecoverySettings.of(config)))
    assert result.returncode == 1 and "fs/null (a device node)" in result.stderr
