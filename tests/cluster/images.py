"""Container images built from this machine's Debian binaries, since no registry can be reached here."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

BUSYBOX_IMAGE = "codenvy-sim/busybox:local"
REGISTRY_IMAGE = "codenvy-sim/registry:local"
BUSYBOX_APPLETS = ("sh", "sleep", "ping", "wget", "cat", "ls", "nslookup", "echo", "true", "hostname", "nc")
# The registry's own config; the program's container env (REGISTRY_HTTP_TLS_*, REGISTRY_AUTH_*) adds the rest.
REGISTRY_CONFIG = """version: 0.1
storage:
  filesystem:
    rootdirectory: /var/lib/registry
  delete:
    enabled: true
http:
  addr: :5000
"""


def _add_file(archive: tarfile.TarFile, source: Path, target: str, mode: int = 0o755) -> None:
    info = archive.gettarinfo(str(source), arcname=target)
    info.mode, info.uid, info.gid = mode, 0, 0
    with source.open("rb") as stream:
        archive.addfile(info, stream)


def _add_text(archive: tarfile.TarFile, target: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(target)
    info.size, info.mode = len(data), 0o644
    archive.addfile(info, io.BytesIO(data))


def _add_dir(archive: tarfile.TarFile, target: str) -> None:
    info = tarfile.TarInfo(target)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    archive.addfile(info)


def _shared_libraries(binary: Path) -> list[Path]:
    listing = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    libraries = []
    for line in listing.splitlines():
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            libraries.append(Path(path))
    return libraries


def rootfs_tar(with_registry: bool) -> bytes:
    """A root filesystem: static busybox and its applets, plus Debian's docker-registry and its libc."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for directory in (
            "bin",
            "etc",
            "tmp",
            "var",
            "var/lib",
            "var/lib/registry",
            "etc/docker",
            "etc/docker/registry",
        ):
            _add_dir(archive, directory)
        _add_file(archive, Path(shutil.which("busybox") or "/bin/busybox"), "bin/busybox")
        for applet in BUSYBOX_APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            archive.addfile(info)
        _add_text(archive, "etc/passwd", "root:x:0:0:root:/:/bin/sh\n")
        if with_registry:
            binary = Path("/usr/bin/docker-registry")
            _add_file(archive, binary, "bin/registry")
            libraries = _shared_libraries(binary)
            for directory in sorted({str(parent).lstrip("/") for lib in libraries for parent in lib.parents} - {""}):
                _add_dir(archive, directory)
            for library in libraries:
                _add_file(archive, library.resolve(), str(library).lstrip("/"), mode=0o755)
            _add_text(archive, "etc/docker/registry/config.yml", REGISTRY_CONFIG)
    return buffer.getvalue()


def import_images(docker_host: str) -> None:
    """Import both images into one engine (docker import of a generated rootfs takes well under a second)."""
    images = [
        (BUSYBOX_IMAGE, False, 'CMD ["/bin/sh"]'),
        (REGISTRY_IMAGE, True, 'CMD ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]'),
    ]
    for name, with_registry, command in images:
        subprocess.run(
            ["docker", "-H", docker_host, "import", "--change", command, "-", name],
            input=rootfs_tar(with_registry), capture_output=True, check=True,
        )  # fmt: skip
