"""What a container, a Swarm service or a bind volume mounts from the host: no runtime socket (but the engine
relay's, behind verified TLS), no system directory, no other container's volumes."""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, ResourceValidationArgs

from .common import CONTAINER, MOUNTING, VOLUME, container_props, labels_of, resource_policy
from .program_facts import RELAY_LABEL, RELAY_SOCKET

# Container runtime sockets, after _host_path's normalisation (/var/run is a symlink to /run): each is root on
# the host, and so is any directory holding one.
RUNTIME_SOCKETS = (
    "/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/docker/containerd/containerd.sock",
    "/run/crio/crio.sock",
    "/run/podman/podman.sock",
)
# Host directories a container must not see, nor any directory above or below them: configuration, kernel
# interfaces, devices, binaries and the runtimes' state are each a way to root. "/" is only itself.
SYSTEM_PATHS = (
    "/etc",
    "/proc",
    "/sys",
    "/dev",
    "/boot",
    "/root",
    "/run",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/var/lib/docker",
    "/var/lib/containerd",
    # Cron spools run what they hold as their owners; home directories hold users' keys and shell profiles;
    # /var/backups holds the host's copies of passwd and shadow; /var/log feeds the host's log readers.
    "/var/spool",
    "/home",
    "/var/backups",
    "/var/log",
)


def _host_path(raw: Any) -> str | None:
    """A bind source as the kernel resolves it: `//x`, `x/../y` and the /var/run -> /run symlink folded;
    None for a named volume (names cannot start with '/')."""
    path = str(raw or "").strip()
    if not path.startswith("/"):
        return None
    path = posixpath.normpath("/" + path.lstrip("/"))
    if path == "/var/run" or path.startswith("/var/run/"):
        path = "/run" + path.removeprefix("/var/run")
    return path


def _within(path: str, directory: str) -> bool:
    return directory == "/" or path == directory or path.startswith(directory + "/")


def _bind_device(driver: Any, options: Any) -> str | None:
    """The host path a volume binds: a local-driver volume whose `o` options hold bind or rbind mounts its
    `device`, which mount(2) resolves from dockerd's working directory, /."""
    options = options if isinstance(options, Mapping) else {}
    mount_options = {option.strip().lower() for option in str(options.get("o") or "").split(",")}
    if str(driver or "local").strip().lower() != "local" or not mount_options & {"bind", "rbind"}:
        return None
    return "/" + str(options.get("device") or "").strip().lstrip("/")


def _bound_sources(props: Mapping[str, Any]) -> list[str]:
    """Every host path a container binds, as written: volumes' hostPath, a volumeName that is a path (Docker
    binds it), mounts' source, and the device of an inline bind volume."""
    raw = [volume.get(key) for volume in props.get("volumes") or [] for key in ("hostPath", "volumeName")]
    for mount in props.get("mounts") or []:
        options = mount.get("volumeOptions") or {}
        raw += [mount.get("source"), _bind_device(options.get("driverName"), options.get("driverOptions"))]
    return [str(path).strip() for path in raw if str(path or "").strip().startswith("/")]


def _host_paths(props: Mapping[str, Any]) -> list[str]:
    return [path for path in map(_host_path, _bound_sources(props)) if path]


def _mounting_props(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """A container's or service's props; a Volume as a container that mounts it."""
    if args.resource_type != VOLUME:
        return container_props(args)
    options = {"driverName": args.props.get("driver"), "driverOptions": args.props.get("driverOpts")}
    return {"mounts": [{"type": "volume", "volumeOptions": options}]}


def _verified_relay(props: Mapping[str, Any]) -> bool:
    """A container labelled as an engine relay whose socat listens with TLS and verifies client certificates
    against a CA (OPENSSL-LISTEN with verify=1 and cafile=)."""
    if labels_of(props).get(RELAY_LABEL[0]) != RELAY_LABEL[1]:
        return False
    listeners = [str(arg) for arg in props.get("command") or [] if str(arg).upper().startswith("OPENSSL-LISTEN:")]
    options = [set(listener.split(",")[1:]) for listener in listeners]
    return len(options) == 1 and "verify=1" in options[0] and any(o.startswith("cafile=") for o in options[0])


def _relay_socket(props: Mapping[str, Any], path: str) -> bool:
    """The engine's socket itself, bound into a verified relay: what placement needs, nothing around it."""
    return path == RELAY_SOCKET and _verified_relay(props)


def _check_no_docker_socket(args: ResourceValidationArgs) -> str | None:
    props = _mounting_props(args)
    if labels_of(props).get(RELAY_LABEL[0]) == RELAY_LABEL[1] and not _verified_relay(props):
        return (
            "an engine relay must listen with TLS and require a client certificate from the site CA "
            "(socat OPENSSL-LISTEN:…,verify=1,cafile=…); otherwise it hands the engine to anyone who connects"
        )
    exposed = sorted(
        {
            path
            for path in _host_paths(props)
            for sock in RUNTIME_SOCKETS
            if _within(sock, path) and not _relay_socket(props, path)
        }
    )
    if exposed:
        return (
            f"mounts a container runtime socket or a directory holding one ({', '.join(exposed)}), which is root on "
            "the host; drop the mount and talk to the API over ssh:// or TLS"
        )
    return None


def _check_no_system_mount(args: ResourceValidationArgs) -> str | None:
    props = _mounting_props(args)
    # `..` after a symlink climbs from the link's target, which only the host knows: no spelling is safe.
    climbing = sorted({path for path in _bound_sources(props) if ".." in path.split("/")})
    if climbing:
        return (
            f"bind-mounts path(s) {climbing} through '..'; name the directory without '..', or use a named volume "
            "or uploads instead"
        )
    exposed = sorted(
        {
            path
            for path in _host_paths(props)
            if not _relay_socket(props, path)
            and (path == "/" or any(_within(path, system) or _within(system, path) for system in SYSTEM_PATHS))
        }
    )
    if exposed:
        return f"bind-mounts host system path(s) {exposed}; drop them and use a named volume or uploads instead"
    return None


def _check_no_volumes_from(args: ResourceValidationArgs) -> str | None:
    donors = [str(volume["fromContainer"]) for volume in args.props.get("volumes") or [] if volume.get("fromContainer")]
    if donors:
        return (
            f"takes the volumes of container(s) {donors} (volumes.fromContainer), bind mounts and the engine "
            "relay's socket included; drop fromContainer and mount the named volumes it needs"
        )
    return None


POLICIES: list[Policy] = [
    resource_policy(
        "no-docker-socket-mount",
        "No container mounts a container runtime socket (Docker, containerd) or a directory holding one, but an "
        "engine relay the Docker socket itself, behind TLS that verifies client certificates.",
        MOUNTING,
        _check_no_docker_socket,
    ),
    resource_policy(
        "no-host-system-mount",
        "No container or volume binds (a mount, or a local volume with o=bind) /, a host system or data directory "
        "(/etc, /run, /home, /var/log, ...), its parents or children, or a path through '..'.",
        MOUNTING,
        _check_no_system_mount,
    ),
    resource_policy(
        "container-no-volumes-from",
        "Containers do not take another container's volumes, and with them its mounts (volumes.fromContainer).",
        (CONTAINER,),
        _check_no_volumes_from,
    ),
]
