"""Stand-ins for the public images the program pins, built from Debian packages since no registry is reachable.

One Debian bookworm root filesystem (debootstrap, then PostgreSQL 15, HAProxy, the registry, python3, curl and
wget) is built once and cached as a tarball; each engine imports it once, and every public name (postgres:15.8,
haproxy:2.8.5, registry:2.8.3, codenvy/codenvy:<version>, ...) is derived from it by a Dockerfile that sets the
official image's user, entrypoint, command and stop signal (the server's adds tests/cluster/appserver/server.py).
A separate tiny busybox image serves ping/wget probes and registry pushes.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from components.config import ImagesConfig
from components.master_layout import DATA_ROOT, INSTANCE_DIR, SERVER_PORT

CACHE_DIR = Path(os.environ.get("CODENVY_SIM_IMAGE_CACHE", "/var/cache/codenvy-sim"))
SUITE = "bookworm"
STALE_SECONDS = 7 * 24 * 3600
DEFAULT_MIRROR = "http://deb.debian.org/debian"
APPSERVER = Path(__file__).parent / "appserver" / "server.py"
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PG_BIN = "/usr/lib/postgresql/15/bin"

FLAVOURS = {
    "postgres": "the official postgres:15 image: root entrypoint owns PGDATA and re-execs as postgres (uid/gid 999) "
    "via gosu; an empty /var/lib/postgresql/data is initialised from POSTGRES_USER/PASSWORD/DB (local trust, "
    "host scram-sha-256, listen on all addresses) by a temporary server given the container's own arguments; "
    "one that has PG_VERSION (seeded by pg_basebackup) is started as it is; a fresh volume there is "
    "postgres-owned 1777; postgres runs as PID 1, STOPSIGNAL SIGINT, exit 0 on SIGINT/SIGTERM; psql, pg_dump, "
    "pg_restore, pg_isready, pg_basebackup, pg_controldata on PATH",
    "haproxy": "the official haproxy:2.8 image with Debian's haproxy 2.6: USER haproxy (uid/gid 99), WORKDIR "
    "/var/lib/haproxy, CMD haproxy -f /usr/local/etc/haproxy/haproxy.cfg run as `haproxy -W -db`, STOPSIGNAL SIGUSR1",
    "registry": "the official registry:2 image with Debian's docker-registry 2.8: /bin/registry, "
    "/etc/docker/registry/config.yml (no auth, storage in /var/lib/registry), /entrypoint.sh, runs as root; wget",
    "server": f"the codenvy/codenvy stand-in (tests/cluster/appserver/server.py) on :{SERVER_PORT}, root, curl, "
    "python3-psycopg2; data in PostgreSQL and under the fs/ volume, version from /instance/codenvy.ver",
    "busybox": "a few-MB static busybox with every applet in /bin (sh, ping, wget, nc, sleep...); CMD sh",
}

# Local names, for a flavour no public name stands for (BUSYBOX_IMAGE for probes); older tests import these.
BUSYBOX_IMAGE = "codenvy-sim/busybox:local"
REGISTRY_IMAGE = "codenvy-sim/registry:local"
POSTGRES_IMAGE = "codenvy-sim/postgres:local"
HAPROXY_IMAGE = "codenvy-sim/haproxy:local"
SERVER_IMAGE = "codenvy-sim/server:local"
LOCAL_IMAGES = {
    BUSYBOX_IMAGE: "busybox",
    REGISTRY_IMAGE: "registry",
    POSTGRES_IMAGE: "postgres",
    HAPROXY_IMAGE: "haproxy",
    SERVER_IMAGE: "server",
}

PACKAGES = (
    "postgresql-15", "gosu", "haproxy", "docker-registry", "python3", "python3-psycopg2", "curl", "wget",
    "busybox-static",
)  # fmt: skip

POSTGRES_ENTRYPOINT = r"""#!/usr/bin/env bash
# The official postgres image's docker-entrypoint.sh, reduced to what the site uses.
set -Eeo pipefail
if [ "${1:0:1}" = '-' ]; then
  set -- postgres "$@"
fi
if [ "$1" = postgres ]; then
  mkdir -p "$PGDATA"
  chmod 700 "$PGDATA" || :
fi
if [ "$1" = postgres ] && [ "$(id -u)" = 0 ]; then
  mkdir -p /var/run/postgresql
  find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
  chown postgres:postgres /var/run/postgresql
  chmod 3777 /var/run/postgresql
  exec gosu postgres "$BASH_SOURCE" "$@"
fi
if [ "$1" = postgres ] && [ -s "$PGDATA/PG_VERSION" ]; then
  printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
elif [ "$1" = postgres ]; then
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "${POSTGRES_HOST_AUTH_METHOD:-}" != trust ]; then
    echo 'Error: Database is uninitialized and superuser password is not specified (POSTGRES_PASSWORD).' >&2
    exit 1
  fi
  user=${POSTGRES_USER:-postgres}
  db=${POSTGRES_DB:-$user}
  # The container's own server arguments (-c ssl=on, -c hba_file=...) apply from the first boot on.
  server_args=("${@:2}")
  initdb --username="$user" --pwfile=<(printf '%s\n' "${POSTGRES_PASSWORD:-}") $POSTGRES_INITDB_ARGS
  auth=${POSTGRES_HOST_AUTH_METHOD:-$(postgres -C password_encryption "${server_args[@]}")}
  printf '\nhost all all all %s\n' "$auth" >> "$PGDATA/pg_hba.conf"
  temporary=("${server_args[@]}" -c listen_addresses='' -p "${PGPORT:-5432}")
  PGUSER="${PGUSER:-$user}" pg_ctl -D "$PGDATA" -o "$(printf '%q ' "${temporary[@]}")" -w start
  if [ "$db" != postgres ]; then
    PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc --dbname postgres \
      --set db="$db" <<< 'CREATE DATABASE :"db";'
  fi
  for file in /docker-entrypoint-initdb.d/*; do
    case "$file" in
      *.sh) . "$file" ;;
      *.sql) PGHOST= PGHOSTADDR= psql -v ON_ERROR_STOP=1 --username "$user" --no-password --no-psqlrc \
        --dbname "$db" -f "$file" ;;
    esac
  done
  pg_ctl -D "$PGDATA" -m fast -w stop
  printf '\nPostgreSQL init process complete; ready for start up.\n\n'
fi
exec "$@"
"""
HAPROXY_ENTRYPOINT = """#!/bin/sh
# The official haproxy image's docker-entrypoint.sh: master-worker mode in the foreground.
set -e
if [ "${1#-}" != "$1" ]; then
  set -- haproxy "$@"
fi
if [ "$1" = haproxy ]; then
  shift
  set -- haproxy -W -db "$@"
fi
exec "$@"
"""
REGISTRY_ENTRYPOINT = """#!/bin/sh
# The official registry image's entrypoint.sh.
set -e
case "$1" in
  *.yaml | *.yml) set -- registry serve "$@" ;;
  serve | garbage-collect | help | -*) set -- registry "$@" ;;
esac
exec "$@"
"""
# The official registry image's config.yml; Debian's own turns htpasswd auth on, which the site sets itself.
REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""
# Written before the packages are installed: no service starts in the chroot, no cluster is made.
BEFORE_INSTALL = {
    "usr/sbin/policy-rc.d": ("#!/bin/sh\nexit 101\n", 0o755),
    "etc/postgresql-common/createcluster.conf": ("create_main_cluster = false\n", 0o644),
}
AFTER_INSTALL = {
    "usr/local/bin/docker-entrypoint.sh": (POSTGRES_ENTRYPOINT, 0o755),
    "usr/local/bin/haproxy-entrypoint.sh": (HAPROXY_ENTRYPOINT, 0o755),
    "entrypoint.sh": (REGISTRY_ENTRYPOINT, 0o755),
    "etc/docker/registry/config.yml": (REGISTRY_CONFIG, 0o644),
}
# Run in the chroot around `apt-get install`. The official images' fixed ids: postgres 999 (created before
# the package, as the official Dockerfile does), haproxy 99 (below Debian's system range, so renumbered after).
CREATE_USERS = """set -eu
groupadd -r -g 999 postgres
useradd -r -u 999 -g 999 -d /var/lib/postgresql -M -s /bin/bash postgres
"""
CUSTOMISE = """set -eu
old_uid=$(id -u haproxy) old_gid=$(id -g haproxy)
groupmod -g 99 haproxy
usermod -u 99 -g 99 haproxy
find / -xdev -uid "$old_uid" -exec chown -h 99 '{}' +
find / -xdev -gid "$old_gid" -exec chgrp -h 99 '{}' +
mkdir -p /var/lib/haproxy /usr/local/etc/haproxy /var/run/postgresql /var/lib/postgresql
cp -R /etc/haproxy/errors /usr/local/etc/haproxy/errors
chown haproxy:haproxy /var/lib/haproxy
chown postgres:postgres /var/run/postgresql /var/lib/postgresql
chmod 3777 /var/run/postgresql
# As the official image: a fresh volume at PGDATA starts as this directory, so uid 999 can seed it
# (pg_basebackup in a throw-away container) before the entrypoint ever ran.
install -d -o postgres -g postgres -m 1777 /var/lib/postgresql/data
ln -sf docker-registry /usr/bin/registry
# As the official image: listen on every address by default.
sed -ri "s!^#?(listen_addresses)\\s*=\\s*\\S+.*!\\1 = '*'!" /usr/share/postgresql/15/postgresql.conf.sample
# Leave out the JIT's LLVM (~130 MB); PostgreSQL then runs as with jit = off.
rm -rf /usr/lib/postgresql/15/lib/llvmjit*.so /usr/lib/postgresql/15/lib/bitcode
dpkg --purge --force-depends libllvm14 libz3-4 > /dev/null 2>&1
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/man/* /usr/share/locale/* /usr/share/info/* /var/log/apt /var/log/*.log
find /usr/share/doc -type f ! -name copyright -delete
rm -f /usr/sbin/policy-rc.d
: > /etc/resolv.conf  # the engine mounts its own over these
: > /etc/hostname
"""

# The official images' configuration, as Dockerfile instructions on top of the imported rootfs.
CHANGES = {
    "postgres": [
        f"ENV PATH={PATH}:{PG_BIN}",
        "ENV PG_MAJOR=15",
        "ENV PGDATA=/var/lib/postgresql/data",
        "ENV LANG=C.UTF-8",
        "VOLUME /var/lib/postgresql/data",
        "EXPOSE 5432",
        "STOPSIGNAL SIGINT",
        'ENTRYPOINT ["docker-entrypoint.sh"]',
        'CMD ["postgres"]',
    ],
    "haproxy": [
        f"ENV PATH={PATH}",
        "USER haproxy",
        "WORKDIR /var/lib/haproxy",
        "STOPSIGNAL SIGUSR1",
        'ENTRYPOINT ["haproxy-entrypoint.sh"]',
        'CMD ["haproxy", "-f", "/usr/local/etc/haproxy/haproxy.cfg"]',
    ],
    "registry": [
        f"ENV PATH={PATH}",
        "VOLUME /var/lib/registry",
        "EXPOSE 5000",
        'ENTRYPOINT ["/entrypoint.sh"]',
        'CMD ["/etc/docker/registry/config.yml"]',
    ],
    "server": [
        f"ENV PATH={PATH}",
        f"ENV CODENVY_SIM_PORT={SERVER_PORT}",
        f"ENV CODENVY_SIM_DATA_ROOT={DATA_ROOT}",
        f"ENV CODENVY_SIM_INSTANCE_DIR={INSTANCE_DIR}",
        f"EXPOSE {SERVER_PORT}",
        f"COPY {APPSERVER.name} /opt/codenvy-sim/{APPSERVER.name}",
        f'CMD ["python3", "-u", "/opt/codenvy-sim/{APPSERVER.name}"]',
    ],
    "busybox": ["ENV PATH=/bin", 'CMD ["sh"]'],
}
# Build contexts: the server's source is a layer of its own, so editing it does not rebuild the rootfs.
CONTEXTS = {"server": APPSERVER.parent}
LABEL = "codenvy-sim.image"


def program_images(images: ImagesConfig, versions: Iterable[str]) -> dict[str, str]:
    """The public names a site pulls (its `images` settings), each with its flavour, with one server tag
    per version: the site's own, plus those an upgrade test moves between."""
    servers = {f"{images.server}:{version}": "server" for version in versions}
    return {images.postgres: "postgres", images.haproxy: "haproxy", images.registry: "registry", **servers}


def build_key() -> str:
    """What the cached tarballs are made of; any change to it builds them again."""
    recipe = [SUITE, PACKAGES, BEFORE_INSTALL, AFTER_INSTALL, CREATE_USERS, CUSTOMISE]
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def debian_mirror() -> str:
    """The Debian mirror apt uses on this machine (one-line or deb822 sources), else deb.debian.org."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for source in sources:
        if not source.is_file() or not source.name.endswith((".list", ".sources")):
            continue
        text = source.read_text(errors="replace")
        for line in text.splitlines():
            fields = re.sub(r"\[[^]]*\]", "", line).split()
            if fields[:1] == ["deb"] and len(fields) > 2 and fields[2] == SUITE:
                return fields[1]
        for stanza in re.split(r"\n\s*\n", text):
            entry = dict(re.findall(r"^([A-Za-z-]+):\s*(.*)$", stanza, re.MULTILINE))
            binaries = "deb" in entry.get("Types", "").split() and entry.get("Enabled", "yes") != "no"
            if binaries and SUITE in entry.get("Suites", "").split() and "URIs" in entry:
                return entry["URIs"].split()[0]
    return DEFAULT_MIRROR


def _chroot(root: Path, *argv: str) -> None:
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": PATH, "LC_ALL": "C.UTF-8"}
    result = subprocess.run(["chroot", str(root), *argv], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        output = f"{result.stdout[-3000:]}{result.stderr}"
        raise RuntimeError(f"in the chroot {root}: {' '.join(argv)[:80]} failed:\n{output}")


def _write(root: Path, files: Mapping[str, tuple[str, int]]) -> None:
    for target, (content, mode) in files.items():
        path = root / target
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        path.chmod(mode)


def _install(root: Path) -> None:
    """Packages into the chroot, with /proc mounted for their maintainer scripts, and always unmounted."""
    _write(root, BEFORE_INSTALL)
    shutil.copy("/etc/resolv.conf", root / "etc" / "resolv.conf")
    _chroot(root, "sh", "-c", CREATE_USERS)
    subprocess.run(["mount", "--bind", "/proc", str(root / "proc")], check=True)
    try:
        _chroot(root, "apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES)
        _chroot(root, "sh", "-c", CUSTOMISE)
    finally:
        subprocess.run(["umount", str(root / "proc")], check=True)
    _write(root, AFTER_INSTALL)


def _busybox_tar(root: Path, target: Path) -> None:
    """A tiny root filesystem: the static busybox from the rootfs with every applet linked in /bin."""
    busybox = root / "usr" / "bin" / "busybox"
    applets = subprocess.run([str(busybox), "--list"], capture_output=True, text=True, check=True).stdout.split()
    with tarfile.open(target, "w") as archive:
        for directory, mode in (("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777), ("var", 0o755)):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, mode
            archive.addfile(info)
        archive.add(str(busybox), arcname="bin/busybox")
        for applet in sorted(set(applets) - {"busybox"}):
            info = tarfile.TarInfo(f"bin/{applet}")
            info.type, info.linkname = tarfile.SYMTYPE, "busybox"
            archive.addfile(info)
        for name, text in (
            ("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n"),
            ("etc/group", "root:x:0:\nnogroup:x:65534:\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(text), 0o644
            archive.addfile(info, io.BytesIO(text.encode()))


def _cached(kind: str, key: str) -> Path:
    return CACHE_DIR / f"{kind}-{key}.tar"


def build_rootfs() -> Path:
    """The cached rootfs tarball (and its busybox companion), built on a miss: debootstrap ~30 s, packages ~20 s."""
    key = build_key()
    rootfs, busybox = _cached("rootfs", key), _cached("busybox", key)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time; the others then find it cached
        _forget_stale(key)
        if rootfs.exists() and busybox.exists():
            for tarball in (rootfs, busybox):
                tarball.touch()  # in use: not stale
            return rootfs
        work = Path(tempfile.mkdtemp(prefix="build-", dir=CACHE_DIR))
        try:
            root = work / "root"
            bootstrap = ["debootstrap", "--variant=minbase", SUITE, str(root), debian_mirror()]
            result = subprocess.run(bootstrap, capture_output=True, text=True)
            if result.returncode != 0:
                raise RuntimeError(f"{' '.join(bootstrap)} failed:\n{result.stdout[-3000:]}{result.stderr}")
            _install(root)
            _busybox_tar(root, work / "busybox.tar")
            archive = ["tar", "--numeric-owner", "-C", str(root), "-cf", str(work / "rootfs.tar")]
            subprocess.run([*archive, "--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."], check=True)
            (work / "busybox.tar").rename(busybox)
            (work / "rootfs.tar").rename(rootfs)
        finally:
            _remove_build(work)
        return rootfs


def _forget_stale(key: str) -> None:
    """Tarballs of other builds no run has used for a week (other checkouts may still use recent ones)."""
    for tarball in CACHE_DIR.glob("*.tar"):
        if key not in tarball.name and time.time() - tarball.stat().st_mtime > STALE_SECONDS:
            tarball.unlink()


def _remove_build(work: Path) -> None:
    """Remove a build directory, never descending into something still mounted in it."""
    mounted = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
    for point in sorted((m for m in mounted if m.startswith(f"{work}/")), reverse=True):
        subprocess.run(["umount", "-l", point], check=False)
    subprocess.run(["rm", "-rf", "--one-file-system", str(work)], check=True)


def _docker(docker_host: str, *args: str, stdin=None) -> subprocess.CompletedProcess:
    result = subprocess.run(["docker", "-H", docker_host, *args], stdin=stdin, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"docker -H {docker_host} {' '.join(args)}: {result.stderr.strip()}")
    return result


def _label(docker_host: str, image: str) -> str | None:
    result = subprocess.run(
        ["docker", "-H", docker_host, "image", "inspect", "-f", f'{{{{index .Config.Labels "{LABEL}"}}}}', image],
        capture_output=True,
        text=True,
    )
    return result.stdout.strip() if result.returncode == 0 else None


def _base(docker_host: str, kind: str, key: str) -> str:
    """The imported tarball on that engine, imported only once per build."""
    image = f"codenvy-sim/{kind}:{key}"
    if _label(docker_host, image) is None:
        with _cached(kind, key).open("rb") as tarball:
            _docker(docker_host, "import", "-", image, stdin=tarball)
    return image


def import_images(docker_host: str, public_names: Mapping[str, str] | Iterable[str] = tuple(LOCAL_IMAGES)) -> None:
    """Make each public name exist on that engine as its flavour, so nothing is pulled. `public_names` maps
    a reference (postgres:15.8, codenvy/codenvy:5.22.0) to a flavour of FLAVOURS; a plain list of the
    local names (BUSYBOX_IMAGE, ...) works too. Up to date images are left alone."""
    wanted = dict(public_names) if isinstance(public_names, Mapping) else {n: LOCAL_IMAGES[n] for n in public_names}
    unknown = sorted({flavour for flavour in wanted.values() if flavour not in FLAVOURS})
    if unknown:
        raise ValueError(f"unknown flavours {unknown}; known: {sorted(FLAVOURS)}")
    build_rootfs()
    key = build_key()
    for name, flavour in wanted.items():
        changes = CHANGES[flavour]
        context = CONTEXTS.get(flavour)
        sources = [(path.name, path.read_text()) for path in sorted(context.glob("*.py"))] if context else []
        # Each name gets its own label, hence its own image ID, as two versions of a real image would.
        stamp = hashlib.sha256(json.dumps([key, flavour, name, changes, sources]).encode()).hexdigest()[:16]
        if _label(docker_host, name) == stamp:
            continue
        base = _base(docker_host, "busybox" if flavour == "busybox" else "rootfs", key)
        dockerfile = "\n".join([f"FROM {base}", *changes, f"LABEL {LABEL}={stamp}"]) + "\n"
        # The classic builder: no BuildKit or buildx needed, and metadata-only steps add no layer.
        source = ["-f", "-", str(context)] if context else ["-"]  # the Dockerfile on stdin, with or without files
        result = subprocess.run(
            ["docker", "-H", docker_host, "build", "-q", "-t", name, *source],
            input=dockerfile,
            capture_output=True,
            text=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
        if result.returncode != 0:
            raise RuntimeError(f"building {name} ({flavour}) on {docker_host}: {result.stderr.strip()}")
