"""Stand-ins for the public images the program pins, built from Debian packages since no registry is reachable.

One Debian bookworm root filesystem (debootstrap, then PostgreSQL 15, HAProxy, the registry, lighttpd, socat,
python3 and the rest of image_flavours.PACKAGES) is built once and cached as a tarball; each engine imports it
once, and every public name (postgres:15.8, haproxy:2.8.5, codenvy/codenvy:<version>, codenvy/swarm:<version>,
...) is derived from it by a Dockerfile that sets the public image's user, entrypoint, command and stop signal,
with the flavour's own files (the server's tests/cluster/appserver, the placement manager's
tests/cluster/placement/swarm/, the agents' archives) copied from a build context. A separate tiny busybox root
filesystem gives the probe image and the lane's workspace machine image.
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
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

from components.config import ImagesConfig
from tests.cluster.image_flavours import (
    AFTER_INSTALL,
    BEFORE_INSTALL,
    BUSYBOX_BASED,
    CHANGES,
    CREATE_USERS,
    CUSTOMISE,
    FLAVOURS,
    PACKAGES,
    PATH,
    context_files,
)

CACHE_DIR = Path(os.environ.get("CODENVY_SIM_IMAGE_CACHE", "/var/cache/codenvy-sim"))
SUITE = "bookworm"
STALE_SECONDS = 7 * 24 * 3600
DEFAULT_MIRROR = "http://deb.debian.org/debian"

# Local names, for a flavour no public name stands for (BUSYBOX_IMAGE for probes, WORKSPACE_IMAGE for the lane's
# workspace machines); older tests import these.
BUSYBOX_IMAGE = "codenvy-sim/busybox:local"
WORKSPACE_IMAGE = "codenvy-sim/workspace:local"
REGISTRY_IMAGE = "codenvy-sim/registry:local"
POSTGRES_IMAGE = "codenvy-sim/postgres:local"
HAPROXY_IMAGE = "codenvy-sim/haproxy:local"
SERVER_IMAGE = "codenvy-sim/server:local"
LOCAL_IMAGES = {
    BUSYBOX_IMAGE: "busybox",
    WORKSPACE_IMAGE: "workspace",
    REGISTRY_IMAGE: "registry",
    POSTGRES_IMAGE: "postgres",
    HAPROXY_IMAGE: "haproxy",
    SERVER_IMAGE: "server",
}
LABEL = "codenvy-sim.image"
# A lane option: the path of a `docker save` tarball of the real codenvy/swarm image, used in place of the
# placement manager's stand-in where one can be had (no registry is reachable where the lane usually runs).
REAL_SWARM_VARIABLE = "CODENVY_LANE_SWARM_TAR"


def program_images(images: ImagesConfig, versions: Iterable[str]) -> dict[str, str]:
    """The public names a site pulls (its `images` settings), each with its flavour: Codenvy's own images once
    per version (the site's own, plus those an upgrade test moves between), as upstream's CLI pins them per
    release (codenvy/codenvy dockerfiles/cli/version/<version>/images)."""
    pinned = {
        images.postgres: "postgres",
        images.haproxy: "haproxy",
        images.registry: "registry",
    }
    codenvy = {images.server: "server", images.swarm: "swarm", images.socat: "socat", images.agents: "agents"}
    versioned = {f"{repo}:{version}": flavour for version in versions for repo, flavour in codenvy.items()}
    return {**pinned, **versioned}


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
    local names (BUSYBOX_IMAGE, ...) works too. Up to date images are left alone; a flavour whose source is not
    there yet (the swarm stand-in) is skipped with a note on stderr."""
    wanted = dict(public_names) if isinstance(public_names, Mapping) else {n: LOCAL_IMAGES[n] for n in public_names}
    unknown = sorted({flavour for flavour in wanted.values() if flavour not in FLAVOURS})
    if unknown:
        raise ValueError(f"unknown flavours {unknown}; known: {sorted(FLAVOURS)}")
    build_rootfs()
    key = build_key()
    for name, flavour in wanted.items():
        if flavour == "swarm" and os.environ.get(REAL_SWARM_VARIABLE):
            load_real_swarm(docker_host, name, Path(os.environ[REAL_SWARM_VARIABLE]))
            continue
        files = context_files(flavour, name)
        if files is None:
            print(f"images: {name} ({flavour}) skipped: its source is missing", file=sys.stderr)
            continue
        changes = CHANGES[flavour]
        digest = {path: hashlib.sha256(content).hexdigest() for path, (content, _) in files.items()}
        # Each name gets its own label, hence its own image ID, as two versions of a real image would.
        stamp = hashlib.sha256(json.dumps([key, flavour, name, changes, digest], sort_keys=True).encode()).hexdigest()
        if _label(docker_host, name) == stamp[:16]:
            continue
        base = _base(docker_host, "busybox" if flavour in BUSYBOX_BASED else "rootfs", key)
        dockerfile = "\n".join([f"FROM {base}", *changes, f"LABEL {LABEL}={stamp[:16]}"]) + "\n"
        _build(docker_host, name, flavour, dockerfile, files)


def load_real_swarm(docker_host: str, name: str, tarball: Path) -> None:
    """The real placement manager instead of its stand-in: a `docker save` of codenvy/swarm (or of swarm:1.2.8,
    which it wraps) loaded and named as the program pulls it. Loading the same file again changes nothing."""
    if not tarball.is_file():
        raise FileNotFoundError(f"{REAL_SWARM_VARIABLE}={tarball}: no such file (a `docker save` of codenvy/swarm)")
    loaded = _docker(docker_host, "load", "-q", "-i", str(tarball)).stdout
    references = re.findall(r"^Loaded image(?: ID)?: (\S+)$", loaded, flags=re.MULTILINE)
    if len(references) != 1:
        raise RuntimeError(f"{REAL_SWARM_VARIABLE}={tarball} holds {len(references)} images, not one: {loaded!r}")
    _docker(docker_host, "tag", references[0], name)


def _build(docker_host: str, name: str, flavour: str, dockerfile: str, files: Mapping[str, tuple[bytes, int]]) -> None:
    """`docker build` with the classic builder (no BuildKit or buildx needed; metadata-only steps add no layer),
    from a context holding the flavour's files with their modes."""
    with tempfile.TemporaryDirectory(prefix="context-") as directory:
        context = Path(directory)
        for relative, (content, mode) in files.items():
            target = context / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            target.chmod(mode)
        (context / "Dockerfile").write_text(dockerfile)
        result = subprocess.run(
            ["docker", "-H", docker_host, "build", "-q", "-t", name, str(context)],
            capture_output=True,
            text=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    if result.returncode != 0:
        raise RuntimeError(f"building {name} ({flavour}) on {docker_host}: {result.stderr.strip()}")
