"""The codenvy-infra policies, one validator per rule; importable with only pulumi-policy installed.

Resource policies read the inputs the engine sees (camelCase); stack policies read the resources' state.
"""

from __future__ import annotations

import json
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
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_PROVIDER = "pulumi:providers:docker"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
COMMANDS = ("command:local:Command", "command:remote:Command")
# The seeds' internal ports plus Swarm's: reachable by cluster members only, never published to the world.
# The same set as components.config.INTERNAL_PORTS; the pack imports nothing of the program (a test
# keeps the two equal).
INTERNAL_PORTS = frozenset({2181, 2375, 2376, 2377, 4789, 5432, 7946})
ALL_INTERFACES = (None, "", "0.0.0.0", "::")  # noqa: S104 - the values this rule looks for
DOCKER_SOCKETS = ("/var/run/docker.sock", "/run/docker.sock")
PLAINTEXT_DOCKER_API = re.compile(r"tcp://[^\s\"']+:2375\b")
MANAGER_MARKER = "# swarm role: manager"
# The parameters of the master's workspace-nodes command (components/scripts/workspace_nodes.sh) that
# declare a site's workspace nodes and the server container they belong to (a test keeps them equal).
NODE_SET_PARAM = "NODE_SET"
CONTAINER_PARAM = "CONTAINER"


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


def _unpinned(image: str | None) -> bool:
    if not image or image.startswith("sha256:") or "@sha256:" in image:
        return False  # unknown until apply, an image ID, or a digest
    repository, _, tag = image.rpartition(":")
    return not repository or "/" in tag or tag == "latest"


def _check_image_pinned(args: ResourceValidationArgs) -> str | None:
    image = args.props.get("image") if args.resource_type == CONTAINER else args.props.get("name")
    if _unpinned(image):
        return f"image '{image}' is not pinned; name a version tag (not latest) or a digest (@sha256:…)"
    return None


def _check_memory_limit(args: ResourceValidationArgs) -> str | None:
    if not args.props.get("memory"):
        return "no memory limit; set memory (MiB) so one service cannot starve the host"
    return None


def _check_restart_policy(args: ResourceValidationArgs) -> str | None:
    restart = args.props.get("restart") or "no"
    if restart == "unless-stopped":
        return None
    if restart == "on-failure" and (args.props.get("maxRetryCount") or 0) > 0:
        return None
    if restart == "on-failure":
        return "restart on-failure without a bound; set maxRetryCount (e.g. 5)"
    return f"restart policy '{restart}'; use on-failure with maxRetryCount, or unless-stopped"


def _check_not_privileged(args: ResourceValidationArgs) -> str | None:
    if args.props.get("privileged"):
        return "runs privileged; drop privileged and grant only the capabilities it needs"
    return None


def _mounted_paths(props: Mapping[str, Any]) -> list[str]:
    paths = [volume.get("hostPath") for volume in props.get("volumes") or []]
    paths += [mount.get("source") for mount in props.get("mounts") or []]
    return [path for path in paths if path]


def _check_no_docker_socket(args: ResourceValidationArgs) -> str | None:
    if any(path in DOCKER_SOCKETS for path in _mounted_paths(args.props)):
        return "mounts the Docker socket, which is root on the host; talk to the API over ssh:// or TLS instead"
    return None


def _check_internal_ports(args: ResourceValidationArgs) -> str | None:
    exposed = sorted(
        int(port["external"])
        for port in args.props.get("ports") or []
        if port.get("external") and int(port["external"]) in INTERNAL_PORTS and port.get("ip") in ALL_INTERFACES
    )
    if exposed:
        return f"publishes internal port(s) {exposed} on all interfaces; drop them or bind to a private address (ip)"
    return None


def _envs(props: Mapping[str, Any]) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in props.get("envs") or [] if "=" in entry)


def _check_registry_tls(args: ResourceValidationArgs) -> str | None:
    env = _envs(args.props)
    is_registry = any(key.startswith("REGISTRY_") for key in env)
    if not is_registry or args.get_config().get("allowPlaintext"):
        return None
    if not env.get("REGISTRY_HTTP_TLS_CERTIFICATE") or not env.get("REGISTRY_HTTP_TLS_KEY"):
        return "registry serves plain HTTP; set REGISTRY_HTTP_TLS_CERTIFICATE and _KEY (codenvy-infra:registry.tls)"
    return None


def _check_healthcheck(args: ResourceValidationArgs) -> str | None:
    if not (args.props.get("healthcheck") or {}).get("tests"):
        return "no healthcheck; add one so restarts and dashboards know when the service is unwell"
    return None


def _check_log_limits(args: ResourceValidationArgs) -> str | None:
    if "max-size" not in (args.props.get("logOpts") or {}):
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


def _command_text(props: Mapping[str, Any]) -> str:
    return "\n".join(str(props.get(key) or "") for key in ("create", "update"))


def _check_daemon_config(args: ResourceValidationArgs) -> str | None:
    text = _command_text(args.props)
    if "insecure-registries" in text:
        return "renders a daemon.json with insecure-registries; trust the registry's CA in /etc/docker/certs.d"
    if PLAINTEXT_DOCKER_API.search(text):
        return "opens the plaintext Docker API (tcp://…:2375); use ssh:// or TLS on 2376"
    return None


# --- stack policies --------------------------------------------------------------------------------


def _servers(args: StackValidationArgs) -> list[tuple[str, dict[str, str], str]]:
    """(URN, labels, container name) of each site's server: the container that declares a version."""
    servers = []
    for resource in args.resources:
        if resource.resource_type == CONTAINER:
            labels = {item["label"]: item["value"] for item in resource.props.get("labels") or []}
            if "codenvy.version" in labels:
                servers.append((resource.urn, labels, str(resource.props.get("name") or "")))
    return servers


def _script_params(props: Mapping[str, Any]) -> dict[str, str]:
    """The one-line parameters a rendered script assigns (`KEY='value'`) in a Command's `bash -c` create."""
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
    """Server container name -> the workspace nodes its site declares."""
    declared = {}
    for resource in args.resources:
        if resource.resource_type in COMMANDS:
            params = _script_params(resource.props)
            if NODE_SET_PARAM in params and CONTAINER_PARAM in params:
                try:
                    declared[params[CONTAINER_PARAM]] = json.loads(params[NODE_SET_PARAM])
                except ValueError:
                    declared[params[CONTAINER_PARAM]] = []  # unreadable: reported as declaring no nodes
    return declared


def _validate_odd_managers(args: StackValidationArgs, report: ReportViolation) -> None:
    managers = sum(
        1 for r in args.resources if r.resource_type in COMMANDS and MANAGER_MARKER in _command_text(r.props)
    )
    if managers and managers % 2 == 0:
        report(f"{managers} swarm managers: Raft needs an odd number (1, 3, 5) to keep a majority", None)


def _capacities(nodes: Iterable[Mapping[str, Any]]) -> list[tuple[float, int]]:
    return sorted((float(node["ramGb"]), int(node["cpus"])) for node in nodes)


def _validate_standby_matches_primary(args: StackValidationArgs, report: ReportViolation) -> None:
    references = [r for r in args.resources if r.resource_type == STACK_REFERENCE]
    node_sets = _declared_node_sets(args)
    for urn, labels, name in _servers(args):
        if labels.get("codenvy.role") != "standby":
            continue
        if not references:
            report("a standby without a StackReference to its primary; set codenvy-infra:dr.primaryStack", urn)
            continue
        primary = references[0].props.get("outputs") or {}
        if labels["codenvy.version"] != primary.get("version"):
            report(
                f"standby runs {labels['codenvy.version']}, its primary {primary.get('version')}; "
                "upgrade both to the same version",
                urn,
            )
        standby_nodes = _capacities(node_sets.get(name, []))
        if standby_nodes != _capacities(primary.get("nodes") or []):
            report(
                f"standby nodes {standby_nodes} differ from the primary's {_capacities(primary.get('nodes') or [])}"
                " (RAM GiB, CPUs); make the same change on both",
                urn,
            )


def _validate_backups_scheduled(args: StackValidationArgs, report: ReportViolation) -> None:
    for urn, labels, _ in _servers(args):
        if labels.get("codenvy.environment") == "dev":
            continue
        site = labels.get("codenvy.site", "")
        scheduled = any(
            r.resource_type in COMMANDS
            and f"MARKER=codenvy-backup-{site}" in _command_text(r.props)
            and "ENTRY=''" not in _command_text(r.props)
            for r in args.resources
        )
        if not scheduled:
            report(f"site {site} has no scheduled backup; set codenvy-infra:backup.schedule", urn)


ALLOW_PLAINTEXT = PolicyConfigSchema(
    properties={"allowPlaintext": {"type": "boolean", "default": False}},
)

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = [
    _resource_policy(
        "container-image-pinned",
        "Images are pinned to a version tag other than latest, or to a digest.",
        (CONTAINER, REMOTE_IMAGE),
        _check_image_pinned,
    ),
    _resource_policy("container-memory-limit", "Containers have a memory limit.", (CONTAINER,), _check_memory_limit),
    _resource_policy(
        "container-restart-bounded",
        "Containers restart on-failure with a retry bound, or unless-stopped; never 'no'.",
        (CONTAINER,),
        _check_restart_policy,
    ),
    _resource_policy(
        "container-not-privileged", "Containers do not run privileged.", (CONTAINER,), _check_not_privileged
    ),
    _resource_policy(
        "no-docker-socket-mount", "No container mounts the Docker socket.", (CONTAINER,), _check_no_docker_socket
    ),
    _resource_policy(
        "no-internal-port-published",
        "Internal ports (Docker API, Swarm, ZooKeeper, PostgreSQL, overlay) are not published on all interfaces.",
        (CONTAINER,),
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
        (CONTAINER,),
        _check_registry_tls,
        config_schema=ALLOW_PLAINTEXT,
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
        (CONTAINER,),
        _check_healthcheck,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    _resource_policy(
        "container-log-limits",
        "Container logs are size-limited (advisory).",
        (CONTAINER,),
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
