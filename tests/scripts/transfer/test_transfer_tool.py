"""The standby's transfer tool against the primary's mirror tool, both run for real on this machine: the real
rsync, the real rrsync (/usr/bin/rrsync, Debian's rsync), and between them an `ssh` that does what sshd does with
the mirror account's forced command (the request the standby sent becomes the tool's one argument). Each side has
a fake Docker that answers `docker info` and `docker volume inspect` from a directory of its own."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from components.config_loader import load_site_config
from components.deploy_gates import PrimarySite
from components.disaster_recovery import DisasterRecoverySettings, render_transfer
from components.mirror_access import RRSYNC, MirrorSettings, render_serve
from tests.stack_values import KEY, STAMP_OTHER, raw

pytestmark = pytest.mark.skipif(not Path(RRSYNC).exists(), reason="needs Debian's rsync (>= 3.2.4), for rrsync")

# DockerRootDir is the side's directory; a volume lives where moby's local driver keeps it (volume/local/local.go).
# A file `mountpoint` overrides the answer of `volume inspect` (an empty file: the daemon printed nothing).
FAKE_DOCKER = r"""#!/usr/bin/env bash
set -euo pipefail
root=$FAKE_DOCKER_ROOT/$FAKE_DOCKER_SIDE
case "$1" in
  info) echo "$root" ;;
  volume)
    if [ -f "$root/mountpoint" ]; then cat "$root/mountpoint"; else echo "$root/volumes/${@: -1}/_data"; fi ;;
  exec) echo t ;;  # psql: SELECT pg_is_in_recovery()
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""
# sshd with the mirror account's authorized_keys line: no shell, the request handed to the tool (which root runs).
FAKE_SSH = r"""#!/usr/bin/env bash
echo "ssh $*" >> "$FAKE_SSH_LOG"
while [ $# -gt 0 ]; do
  case "$1" in
    -o) [[ $2 != UserKnownHostsFile=* ]] || cat "${2#UserKnownHostsFile=}" >> "$FAKE_SSH_LOG"; shift 2 ;;
    -i | -p | -l) shift 2 ;;
    -*) shift ;;
    *) break ;;
  esac
done
shift
FAKE_DOCKER_SIDE=primary exec bash "$MIRROR_TOOL" "$*"
"""
# The real rsync, but never into anything outside the test's directory: a transfer that lost its check of the
# standby's mountpoint must fail this test, not sync into this machine's `/`.
GUARDED_RSYNC = r"""#!/usr/bin/env bash
target=${@: -1}
[[ $target == "$FAKE_DOCKER_ROOT"/* || $target == "$FAKE_STANDBY_BACKUPS"/* || $target == *:* ]] ||
  { echo "test guard: rsync into $target refused" >&2; exit 99; }
exec /usr/bin/rsync "$@"
"""
PRIMARY_ARCHIVE = "codenvy-codenvy-20240101T000000Z-5.22.0.tar"


class Pair:
    """A primary (its fs volume, its backup directory, its mirror tool) and a standby (its fs volume, its
    transfer tool), each with its own Docker."""

    def __init__(self, tmp_path: Path, **dr: object) -> None:
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for name, text in (("docker", FAKE_DOCKER), ("ssh", FAKE_SSH), ("rsync", GUARDED_RSYNC)):
            (self.bin / name).write_text(text)
            (self.bin / name).chmod(0o755)
        self.primary_backups = tmp_path / "primary-backups"
        self.primary_backups.mkdir()
        self.primary_fs = self.volume("primary", "codenvy-fs")
        self.standby_fs = self.volume("standby", "codenvy-dr-fs")
        primary_site = load_site_config(raw(backup={"directory": str(self.primary_backups), "schedule": None}))
        self.mirror_tool = tmp_path / "codenvy-mirror-codenvy"
        self.mirror_tool.write_text(render_serve(MirrorSettings.of(primary_site)))
        self.standby_site = load_site_config(
            raw(
                siteName="codenvy-dr",
                role="standby",
                backup={"directory": str(tmp_path / "standby"), "schedule": None},
                dr={"primaryStack": "o/p/primary", "standby": "hot", **dr},
            )
        )
        outputs = {
            "siteName": "codenvy",
            "version": "5.22.0",
            "managerAddress": "10.9.0.1",
            "registry": "10.9.0.1:5000",
        }
        self.primary = PrimarySite.from_outputs("o/p/primary", {**outputs, "nodes": self.standby_site.node_set})

    def volume(self, side: str, name: str) -> Path:
        data = self.tmp / "docker" / side / "volumes" / name / "_data"
        data.mkdir(parents=True)
        return data

    def answer(self, side: str, mountpoint: str) -> None:
        """What `docker volume inspect` prints on `side` from now on."""
        (self.tmp / "docker" / side / "mountpoint").write_text(mountpoint)

    def transfer(self, job: str) -> subprocess.CompletedProcess:
        env = {
            "PATH": f"{self.bin}:/usr/bin:/bin",
            "FAKE_DOCKER_ROOT": str(self.tmp / "docker"),
            "FAKE_DOCKER_SIDE": "standby",
            "FAKE_SSH_LOG": str(self.tmp / "ssh.log"),
            "FAKE_STANDBY_BACKUPS": str(self.tmp / "standby"),
            "MIRROR_TOOL": str(self.mirror_tool),
        }
        script = render_transfer(DisasterRecoverySettings.of(self.standby_site), self.primary)
        return subprocess.run(
            ["bash", "-c", script, "transfer", job],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            preexec_fn=lambda: os.umask(0o022),
        )

    def serve(self, request: str) -> subprocess.CompletedProcess:
        """The mirror tool asked `request` directly, as the forced command would pass it."""
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "FAKE_DOCKER_ROOT": str(self.tmp / "docker"),
               "FAKE_DOCKER_SIDE": "primary"}  # fmt: skip
        return subprocess.run(["bash", str(self.mirror_tool), request], env=env, capture_output=True, text=True)

    def state(self) -> str:
        return (self.tmp / "standby" / "file-sync.state").read_text()


@pytest.fixture
def pair(tmp_path) -> Pair:
    return Pair(tmp_path)


# --- the archive transfer ------------------------------------------------------------------------------------


def test_the_transfer_fetches_only_the_primary_sites_newest_archive(pair):
    (pair.primary_backups / "codenvy-codenvy-20230101T000000Z-5.22.0.tar").write_text("older")
    (pair.primary_backups / PRIMARY_ARCHIVE).write_text("newest")
    (pair.primary_backups / f"codenvy-codenvy-dr-{STAMP_OTHER}-5.22.0.tar").write_text("another site's")
    result = pair.transfer("archive")
    assert result.returncode == 0, result.stderr
    assert [p.name for p in (pair.tmp / "standby" / "incoming").iterdir()] == [PRIMARY_ARCHIVE]


def test_transferred_archives_are_readable_by_root_only(pair):
    (pair.primary_backups / PRIMARY_ARCHIVE).write_text("archive")
    assert pair.transfer("archive").returncode == 0
    (copy,) = (pair.tmp / "standby" / "incoming").iterdir()
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600


def test_a_primary_without_archives_is_reported_as_such(pair):
    result = pair.transfer("archive")
    assert result.returncode == 1 and "has no backup of codenvy yet" in result.stderr


def test_the_transfer_trusts_only_the_pinned_primary_host_key(tmp_path):
    pinned = Pair(tmp_path, primarySsh={"hostKey": KEY})
    (pinned.primary_backups / PRIMARY_ARCHIVE).write_text("archive")
    assert pinned.transfer("archive").returncode == 0
    log = (tmp_path / "ssh.log").read_text()
    assert f"10.9.0.1 {KEY}" in log.splitlines() and "StrictHostKeyChecking=yes" in log.split()


def test_the_transfer_logs_in_as_the_mirror_account(pair):
    (pair.primary_backups / PRIMARY_ARCHIVE).write_text("archive")
    pair.transfer("archive")
    assert all(" -l codenvy-mirror " in line for line in (pair.tmp / "ssh.log").read_text().splitlines())


# --- the file sync: both ends refuse a mountpoint that is not their volume's ---------------------------------


def test_the_file_sync_copies_the_primarys_project_files(pair):
    (pair.primary_fs / "project").mkdir()
    (pair.primary_fs / "project" / "main.py").write_text("print('hello')\n")
    result = pair.transfer("files")
    assert result.returncode == 0, result.stderr
    assert (pair.standby_fs / "project" / "main.py").read_text() == "print('hello')\n"


BAD_ANSWERS = ["", "/", "/etc", "{root}/volumes/other/_data", "{root}/volumes/{volume}/_data/.."]


@pytest.mark.parametrize(("side", "volume"), [("standby", "codenvy-dr-fs"), ("primary", "codenvy-fs")])
@pytest.mark.parametrize("answer", BAD_ANSWERS)
def test_each_end_refuses_a_mountpoint_that_is_not_its_volumes(pair, side, volume, answer):
    (pair.standby_fs / "kept").write_text("kept")
    pair.answer(side, answer.format(root=pair.tmp / "docker" / side, volume=volume))
    result = pair.transfer("files")
    assert result.returncode == 1 and f"the volume {volume} has no usable mountpoint here" in result.stderr
    assert (pair.standby_fs / "kept").exists(), "the standby's files were left alone"


def test_the_standby_that_refused_its_mountpoint_asks_nothing_of_the_primary(pair):
    pair.answer("standby", "")
    pair.transfer("files")
    assert not (pair.tmp / "ssh.log").exists()


def test_a_refused_sync_is_recorded_for_the_status_tool(pair):
    pair.answer("primary", "")
    pair.transfer("files")
    assert "last_error=failed: " in pair.state() and "last_success=0" in pair.state()


# --- the file sync: regular files, directories and safe links only ----------------------------------------


@pytest.fixture
def hostile(pair) -> tuple[Pair, subprocess.CompletedProcess]:
    """A primary whose fs/ holds, besides a file and a safe link, what the sync must not take; one sync."""
    fs = pair.primary_fs
    (fs / "sub").mkdir()
    (fs / "plain").write_text("plain")
    (fs / "sub" / "safe").symlink_to("../plain")
    os.mknod(fs / "null", 0o644 | stat.S_IFCHR, os.makedev(1, 3))
    os.mkfifo(fs / "fifo")
    for name, mode in (("suid", 0o4755), ("sgid", 0o2755)):
        (fs / name).write_text("#!/bin/sh\n")
        (fs / name).chmod(mode)
    (fs / "root").symlink_to("/")
    (fs / "sub" / "up").symlink_to("../../x")
    return pair, pair.transfer("files")


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a device node needs root")


@needs_root
def test_the_file_sync_takes_the_regular_files_directories_and_safe_links(hostile):
    pair, result = hostile
    assert result.returncode == 0, result.stderr
    assert sorted(str(p.relative_to(pair.standby_fs)) for p in pair.standby_fs.rglob("*")) == [
        "plain",
        "sub",
        "sub/safe",
    ]


@needs_root
@pytest.mark.parametrize(
    "refused",
    ["fs/null (a device node)", "fs/fifo (a FIFO)", "fs/suid (setuid)", "fs/sgid (setgid)",
     "fs/root (a link out of fs/)", "fs/sub/up (a link out of fs/)"],
)  # fmt: skip
def test_the_file_sync_names_what_it_refused(hostile, refused):
    pair, result = hostile
    assert refused in result.stderr
    assert refused in pair.state()


# --- what the mirror tool serves ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_",
    [
        "",
        "id",
        "sh -c id",
        # a write: rsync's server without --sender receives
        "rsync --server -logDtpre.iLsfxCIvu . fs/",
        "rsync --server --sender -logDtpre.iLsfxCIvu . /etc/",
        "rsync --server --sender -logDtpre.iLsfxCIvu . fs/../",
        "rsync --server --sender -logDtpre.iLsfxCIvu . archives/pre-seed-20240101T000000Z.tar",
        "rsync --server --sender -logDtpre.iLsfxCIvu . archives/incoming/",
        "rsync --server --sender -logDtpre.iLsfxCIvu . fs/ archives/",
    ],
)
def test_the_mirror_tool_refuses_anything_but_a_read_of_fs_or_an_archive(pair, request_):
    result = pair.serve(request_)
    assert result.returncode == 1 and "mirror of codenvy: refused" in result.stderr
