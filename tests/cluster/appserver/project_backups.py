"""The dev machine's /projects kept on the master: restored at start, saved at stop
(C: DockerEnvironmentBackupManager.java with rsyncbackup.sh.erb and rsyncrestore.sh.erb)."""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tarfile
import tempfile
import typing
from pathlib import Path

if typing.TYPE_CHECKING:
    from machines import Machine

LOG = logging.getLogger("codenvy.machines")  # the machine provider's log, whichever module writes
PROJECTS = "/projects"  # C: codenvy-api-configuration.properties: che.workspace.projects.storage
# rsyncbackup.sh.erb:28-43 and rsyncrestore.sh.erb: the options the master's copies of /projects keep.
RSYNC_BACKUP = ["--quiet", "--recursive", "--times", "--partial", "--delete", "--links", "--safe-links", "--owner",
                "--group", "--numeric-ids", "--perms", "--include=.codenvy/", "--filter=:- .gitignore"]  # fmt: skip
RSYNC_RESTORE = [option for option in RSYNC_BACKUP if option != "--partial"]


def _rsync(options: list[str], source: Path, target: Path) -> None:
    subprocess.run(["rsync", *options, f"{source}/", f"{target}/"], check=True, capture_output=True)


def _extract(archive: bytes, target: Path, top: str) -> None:
    """The tar the engine sends for a folder (its entries under `top/`), unpacked into `target`; entries that
    would land outside it, devices and links out of it are skipped."""
    root = target.resolve()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not parts or parts[0] != top or ".." in parts or member.isdev():
                continue
            relative = Path(*parts[1:]) if len(parts) > 1 else Path(".")
            destination = (root / relative).resolve()
            if not destination.is_relative_to(root):
                continue
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                if not (destination.parent / member.linkname).resolve().is_relative_to(root):
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.unlink(missing_ok=True)
                destination.symlink_to(member.linkname)
            elif member.isfile():
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with destination.open("wb") as out:
                    shutil.copyfileobj(source, out)
                destination.chmod(member.mode & 0o777)


class ProjectBackups:
    """The dev machine's /projects, restored at start and kept at stop (C: DockerEnvironmentBackupManager);
    part of MachineRuntime."""

    def _restore_projects(self, workspace_id: str, machine: Machine) -> None:
        """fs/<ws> → che-machines/<ws> on the master, then into the machine's /projects (the contract's path for
        C: DockerEnvironmentBackupManager.restoreWorkspaceBackup with rsyncrestore.sh)."""
        source, copy = self.fs / workspace_id, self.machines_dir / workspace_id
        source.mkdir(parents=True, exist_ok=True)
        copy.mkdir(parents=True, exist_ok=True)
        _rsync(RSYNC_RESTORE, source, copy)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for path in sorted(copy.iterdir()):
                archive.add(str(path), arcname=path.name)
        self.docker.request(
            "PUT", f"/containers/{machine.container_id}/archive", query={"path": PROJECTS}, body=buffer.getvalue()
        )

    def _backup_projects(self, workspace_id: str, machine: Machine) -> None:
        """The machine's /projects → che-machines/<ws> → fs/<ws> (C: DockerEnvironmentBackupManager.backupWorkspace
        with rsyncbackup.sh's options)."""
        archive = self.docker.request("GET", f"/containers/{machine.container_id}/archive", query={"path": PROJECTS})
        copy, target = self.machines_dir / workspace_id, self.fs / workspace_id
        with tempfile.TemporaryDirectory(prefix="projects-", dir=self.machines_dir) as unpacked:
            _extract(archive.body, Path(unpacked), PROJECTS.strip("/"))
            copy.mkdir(parents=True, exist_ok=True)
            _rsync(RSYNC_BACKUP, Path(unpacked), copy)
        target.mkdir(parents=True, exist_ok=True)
        _rsync(RSYNC_BACKUP, copy, target)
