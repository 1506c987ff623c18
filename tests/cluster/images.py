"""Container images built from this machine's Debian binaries, since no registry can be reached here."""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from pathlib import Path

BUSYBOX_IMAGE = "codenvy-sim/busybox:local"
REGISTRY_IMAGE = "codenvy-sim/registry:local"
POSTGRES_IMAGE = "codenvy-sim/postgres:local"
PG_ROOT = Path("/usr/lib/postgresql/15")
PG_SHARE = Path("/usr/share/postgresql/15")
PG_TOOLS = ("postgres", "initdb", "pg_ctl", "pg_dump", "pg_restore", "psql", "pg_isready")
# Like the official image: initialise on first start from POSTGRES_USER/DB/PASSWORD, then serve.
POSTGRES_ENTRYPOINT = """#!/bin/sh
set -e
data=/var/lib/postgresql/data
mkdir -p "$data" /run/postgresql
chown -R postgres:postgres "$data" /run/postgresql
chmod 700 "$data"
as_postgres() { su -s /bin/sh postgres -c "$*"; }
if [ ! -s "$data/PG_VERSION" ]; then
  printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
  chown postgres /tmp/pwfile
  options="--auth-local=trust --auth-host=scram-sha-256 --no-locale -E UTF8"
  as_postgres "initdb -D $data -U $POSTGRES_USER --pwfile=/tmp/pwfile $options"
  rm -f /tmp/pwfile
  as_postgres "pg_ctl -D $data -w -l /tmp/setup.log -o '-c listen_addresses=' start" || { cat /tmp/setup.log; exit 1; }
  as_postgres "psql -U $POSTGRES_USER -d postgres -c 'CREATE DATABASE $POSTGRES_DB'"
  as_postgres "pg_ctl -D $data -w stop"
fi
exec su -s /bin/sh postgres -c "exec postgres -D $data -c listen_addresses=*"
"""
BUSYBOX_APPLETS = ("sh", "sleep", "ping", "wget", "cat", "ls", "nslookup", "echo", "true", "hostname", "nc", "su",
                   "mkdir", "chown", "chmod", "rm", "printf", "find", "sha256sum", "sort", "xargs", "tar")  # fmt: skip
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


def _add_text(archive: tarfile.TarFile, target: str, text: str, mode: int = 0o644) -> None:
    data = text.encode()
    info = tarfile.TarInfo(target)
    info.size, info.mode = len(data), mode
    archive.addfile(info, io.BytesIO(data))


def _add_dir(archive: tarfile.TarFile, target: str) -> None:
    info = tarfile.TarInfo(target)
    info.type, info.mode = tarfile.DIRTYPE, 0o1777 if target == "tmp" else 0o755
    archive.addfile(info)


def _shared_libraries(binary: Path) -> list[Path]:
    listing = subprocess.run(["ldd", str(binary)], capture_output=True, text=True, check=False).stdout
    libraries = []
    for line in listing.splitlines():
        path = line.split("=>")[-1].split("(")[0].strip()
        if path.startswith("/"):
            libraries.append(Path(path))
    return libraries


def _add_binaries(archive: tarfile.TarFile, binaries: list[tuple[Path, str]], written: set[str]) -> None:
    """Binaries at their targets, with every shared library they load at its own path."""
    libraries = sorted({lib for binary, _ in binaries for lib in _shared_libraries(binary)})
    files = [*binaries, *((lib, str(lib).lstrip("/")) for lib in libraries)]
    for _, target in files:
        for parent in reversed(Path(target).parents):
            if str(parent) != "." and str(parent) not in written:
                written.add(str(parent))
                _add_dir(archive, str(parent))
    for source, target in files:
        if target not in written:
            written.add(target)
            _add_file(archive, source.resolve(), target)


def rootfs_tar(flavour: str) -> bytes:
    """A root filesystem: static busybox and its applets, plus Debian's registry or PostgreSQL binaries."""
    buffer = io.BytesIO()
    written = {"bin", "etc", "tmp", "var", "var/lib", "run"}
    users = "root:x:0:0:root:/:/bin/sh\n"
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for directory in sorted(written):
            _add_dir(archive, directory)
        run_link = tarfile.TarInfo("var/run")  # Debian's PostgreSQL puts its socket in /var/run/postgresql
        run_link.type, run_link.linkname = tarfile.SYMTYPE, "/run"
        archive.addfile(run_link)
        _add_file(archive, Path(shutil.which("busybox") or "/bin/busybox"), "bin/busybox")
        for applet in BUSYBOX_APPLETS:
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            archive.addfile(info)
        if flavour == "registry":
            _add_binaries(archive, [(Path("/usr/bin/docker-registry"), "bin/registry")], written)
            _add_text(archive, "etc/docker/registry/config.yml", REGISTRY_CONFIG)
        elif flavour == "postgres":
            binaries = [(PG_ROOT / "bin" / tool, f"{PG_ROOT}/bin/{tool}".lstrip("/")) for tool in PG_TOOLS]
            # Every extension module but the JIT, which would bring libLLVM (~100 MB) along.
            modules = [lib for lib in sorted((PG_ROOT / "lib").glob("*.so")) if not lib.name.startswith("llvmjit")]
            binaries += [(lib, str(lib).lstrip("/")) for lib in modules]
            _add_binaries(archive, binaries, written)
            archive.add(str(PG_SHARE), arcname=str(PG_SHARE).lstrip("/"))
            for zone in ("UTC", "Etc/UTC", "GMT"):
                archive.add(f"/usr/share/zoneinfo/{zone}", arcname=f"usr/share/zoneinfo/{zone}")
            _add_text(archive, "usr/local/bin/docker-entrypoint", POSTGRES_ENTRYPOINT, mode=0o755)
            users += "postgres:x:999:999::/var/lib/postgresql:/bin/sh\n"
            _add_text(archive, "etc/group", "root:x:0:\npostgres:x:999:\n")
        _add_text(archive, "etc/passwd", users)
    return buffer.getvalue()


IMAGES = {
    BUSYBOX_IMAGE: ("busybox", ['CMD ["/bin/sh"]']),
    REGISTRY_IMAGE: ("registry", ['CMD ["/bin/registry", "serve", "/etc/docker/registry/config.yml"]']),
    POSTGRES_IMAGE: (
        "postgres",
        [
            f"ENV PATH={PG_ROOT}/bin:/bin",
            "ENV TZ=UTC",
            'CMD ["/usr/local/bin/docker-entrypoint"]',
        ],
    ),
}


def import_images(docker_host: str, names: tuple[str, ...] = (BUSYBOX_IMAGE, REGISTRY_IMAGE)) -> None:
    """Import images into one engine (docker import of a generated rootfs takes about a second)."""
    for name in names:
        flavour, changes = IMAGES[name]
        options = [option for change in changes for option in ("--change", change)]
        subprocess.run(
            ["docker", "-H", docker_host, "import", *options, "-", name],
            input=rootfs_tar(flavour), capture_output=True, check=True,
        )  # fmt: skip
