"""The backup and restore tools, run for real against a fake Docker whose containers are running or stopped as a
daemon keeps them: a primary's backup is staged on a cold standby, the standby backs itself up, and its restore
takes what it wrote."""

from __future__ import annotations

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
      psql) true ;;
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
