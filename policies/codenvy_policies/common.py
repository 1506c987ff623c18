"""What every family of the pack shares: the resource types it reads, a guarded resource policy, and a
container's props read alike from a container and a Swarm service."""

from __future__ import annotations

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
VOLUME = "docker:index/volume:Volume"
PLUGIN = "docker:index/plugin:Plugin"
# A Swarm service runs containers too: every container rule reads its task spec (see container_props).
CONTAINER_LIKE = (CONTAINER, SERVICE)
# A local-driver volume with `o=bind` is a bind mount of its `device` (moby daemon/volume/local/local_unix.go
# passes o, type and device to mount(2)), so the mount rules read a Volume as a container that mounts it.
MOUNTING = (*CONTAINER_LIKE, VOLUME)
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_PROVIDER = "pulumi:providers:docker"
STACK_REFERENCE = "pulumi:pulumi:StackReference"
COMMANDS = ("command:local:Command", "command:remote:Command")


def resource_policy(
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


def stack_policy(
    name: str,
    description: str,
    validate: Callable[[StackValidationArgs, ReportViolation], None],
    config_schema: PolicyConfigSchema | None = None,
) -> StackValidationPolicy:
    """A mandatory policy over the whole stack's resources."""
    return StackValidationPolicy(
        name=name,
        description=description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
        config_schema=config_schema,
    )


def _service_as_container(props: Mapping[str, Any]) -> dict[str, Any]:
    """A Swarm service's task spec in a container's terms, so each container rule reads both alike."""
    task = props.get("taskSpec") or {}
    spec = task.get("containerSpec") or {}
    restart = task.get("restartPolicy") or {}
    # Swarm's default condition `any` restarts until the service is removed: a container's always.
    condition = restart.get("condition") or "any"
    selinux = (spec.get("privileges") or {}).get("seLinuxContext") or {}
    # The provider writes seLinuxContext into the task's Privileges.SELinuxContext: disable and type are the
    # container's label=disable and label=type:.
    selinux_opts = ["label=disable"] if selinux.get("disable") else []
    selinux_opts += [f"label=type:{selinux['type']}"] if str(selinux.get("type") or "").strip() else []
    return {
        "image": spec.get("image"),
        "memory": ((task.get("resources") or {}).get("limits") or {}).get("memoryBytes"),
        "restart": {"any": "always", "none": "no"}.get(condition, condition),
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


def container_props(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """A container's props, or a service's in a container's terms."""
    # Membership, not `==`: `>=` would give the same answers here (callers pass only container-like types, and a
    # container's token sorts before a service's), an equivalent mutant for `make mutate`.
    return _service_as_container(args.props) if args.resource_type in {SERVICE} else args.props


def labels_of(props: Mapping[str, Any]) -> dict[str, str]:
    """A container's labels (a list of {label, value}) as a mapping."""
    return {str(item.get("label")): str(item.get("value")) for item in props.get("labels") or []}


def as_port(value: Any) -> int | None:
    """A number as the provider would read it; None when absent or unreadable."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
