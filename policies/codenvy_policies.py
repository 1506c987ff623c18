"""The codenvy-infra policies, one validator per rule; importable with only pulumi-policy installed.

Resource policies read the inputs the engine sees (camelCase); stack policies read the resources' state.
"""

from __future__ import annotations

import ipaddress
import json
import os
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

CONTAINER = "docker:index/container:Container"
SERVICE = "docker:index/service:Service"
VOLUME = "docker:index/volume:Volume"
PLUGIN = "docker:index/plugin:Plugin"
# A Swarm service runs containers too: every container rule reads its task spec (see _container_props).
CONTAINER_LIKE = (CONTAINER, SERVICE)
# A local-driver volume with `o=bind` is a bind mount of its `device` (moby daemon/volume/local/local_unix.go
# passes o, type and device to mount(2)), so the mount rules read a Volume as a container that mounts it.
MOUNTING = (*CONTAINER_LIKE, VOLUME)
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_PROVIDER = "pulumi:providers:docker"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
COMMANDS = ("command:local:Command", "command:remote:Command")
# The seeds' internal ports plus Swarm's: reachable by cluster members only, never published to the world.
# The same set as components.config.INTERNAL_PORTS; the pack imports nothing of the program (a test
# keeps the two equal).
INTERNAL_PORTS = frozenset({2181, 2375, 2376, 2377, 4789, 5432, 7946})
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
# Docker's default capability set (moby oci/caps/defaults.go): re-adding one after a drop grants nothing new.
DEFAULT_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "NET_RAW",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
NAMESPACE_MODES = ("networkMode", "pidMode", "ipcMode", "usernsMode", "cgroupnsMode")
# securityOpts (key, value) pairs that switch a confinement off; Docker accepts `=` and the older `:`.
UNCONFINED = (
    ("seccomp", "unconfined"),
    ("apparmor", "unconfined"),
    ("systempaths", "unconfined"),
    ("label", "disable"),
)
# The SELinux process types container-selinux confines containers in; any other `label=type:` (spc_t,
# unconfined_t, a type someone wrote) is a policy the pack cannot judge, so only these pass.
CONFINED_SELINUX_TYPES = frozenset({"container_t", "container_init_t", "svirt_lxc_net_t"})
PLAINTEXT_DOCKER_API = re.compile(r"tcp://[^\s\"']+:2375\b")
# In a host command, after _daemon_text's decoding: any address on 2375 (dockerd reads `0.0.0.0:2375` and
# `:2375` as tcp://), any tcp:// listener (its port defaults to 2375 without TLS, so only a number tells),
# and the insecure-registry setting in either spelling (daemon.json's plural key, dockerd's singular flag).
PLAINTEXT_PORT = re.compile(r":0*2375(?!\d)")
TCP_LISTENER = re.compile(r"tcp://(\[[^\]]*\]|[^\s/:,;|&)\]]*)(?::(\w*))?")
INSECURE_REGISTRY = re.compile(r"insecure[\s_-]*registr")
# dockerd's -H/--host value and daemon.json's hosts list: a bare host:port is a tcp:// listener too.
HOST_FLAG = re.compile(r"(?:^|\s)(?:-h|--host)(?:\s*=\s*|\s+)(\S*:\d+)")
HOSTS_KEY = re.compile(r"hosts\s*:\s*\[([^\]]*)\]")
NOT_TCP = ("unix://", "fd://", "npipe://", "ssh://")
# --tlsverify (daemon.json "tlsverify": true, the client's DOCKER_TLS_VERIFY): a listener that requires
# client certificates; --tls alone encrypts but lets anyone in.
TLS_VERIFY = re.compile(r"tls[\s_-]*verify(?!\s*[:=]\s*(?:false|0)\b)")
# daemon.json's registry-mirrors list and dockerd's --registry-mirror flag, with what follows each.
REGISTRY_MIRRORS = re.compile(r"registry[\s_-]*mirrors?\s*[:=]?\s*(\[[^\]]*\]|\S+)")

LOG_SIZE = re.compile(r"([0-9.]+) ?(?:b|([kmgtp])(?:b|ib)?)?", re.IGNORECASE)
# (max-size bytes, max-file) a driver keeps when logOpts leave them out: json-file one file that grows without
# bound (moby daemon/logger/jsonfilelog/jsonfilelog.go), local five of 20 MB (daemon/logger/local/local.go).
# Another driver is held to an explicit max-size, as before.
LOG_DEFAULTS = {"json-file": (None, 1), "local": (20 * 10**6, 5)}
# What one container's logs may hold on the host: a host runs a dozen site containers and many workspaces, so a
# gigabyte each keeps logs a small share of its disk; the program's 10m x 3 is far under it.
MAX_LOG_BYTES = 10**9

# --- markers the program sets on purpose -----------------------------------------------------------
# The pack imports nothing of the program, so each fact below is a copy; tests/policies/test_copied_facts.py
# fails when one drifts from the program's.

# The label the program sets on the registry container (components/registry.py): the registry is what carries
# it, whatever its variables say; these are the variables that give it TLS.
REGISTRY_LABEL = ("codenvy.service", "registry")
REGISTRY_TLS_VARIABLES = ("REGISTRY_HTTP_TLS_CERTIFICATE", "REGISTRY_HTTP_TLS_KEY")
# The repositories of the registry's image (Docker Hub's registry, and distribution's own): a registry run
# from one is held to TLS with or without the label.
REGISTRY_REPOSITORIES = frozenset({"registry", "distribution"})
# The label the program sets on each host's engine relay (components/engine_relay.py): the one container that
# may hold the engine's socket, and only behind a socat TLS listener that requires a client certificate.
RELAY_LABEL = ("codenvy.service", "engine-relay")
RELAY_SOCKET = "/run/docker.sock"
# What the server container declares about its site (components/master_node.py server_labels, and the
# site label every site container carries): the stack policies find each site's server by its version.
SITE_LABEL = "codenvy.site"
VERSION_LABEL = "codenvy.version"
ROLE_LABEL = "codenvy.role"
ENVIRONMENT_LABEL = "codenvy.environment"
STANDBY_ROLE = "standby"
# The roles a site declares (config role); a server without one of them escapes the standby rule.
ROLES = ("primary", STANDBY_ROLE)
# The one environment the program lets run without scheduled backups (config: backup.schedule may be null).
UNSCHEDULED_ENVIRONMENT = "dev"
# The shipped stacks whose files say environment dev (Pulumi.dev.yaml, Pulumi.dr.yaml): the label alone is the
# program's word, so a server labelled dev goes without backups only in a stack the pack config lists.
DEV_STACKS = ("dev", "dr")
# The parameter a swarm-membership script (components/scripts/swarm_init.sh, swarm_join.sh) declares its role by.
SWARM_ROLE_PARAM = "SWARM_ROLE"
MANAGER_ROLE = "manager"
# The parameters of the master's placement-nodes command (components/scripts/placement_nodes.sh) that
# declare a site's workspace hosts with their capacity, and the site they belong to.
NODE_SET_PARAM = "NODE_SET"
SITE_PARAM = "SITE_NAME"
# The parameters of a schedule command (components/scripts/schedule.sh): the crontab line it keeps under a
# marker, none when the entry is empty. A site's backups keep theirs under the marker codenvy-backup-<site>.
MARKER_PARAM = "MARKER"
ENTRY_PARAM = "ENTRY"
BACKUP_MARKER_PREFIX = "codenvy-backup-"
# The outputs a primary exports that its standby's StackReference is compared by (components/deploy_gates.py).
PRIMARY_VERSION_OUTPUT = "version"
PRIMARY_NODES_OUTPUT = "nodes"
# The program's config keys the messages name as the fix.
BACKUP_SCHEDULE_KEY = "codenvy-infra:backup.schedule"
REGISTRY_TLS_KEY = "codenvy-infra:registry.tls"
PRIMARY_STACK_KEY = "codenvy-infra:dr.primaryStack"


def _resource_policy(
    name: str,
    description: str,
    resource_types: Iterable[str],
    check: Callable[[ResourceValidationArgs], str | None],
    enforcement_level: EnforcementLevel = EnforcementLevel.MANDATORY,
    config_schema: PolicyConfigSchema | None = None,
) -> ResourceValidationPolicy:
    """A policy guarded on the resource types it knows; `check` returns a violation message or None."""
    types = frozenset(resource_types)

    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if args.resource_type in types:
            message = check(args)
            if message:
                report(f"{args.name}: {message}", None)

    return ResourceValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=enforcement_level,
        config_schema=config_schema,
    )


# --- containers -------------------------------------------------------------------------------------


def _service_as_container(props: Mapping[str, Any]) -> dict[str, Any]:
    """A Swarm service's task spec in a container's terms, so each container rule reads both alike."""
    task = props.get("taskSpec") or {}
    spec = task.get("containerSpec") or {}
    restart = task.get("restartPolicy") or {}
    # Swarm's default condition `any` restarts until the service is removed: a container's unless-stopped.
    condition = restart.get("condition") or "any"
    selinux = (spec.get("privileges") or {}).get("seLinuxContext") or {}
    # The provider writes seLinuxContext into the task's Privileges.SELinuxContext: disable and type are the
    # container's label=disable and label=type:.
    selinux_opts = ["label=disable"] if selinux.get("disable") else []
    selinux_opts += [f"label=type:{selinux['type']}"] if str(selinux.get("type") or "").strip() else []
    return {
        "image": spec.get("image"),
        "memory": ((task.get("resources") or {}).get("limits") or {}).get("memoryBytes"),
        "restart": {"any": "unless-stopped", "none": "no"}.get(condition, condition),
        "maxRetryCount": restart.get("maxAttempts"),
        "capabilities": {"adds": spec.get("capAdds") or []},
        "networksAdvanced": task.get("networksAdvanceds") or [],
        "securityOpts": selinux_opts,
        "mounts": spec.get("mounts") or [],
        # Swarm publishes through its routing mesh on every interface of every node; there is no ip.
        "ports": [
            {"internal": port.get("targetPort"), "external": port.get("publishedPort")}
            for port in (props.get("endpointSpec") or {}).get("ports") or []
        ],
        "envs": [f"{key}={value}" for key, value in (spec.get("env") or {}).items()],
        "labels": [*(props.get("labels") or []), *(spec.get("labels") or [])],
        "healthcheck": spec.get("healthcheck"),
        "logDriver": (task.get("logDriver") or {}).get("name"),
        "logOpts": (task.get("logDriver") or {}).get("options"),
    }


def _container_props(args: ResourceValidationArgs) -> Mapping[str, Any]:
    return _service_as_container(args.props) if args.resource_type == SERVICE else args.props


def _unpinned(image: str | None) -> bool:
    """The program's pin rule (components/config/fields.py _pinned_image), without its reference grammar:
    Docker refuses a malformed reference before it runs anything. Stricter than the program: a tag with no
    digit (latest in any case, stable, mainline, alpine) names a channel that moves, not a version."""
    if not image or image.startswith("sha256:") or "@sha256:" in image:
        return False  # unknown until apply, an image ID, or a digest
    repository, _, tag = image.rpartition(":")
    return not repository or "/" in tag or not any(char.isdigit() for char in tag)


def _check_image_pinned(args: ResourceValidationArgs) -> str | None:
    image = args.props.get("name") if args.resource_type == REMOTE_IMAGE else _container_props(args).get("image")
    if _unpinned(image):
        return (
            f"image '{image}' is not pinned; name a version tag (not latest, stable or another channel without a "
            "version number) or a digest (@sha256:…)"
        )
    return None


def _check_memory_limit(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    if not props.get("memory"):
        return "no memory limit; set memory (MiB) so one service cannot starve the host"
    # Docker reads a memory-swap of -1 as unlimited swap on top of the memory limit.
    if (_port(props.get("memorySwap")) or 0) < 0:
        return "memorySwap -1 swaps without limit past the memory limit; set memorySwap to memory or drop it"
    return None


def _check_restart_policy(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    restart = props.get("restart") or "no"
    if restart == "unless-stopped":
        return None
    if restart == "on-failure" and (props.get("maxRetryCount") or 0) > 0:
        return None
    if restart == "on-failure":
        return "restart on-failure without a bound; set maxRetryCount (e.g. 5)"
    return f"restart policy '{restart}'; use on-failure with maxRetryCount, or unless-stopped"


def _check_not_privileged(args: ResourceValidationArgs) -> str | None:
    if args.props.get("privileged"):
        return "runs privileged; drop privileged and grant only the capabilities it needs"
    return None


def _check_no_added_capabilities(args: ResourceValidationArgs) -> str | None:
    adds = (_container_props(args).get("capabilities") or {}).get("adds") or []
    extra = sorted({str(cap).strip().upper().removeprefix("CAP_") for cap in adds} - DEFAULT_CAPABILITIES)
    if extra:
        return (
            f"adds capabilities {extra} beyond Docker's defaults (ALL and SYS_ADMIN are root on the host); "
            "drop them from capabilities.adds"
        )
    return None


def _check_no_host_namespaces(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    shared = [key for key in NAMESPACE_MODES if str(props.get(key) or "").strip().lower() == "host"]
    if any(str(net.get("name") or "").strip().lower() == "host" for net in props.get("networksAdvanced") or []):
        shared.append("networksAdvanced")
    if shared:
        return f"shares the host's namespaces ({', '.join(shared)}: host); drop them and use the site's networks"
    return None


def _unconfined(option: Any) -> bool:
    key, equals, value = re.sub(r"\s*([=:])\s*", r"\1", str(option).strip().lower()).partition("=")
    if not equals:
        key, _, value = key.partition(":")
    kind, _, selinux_type = value.partition(":")
    if key == "label" and kind == "type":
        return selinux_type not in CONFINED_SELINUX_TYPES
    return (key, value) in UNCONFINED


def _check_confinement(args: ResourceValidationArgs) -> str | None:
    unconfined = [str(opt) for opt in _container_props(args).get("securityOpts") or [] if _unconfined(opt)]
    if unconfined:
        return (
            f"switches confinement off ({', '.join(unconfined)}); drop these securityOpts and keep the defaults "
            f"(an SELinux type must be one of {sorted(CONFINED_SELINUX_TYPES)})"
        )
    return None


def _check_no_host_devices(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    devices = [str(device.get("hostPath")) for device in props.get("devices") or []]
    devices += [f"rule '{rule}'" for rule in props.get("deviceCgroupRules") or []]
    # gpus and deviceRequests hand devices over through the runtime's hooks (the NVIDIA one runs as root).
    devices += [f"gpus '{props['gpus']}'"] if str(props.get("gpus") or "").strip() else []
    devices += [f"deviceRequests {request}" for request in props.get("deviceRequests") or []]
    if devices:
        return f"reaches host devices ({', '.join(devices)}); drop devices, deviceCgroupRules, gpus and deviceRequests"
    return None


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
        return _container_props(args)
    options = {"driverName": args.props.get("driver"), "driverOptions": args.props.get("driverOpts")}
    return {"mounts": [{"type": "volume", "volumeOptions": options}]}


def _verified_relay(props: Mapping[str, Any]) -> bool:
    """A container labelled as an engine relay whose socat listens with TLS and verifies client certificates
    against a CA (OPENSSL-LISTEN with verify=1 and cafile=)."""
    if _labels(props).get(RELAY_LABEL[0]) != RELAY_LABEL[1]:
        return False
    listeners = [str(arg) for arg in props.get("command") or [] if str(arg).upper().startswith("OPENSSL-LISTEN:")]
    options = [set(listener.split(",")[1:]) for listener in listeners]
    return len(options) == 1 and "verify=1" in options[0] and any(o.startswith("cafile=") for o in options[0])


def _relay_socket(props: Mapping[str, Any], path: str) -> bool:
    """The engine's socket itself, bound into a verified relay: what placement needs, nothing around it."""
    return path == RELAY_SOCKET and _verified_relay(props)


def _check_no_docker_socket(args: ResourceValidationArgs) -> str | None:
    props = _mounting_props(args)
    if _labels(props).get(RELAY_LABEL[0]) == RELAY_LABEL[1] and not _verified_relay(props):
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


def _exposure(ip: Any) -> str | None:
    """Where a port published on `ip` can be reached from: None for a private or loopback address; all
    interfaces for no address, the unspecified address in any spelling, and what Docker cannot read as one."""
    text = str(ip or "").strip().strip("[]")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return "all interfaces"
    address = getattr(address, "ipv4_mapped", None) or address
    if address.is_unspecified:
        return "all interfaces"
    return None if address.is_private else f"public address {text}"


def _port(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _check_internal_ports(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    if props.get("publishAllPorts"):
        return "publishAllPorts publishes every exposed port on all interfaces; drop it and list the ports it needs"
    exposed = {
        (port, where)
        for entry in props.get("ports") or []
        if (where := _exposure(entry.get("ip")))
        for port in (_port(entry.get("internal")), _port(entry.get("external")))
        if port in INTERNAL_PORTS
    }
    if exposed:
        return (
            f"publishes internal port(s) {sorted({port for port, _ in exposed})} on "
            f"{', '.join(sorted({where for _, where in exposed}))} (on any host port); drop them or bind to a "
            "private address (ip)"
        )
    return None


def _envs(props: Mapping[str, Any]) -> dict[str, str]:
    return dict(str(entry).split("=", 1) for entry in props.get("envs") or [] if "=" in str(entry))


def _labels(props: Mapping[str, Any]) -> dict[str, str]:
    return {str(item.get("label")): str(item.get("value")) for item in props.get("labels") or []}


def _repository(image: Any) -> str:
    """The last path component of an image reference, without tag or digest, in lower case."""
    name = str(image or "").partition("@")[0].rsplit("/", 1)[-1]
    return name.partition(":")[0].strip().lower()


def _is_registry(props: Mapping[str, Any]) -> bool:
    """Labelled as the registry (in any case), or run from a registry image."""
    label, value = REGISTRY_LABEL
    labels = {key.strip().lower(): text.strip().lower() for key, text in _labels(props).items()}
    return labels.get(label) == value or _repository(props.get("image")) in REGISTRY_REPOSITORIES


def _plain_registry(props: Mapping[str, Any]) -> str | None:
    env = _envs(props)
    if not all(env.get(variable) for variable in REGISTRY_TLS_VARIABLES):
        return f"registry serves plain HTTP; set {' and '.join(REGISTRY_TLS_VARIABLES)} ({REGISTRY_TLS_KEY})"
    return None


def _check_registry_tls(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    if not _is_registry(props) or args.get_config().get("allowPlaintext"):
        return None
    return _plain_registry(props)


def _check_healthcheck(args: ResourceValidationArgs) -> str | None:
    tests = (_container_props(args).get("healthcheck") or {}).get("tests") or []
    if not tests:
        return "no healthcheck; add one so restarts and dashboards know when the service is unwell"
    if str(tests[0]).strip().upper() == "NONE":
        return "healthcheck NONE switches the image's check off; add a CMD or CMD-SHELL test instead"
    return None


def _size(text: Any) -> int | None:
    """A log size as go-units FromHumanSize reads it (moby vendor/github.com/docker/go-units/size.go): decimal
    units, any case, an optional b or ib; None for what it refuses."""
    match = LOG_SIZE.fullmatch(str(text).strip())
    if not match:
        return None
    number, unit = match.groups()
    try:
        return int(float(number) * 1000 ** ("kmgtp".index(unit.lower()) + 1 if unit else 0))
    except ValueError:
        return None


def _log_bound(driver: Any, options: Mapping[str, Any]) -> int | None:
    """The most bytes a container's log files hold, None when unbounded or unreadable."""
    defaults = LOG_DEFAULTS.get(str(driver or "json-file").strip().lower(), (None, 1))
    size = _size(options["max-size"]) if "max-size" in options else defaults[0]
    try:
        files = int(options["max-file"]) if "max-file" in options else defaults[1]
    except (TypeError, ValueError):
        return None
    return size * max(files, 1) if size is not None and size >= 0 else None


def _check_log_limits(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    bound = _log_bound(props.get("logDriver"), props.get("logOpts") or {})
    if bound is None or bound > MAX_LOG_BYTES:
        return (
            f"logs not bounded to {MAX_LOG_BYTES // 10**6} MB; set logOpts max-size and max-file so their product "
            "stays under it and logs cannot fill the disk"
        )
    return None


# --- Docker API and daemons ---------------------------------------------------------------------------


def _check_provider_host(args: ResourceValidationArgs) -> str | None:
    # terraform-provider-docker internal/provider/provider.go: a context (or DOCKER_CONTEXT) overrides host,
    # and an absent host is DOCKER_HOST; both are read from whoever runs pulumi, out of the pack's sight.
    context = args.props.get("context") or os.environ.get("DOCKER_CONTEXT")
    if context:
        source = "" if args.props.get("context") else " (from DOCKER_CONTEXT)"
        return f"Docker context '{context}'{source} overrides host; drop it and name the host (ssh:// or TLS)"
    if not args.props.get("host") and os.environ.get("DOCKER_HOST"):
        return "no host, so the provider takes DOCKER_HOST from whoever runs pulumi; name the host (ssh:// or TLS)"
    host = args.props.get("host") or "unix:///var/run/docker.sock"
    if host.startswith(("unix://", "ssh://")):
        return None
    has_tls = args.props.get("certPath") or all(
        args.props.get(key) for key in ("caMaterial", "certMaterial", "keyMaterial")
    )
    if host.startswith("tcp://") and has_tls and not PLAINTEXT_DOCKER_API.search(host):
        return None
    return f"Docker API at '{host}' without TLS; use unix://, ssh://user@host, or tcp://host:2376 with certificates"


def _check_no_plugin(args: ResourceValidationArgs) -> str | None:
    return (
        f"installs the Docker plugin '{args.props.get('name')}', which runs as root with the privileges it asks "
        "for; drop it and run the function as a site container under this pack's rules"
    )


def _daemon_text(props: Mapping[str, Any]) -> str:
    """Everything a Command runs or feeds its script, with the spellings that hide a setting folded: JSON's
    \\uXXXX and \\/ escapes, shell quotes and backslashes, and case (dockerd reads daemon.json keys in any case)."""
    environment = props.get("environment") or {}
    parts = [props.get(key) for key in ("create", "update", "delete", "stdin")]
    parts += list(environment.values()) if isinstance(environment, Mapping) else []
    text = "\n".join(str(part) for part in parts if part)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), text)
    return re.sub(r"[\\\"']", "", text).lower()


def _tcp_listeners(text: str) -> list[str]:
    """The TCP endpoints a command names: tcp:// URLs, and bare host:port values of -H/--host and hosts."""
    listeners = [match.group(0) for match in TCP_LISTENER.finditer(text)]
    listeners += HOST_FLAG.findall(text)
    for hosts in HOSTS_KEY.findall(text):
        listeners += [
            host.strip() for host in hosts.split(",") if host.strip() and not host.strip().startswith(NOT_TCP)
        ]
    return listeners


def _plaintext_listener(text: str) -> bool:
    if PLAINTEXT_PORT.search(text):
        return True
    if any(not (port or "").isdigit() for _, port in TCP_LISTENER.findall(text)):
        return True
    # On any port, a listener without client verification hands the engine to whoever connects.
    return bool(_tcp_listeners(text)) and not TLS_VERIFY.search(text)


def _plain_http_mirror(text: str) -> bool:
    return any("http://" in mirrors for mirrors in REGISTRY_MIRRORS.findall(text))


def _check_daemon_config(args: ResourceValidationArgs) -> str | None:
    text = _daemon_text(args.props)
    if INSECURE_REGISTRY.search(text):
        return (
            "configures an insecure registry (insecure-registries, --insecure-registry); drop it and trust the "
            "registry's CA in /etc/docker/certs.d"
        )
    if _plain_http_mirror(text):
        return "pulls through a registry mirror over http:// (registry-mirrors); use an https:// mirror"
    if _plaintext_listener(text):
        return (
            "opens the plaintext Docker API (tcp://…:2375, a tcp:// without a port, or a TCP listener without "
            "--tlsverify); use ssh:// or TLS on 2376 with --tlsverify"
        )
    return None


# --- stack policies --------------------------------------------------------------------------------


def _servers(args: StackValidationArgs) -> list[tuple[str, dict[str, str], str]]:
    """(URN, labels, container name) of each site's server: the container that declares a version."""
    servers = []
    for resource in args.resources:
        if resource.resource_type == CONTAINER:
            labels = {item["label"]: item["value"] for item in resource.props.get("labels") or []}
            if VERSION_LABEL in labels:
                servers.append((resource.urn, labels, str(resource.props.get("name") or "")))
    return servers


def _script_params(props: Mapping[str, Any]) -> dict[str, str]:
    """The one-line parameters a rendered script assigns (`KEY='value'`) in a Command's `bash -c` create: what
    components/script_templates.py render_script and as_command write."""
    try:
        argv = shlex.split(str(props.get("create") or ""))
    except ValueError:
        return {}
    if len(argv) < 3 or argv[:2] != ["bash", "-c"]:
        return {}
    params = {}
    for line in argv[2].splitlines():
        key, assigns, value = line.partition("=")
        if not (assigns and key.isupper() and key.replace("_", "").isalnum()):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue  # a value spanning lines; not one of the parameters read here
        if len(words) <= 1:
            params[key] = words[0] if words else ""
    return params


def _declared_node_sets(args: StackValidationArgs) -> dict[str, list[Mapping[str, Any]]]:
    """Site name -> the workspace hosts it declares."""
    declared = {}
    for resource in args.resources:
        if resource.resource_type in COMMANDS:
            params = _script_params(resource.props)
            if NODE_SET_PARAM in params and SITE_PARAM in params:
                try:
                    declared[params[SITE_PARAM]] = json.loads(params[NODE_SET_PARAM])
                except ValueError:
                    declared[params[SITE_PARAM]] = []  # unreadable: reported as declaring no nodes
    return declared


def _validate_odd_managers(args: StackValidationArgs, report: ReportViolation) -> None:
    managers = sum(
        1
        for r in args.resources
        if r.resource_type in COMMANDS and _script_params(r.props).get(SWARM_ROLE_PARAM) == MANAGER_ROLE
    )
    if managers and managers % 2 == 0:
        report(f"{managers} swarm managers: Raft needs an odd number (1, 3, 5) to keep a majority", None)


def _capacities(nodes: Iterable[Mapping[str, Any]]) -> list[tuple[float, int]]:
    """(RAM GiB, CPUs) of each node, sorted: what components/deploy_gates.py capacities compares a standby by."""
    return sorted((float(node["ramGb"]), int(node["cpus"])) for node in nodes)


def _undeclared_role(labels: Mapping[str, str], references: list[Any]) -> str | None:
    """Why a server's role label cannot be trusted: absent, not a role, or primary beside a StackReference
    (the program references a primary only from a standby)."""
    role = labels.get(ROLE_LABEL)
    if role not in ROLES:
        return f"the server's {ROLE_LABEL} is {role!r}; label it {' or '.join(ROLES)}"
    if references and role != STANDBY_ROLE:
        return f"a StackReference to a primary, but the server's {ROLE_LABEL} is {role}; label it {STANDBY_ROLE}"
    return None


def _validate_standby_matches_primary(args: StackValidationArgs, report: ReportViolation) -> None:
    references = [r for r in args.resources if r.resource_type == STACK_REFERENCE]
    node_sets = _declared_node_sets(args)
    for urn, labels, _ in _servers(args):
        problem = _undeclared_role(labels, references)
        if problem:
            report(problem, urn)
            continue
        if labels[ROLE_LABEL] != STANDBY_ROLE:
            continue
        if not references:
            report(f"a standby without a StackReference to its primary; set {PRIMARY_STACK_KEY}", urn)
            continue
        if len(references) > 1:
            # Which one is the primary is the program's word; a second could be a decoy that matches.
            report(f"{len(references)} StackReferences; a standby references exactly one primary", urn)
            continue
        primary = references[0].props.get("outputs") or {}
        if labels[VERSION_LABEL] != primary.get(PRIMARY_VERSION_OUTPUT):
            report(
                f"standby runs {labels[VERSION_LABEL]}, its primary {primary.get(PRIMARY_VERSION_OUTPUT)}; "
                "upgrade both to the same version",
                urn,
            )
        standby_nodes = _capacities(node_sets.get(labels.get(SITE_LABEL, ""), []))
        primary_nodes = _capacities(primary.get(PRIMARY_NODES_OUTPUT) or [])
        if standby_nodes != primary_nodes:
            report(
                f"standby nodes {standby_nodes} differ from the primary's {primary_nodes} (RAM GiB, CPUs); "
                "make the same change on both",
                urn,
            )


def _backup_marker(site_name: str) -> str:
    """The crontab marker a site's backup schedule keeps its line under."""
    return f"{BACKUP_MARKER_PREFIX}{site_name}"


def _scheduled_markers(args: StackValidationArgs) -> set[str]:
    """The markers that schedule commands keep a crontab line under (a command with an empty entry removes it)."""
    markers = set()
    for resource in args.resources:
        if resource.resource_type in COMMANDS:
            params = _script_params(resource.props)
            if params.get(ENTRY_PARAM) and MARKER_PARAM in params:
                markers.add(params[MARKER_PARAM])
    return markers


def _validate_registry_images_serve_tls(args: StackValidationArgs, report: ReportViolation) -> None:
    """A container names a pulled image by its ID, so only the stack shows which RemoteImage it runs."""
    if args.get_config().get("allowPlaintext"):
        return
    registry_ids = {
        r.props.get("imageId")
        for r in args.resources
        if r.resource_type == REMOTE_IMAGE and _repository(r.props.get("name")) in REGISTRY_REPOSITORIES
    }
    for resource in args.resources:
        props = resource.props
        if resource.resource_type == CONTAINER and props.get("image") in registry_ids - {None}:
            message = None if _is_registry(props) else _plain_registry(props)  # labelled: the resource rule
            if message:
                report(f"{props.get('name')}: runs a registry image; {message}", resource.urn)


def _stack_of(urn: str) -> str:
    """The stack a URN (urn:pulumi:<stack>::<project>::…) was registered in."""
    return urn.split("::", 1)[0].removeprefix("urn:pulumi:")


def _validate_backups_scheduled(args: StackValidationArgs, report: ReportViolation) -> None:
    scheduled = _scheduled_markers(args)
    dev_stacks = args.get_config().get("devStacks", DEV_STACKS)
    for urn, labels, _ in _servers(args):
        site = labels.get(SITE_LABEL, "")
        if _backup_marker(site) in scheduled:
            continue
        if labels.get(ENVIRONMENT_LABEL) != UNSCHEDULED_ENVIRONMENT:
            report(f"site {site} has no scheduled backup; set {BACKUP_SCHEDULE_KEY}", urn)
        elif _stack_of(urn) not in dev_stacks:
            report(
                f"site {site} is labelled {UNSCHEDULED_ENVIRONMENT} in stack '{_stack_of(urn)}', which the pack "
                f"does not know as a dev stack, and has no scheduled backup; set {BACKUP_SCHEDULE_KEY}, or list "
                "the stack in the backups-scheduled pack config devStacks",
                urn,
            )


ALLOW_PLAINTEXT = PolicyConfigSchema(
    properties={"allowPlaintext": {"type": "boolean", "default": False}},
)
DEV_STACKS_SCHEMA = PolicyConfigSchema(
    properties={"devStacks": {"type": "array", "items": {"type": "string"}, "default": list(DEV_STACKS)}},
)

POLICIES: list[Policy] = [
    _resource_policy(
        "container-image-pinned",
        "Images are pinned to a version tag other than latest, or to a digest.",
        (*CONTAINER_LIKE, REMOTE_IMAGE),
        _check_image_pinned,
    ),
    _resource_policy("container-memory-limit", "Containers have a memory limit.", CONTAINER_LIKE, _check_memory_limit),
    _resource_policy(
        "container-restart-bounded",
        "Containers restart on-failure with a retry bound, or unless-stopped; never 'no'.",
        CONTAINER_LIKE,
        _check_restart_policy,
    ),
    _resource_policy(
        "container-not-privileged", "Containers do not run privileged.", CONTAINER_LIKE, _check_not_privileged
    ),
    _resource_policy(
        "container-no-added-capabilities",
        "Containers add no capability beyond Docker's default set.",
        CONTAINER_LIKE,
        _check_no_added_capabilities,
    ),
    _resource_policy(
        "container-no-host-namespaces",
        "Containers share none of the host's namespaces (network, PID, IPC, user, cgroup).",
        CONTAINER_LIKE,
        _check_no_host_namespaces,
    ),
    _resource_policy(
        "container-confined",
        "Containers keep seccomp, AppArmor, SELinux and masked system paths.",
        CONTAINER_LIKE,
        _check_confinement,
    ),
    _resource_policy(
        "container-no-host-devices",
        "Containers reach no host device.",
        CONTAINER_LIKE,
        _check_no_host_devices,
    ),
    _resource_policy(
        "no-docker-socket-mount",
        "No container mounts a container runtime socket (Docker, containerd) or a directory holding one, but an "
        "engine relay the Docker socket itself, behind TLS that verifies client certificates.",
        MOUNTING,
        _check_no_docker_socket,
    ),
    _resource_policy(
        "no-host-system-mount",
        "No container or volume binds /, a host system directory (/etc, /run, /proc, ...), its parents or "
        "children, or a path through '..'.",
        MOUNTING,
        _check_no_system_mount,
    ),
    _resource_policy(
        "container-no-volumes-from",
        "Containers do not take another container's volumes (volumes.fromContainer).",
        (CONTAINER,),
        _check_no_volumes_from,
    ),
    _resource_policy(
        "no-internal-port-published",
        "Internal ports (Docker API, Swarm, ZooKeeper, PostgreSQL, overlay) are published only on private "
        "addresses, from either side of the mapping.",
        CONTAINER_LIKE,
        _check_internal_ports,
    ),
    _resource_policy(
        "docker-api-over-tls-or-ssh",
        "Docker providers reach the API over unix://, ssh://, or tcp:// with TLS material; never plaintext.",
        (DOCKER_PROVIDER,),
        _check_provider_host,
    ),
    _resource_policy(
        "registry-serves-tls",
        "The registry serves TLS. Pack config allowPlaintext (default false) relaxes this for a throwaway dev stack.",
        CONTAINER_LIKE,
        _check_registry_tls,
        config_schema=ALLOW_PLAINTEXT,
    ),
    _resource_policy(
        "no-docker-plugin",
        "No Docker plugin is installed: plugins run as root with whatever privileges they request.",
        (PLUGIN,),
        _check_no_plugin,
    ),
    _resource_policy(
        "daemon-config-secure",
        "No host command renders insecure-registries or an http:// registry mirror, or opens the Docker API on "
        "TCP without TLS client verification.",
        COMMANDS,
        _check_daemon_config,
    ),
    _resource_policy(
        "container-healthcheck",
        "Containers have a healthcheck (advisory).",
        CONTAINER_LIKE,
        _check_healthcheck,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    _resource_policy(
        "container-log-limits",
        "Container logs are size-limited (advisory).",
        CONTAINER_LIKE,
        _check_log_limits,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    StackValidationPolicy(
        name="registry-image-serves-tls",
        description="A container run from a pulled registry image serves TLS, labelled or not. Pack config "
        "allowPlaintext (default false) relaxes this for a throwaway dev stack.",
        validate=_validate_registry_images_serve_tls,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=ALLOW_PLAINTEXT,
    ),
    StackValidationPolicy(
        name="swarm-managers-odd",
        description="A swarm has an odd number of managers.",
        validate=_validate_odd_managers,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="standby-matches-primary",
        description="The server declares its role; a standby references one primary and declares its version and "
        "node set.",
        validate=_validate_standby_matches_primary,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="backups-scheduled",
        description="Every site schedules backups, but one labelled dev in a stack the pack config lists as dev.",
        validate=_validate_backups_scheduled,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=DEV_STACKS_SCHEMA,
    ),
]
