"""The codenvy-infra policies, one validator per rule; importable with only pulumi-policy installed.

Resource policies read the inputs the engine sees (camelCase); stack policies read the resources' state.
"""

from __future__ import annotations

import ipaddress
import json
import posixpath
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

CONTAINER = "docker:index/container:Container"
SERVICE = "docker:index/service:Service"
PLUGIN = "docker:index/plugin:Plugin"
# A Swarm service runs containers too: every container rule reads its task spec (see _container_props).
CONTAINER_LIKE = (CONTAINER, SERVICE)
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
    ("label", "type:spc_t"),
)
PLAINTEXT_DOCKER_API = re.compile(r"tcp://[^\s\"']+:2375\b")
# In a host command, after _daemon_text's decoding: any address on 2375 (dockerd reads `0.0.0.0:2375` and
# `:2375` as tcp://), any tcp:// listener (its port defaults to 2375 without TLS, so only a number tells),
# and the insecure-registry setting in either spelling (daemon.json's plural key, dockerd's singular flag).
PLAINTEXT_PORT = re.compile(r":0*2375(?!\d)")
TCP_LISTENER = re.compile(r"tcp://(\[[^\]]*\]|[^\s/:,;|&)\]]*)(?::(\w*))?")
INSECURE_REGISTRY = re.compile(r"insecure[\s_-]*registr")

# --- markers the program sets on purpose -----------------------------------------------------------
# The pack imports nothing of the program, so each fact below is a copy; tests/policies/test_copied_facts.py
# fails when one drifts from the program's.

# The label the program sets on the registry container (components/registry.py): the registry is what carries
# it, whatever its variables say; these are the variables that give it TLS.
REGISTRY_LABEL = ("codenvy.service", "registry")
REGISTRY_TLS_VARIABLES = ("REGISTRY_HTTP_TLS_CERTIFICATE", "REGISTRY_HTTP_TLS_KEY")
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
# The one environment the program lets run without scheduled backups (config: backup.schedule may be null).
UNSCHEDULED_ENVIRONMENT = "dev"
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
    # Swarm's default condition `any` restarts until the service is removed: a container's always.
    condition = restart.get("condition") or "any"
    selinux = (spec.get("privileges") or {}).get("seLinuxContext") or {}
    return {
        "image": spec.get("image"),
        "memory": ((task.get("resources") or {}).get("limits") or {}).get("memoryBytes"),
        "restart": {"any": "always", "none": "no"}.get(condition, condition),
        "maxRetryCount": restart.get("maxAttempts"),
        "capabilities": {"adds": spec.get("capAdds") or []},
        "networksAdvanced": task.get("networksAdvanceds") or [],
        "securityOpts": ["label=disable"] if selinux.get("disable") else [],
        "mounts": spec.get("mounts") or [],
        # Swarm publishes through its routing mesh on every interface of every node; there is no ip.
        "ports": [
            {"internal": port.get("targetPort"), "external": port.get("publishedPort")}
            for port in (props.get("endpointSpec") or {}).get("ports") or []
        ],
        "envs": [f"{key}={value}" for key, value in (spec.get("env") or {}).items()],
        "labels": [*(props.get("labels") or []), *(spec.get("labels") or [])],
        "healthcheck": spec.get("healthcheck"),
        "logOpts": (task.get("logDriver") or {}).get("options"),
    }


def _container_props(args: ResourceValidationArgs) -> Mapping[str, Any]:
    return _service_as_container(args.props) if args.resource_type == SERVICE else args.props


def _unpinned(image: str | None) -> bool:
    """The program's pin rule (components/config.py _pinned_image), without its reference grammar: Docker
    refuses a malformed reference before it runs anything."""
    if not image or image.startswith("sha256:") or "@sha256:" in image:
        return False  # unknown until apply, an image ID, or a digest
    repository, _, tag = image.rpartition(":")
    return not repository or "/" in tag or tag == "latest"


def _check_image_pinned(args: ResourceValidationArgs) -> str | None:
    image = args.props.get("name") if args.resource_type == REMOTE_IMAGE else _container_props(args).get("image")
    if _unpinned(image):
        return f"image '{image}' is not pinned; name a version tag (not latest) or a digest (@sha256:…)"
    return None


def _check_memory_limit(args: ResourceValidationArgs) -> str | None:
    if not _container_props(args).get("memory"):
        return "no memory limit; set memory (MiB) so one service cannot starve the host"
    return None


def _check_restart_policy(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    restart = props.get("restart") or "no"
    if restart in ("always", "unless-stopped"):
        return None
    if restart == "on-failure" and (props.get("maxRetryCount") or 0) > 0:
        return None
    if restart == "on-failure":
        return "restart on-failure without a bound; set maxRetryCount (e.g. 5)"
    return f"restart policy '{restart}'; use always, unless-stopped, or on-failure with maxRetryCount"


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
    return (key, value) in UNCONFINED


def _check_confinement(args: ResourceValidationArgs) -> str | None:
    unconfined = [str(opt) for opt in _container_props(args).get("securityOpts") or [] if _unconfined(opt)]
    if unconfined:
        return f"switches confinement off ({', '.join(unconfined)}); drop these securityOpts and keep the defaults"
    return None


def _check_no_host_devices(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    devices = [str(device.get("hostPath")) for device in props.get("devices") or []]
    devices += [f"rule '{rule}'" for rule in props.get("deviceCgroupRules") or []]
    if devices:
        return f"reaches host devices ({', '.join(devices)}); drop devices and deviceCgroupRules"
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


def _host_paths(props: Mapping[str, Any]) -> list[str]:
    """Every host path a container binds: volumes' hostPath, a volumeName that is a path (Docker binds it),
    and mounts' source."""
    raw = [volume.get(key) for volume in props.get("volumes") or [] for key in ("hostPath", "volumeName")]
    raw += [mount.get("source") for mount in props.get("mounts") or []]
    return [path for path in map(_host_path, raw) if path]


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
    props = _container_props(args)
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
    props = _container_props(args)
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


def _on_all_interfaces(ip: Any) -> bool:
    """True for no address, the unspecified address in any spelling, and what Docker cannot read as one."""
    text = str(ip or "").strip().strip("[]")
    if not text:
        return True
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return True
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_unspecified or bool(mapped and mapped.is_unspecified)


def _port(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _check_internal_ports(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    if props.get("publishAllPorts"):
        return "publishAllPorts publishes every exposed port on all interfaces; drop it and list the ports it needs"
    exposed = sorted(
        {
            port
            for entry in props.get("ports") or []
            if _on_all_interfaces(entry.get("ip"))
            for port in (_port(entry.get("internal")), _port(entry.get("external")))
            if port in INTERNAL_PORTS
        }
    )
    if exposed:
        return (
            f"publishes internal port(s) {exposed} on all interfaces (on any host port); drop them or bind to a "
            "private address (ip)"
        )
    return None


def _envs(props: Mapping[str, Any]) -> dict[str, str]:
    return dict(str(entry).split("=", 1) for entry in props.get("envs") or [] if "=" in str(entry))


def _labels(props: Mapping[str, Any]) -> dict[str, str]:
    return {str(item.get("label")): str(item.get("value")) for item in props.get("labels") or []}


def _check_registry_tls(args: ResourceValidationArgs) -> str | None:
    props = _container_props(args)
    label, value = REGISTRY_LABEL
    if _labels(props).get(label) != value or args.get_config().get("allowPlaintext"):
        return None
    env = _envs(props)
    if not all(env.get(variable) for variable in REGISTRY_TLS_VARIABLES):
        return f"registry serves plain HTTP; set {' and '.join(REGISTRY_TLS_VARIABLES)} ({REGISTRY_TLS_KEY})"
    return None


def _check_healthcheck(args: ResourceValidationArgs) -> str | None:
    if not (_container_props(args).get("healthcheck") or {}).get("tests"):
        return "no healthcheck; add one so restarts and dashboards know when the service is unwell"
    return None


def _check_log_limits(args: ResourceValidationArgs) -> str | None:
    if "max-size" not in (_container_props(args).get("logOpts") or {}):
        return "no log size limit; set logOpts max-size and max-file so logs cannot fill the disk"
    return None


# --- Docker API and daemons ---------------------------------------------------------------------------


def _check_provider_host(args: ResourceValidationArgs) -> str | None:
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


def _plaintext_listener(text: str) -> bool:
    if PLAINTEXT_PORT.search(text):
        return True
    return any(not (port or "").isdigit() for _, port in TCP_LISTENER.findall(text))


def _check_daemon_config(args: ResourceValidationArgs) -> str | None:
    text = _daemon_text(args.props)
    if INSECURE_REGISTRY.search(text):
        return (
            "configures an insecure registry (insecure-registries, --insecure-registry); drop it and trust the "
            "registry's CA in /etc/docker/certs.d"
        )
    if _plaintext_listener(text):
        return "opens the plaintext Docker API (tcp://…:2375 or a tcp:// without a port); use ssh:// or TLS on 2376"
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


def _validate_standby_matches_primary(args: StackValidationArgs, report: ReportViolation) -> None:
    references = [r for r in args.resources if r.resource_type == STACK_REFERENCE]
    node_sets = _declared_node_sets(args)
    for urn, labels, _ in _servers(args):
        if labels.get(ROLE_LABEL) != STANDBY_ROLE:
            continue
        if not references:
            report(f"a standby without a StackReference to its primary; set {PRIMARY_STACK_KEY}", urn)
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


def _validate_backups_scheduled(args: StackValidationArgs, report: ReportViolation) -> None:
    scheduled = _scheduled_markers(args)
    for urn, labels, _ in _servers(args):
        if labels.get(ENVIRONMENT_LABEL) == UNSCHEDULED_ENVIRONMENT:
            continue
        site = labels.get(SITE_LABEL, "")
        if _backup_marker(site) not in scheduled:
            report(f"site {site} has no scheduled backup; set {BACKUP_SCHEDULE_KEY}", urn)


ALLOW_PLAINTEXT = PolicyConfigSchema(
    properties={"allowPlaintext": {"type": "boolean", "default": False}},
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _resource_policy(
        "container-image-pinned",
        "Images are pinned to a version tag other than latest, or to a digest.",
        (*CONTAINER_LIKE, REMOTE_IMAGE),
        _check_image_pinned,
    ),
    _resource_policy("container-memory-limit", "Containers have a memory limit.", CONTAINER_LIKE, _check_memory_limit),
    _resource_policy(
        "container-restart-bounded",
        "Containers restart always, unless-stopped, or on-failure with a retry bound; never 'no'.",
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
        CONTAINER_LIKE,
        _check_no_docker_socket,
    ),
    _resource_policy(
        "no-host-system-mount",
        "No container bind-mounts /, or a host system directory (/etc, /run, /proc, ...), its parents or children.",
        CONTAINER_LIKE,
        _check_no_system_mount,
    ),
    _resource_policy(
        "no-internal-port-published",
        "Internal ports (Docker API, Swarm, ZooKeeper, PostgreSQL, overlay) are not published on all interfaces, "
        "from either side of the mapping.",
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
        "No host command renders insecure-registries or opens the plaintext Docker API.",
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
        name="swarm-managers-odd",
        description="A swarm has an odd number of managers.",
        validate=_validate_odd_managers,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="standby-matches-primary",
        description="A standby declares the same version and node set as its primary.",
        validate=_validate_standby_matches_primary,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
    StackValidationPolicy(
        name="backups-scheduled",
        description="Every site outside dev schedules backups.",
        validate=_validate_backups_scheduled,
        enforcement_level=EnforcementLevel.MANDATORY,
    ),
]
