"""What of the host a container (or a Swarm service's task) may reach: privileges, capabilities, namespaces,
confinement, devices, and the internal ports it publishes."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from pulumi_policy import Policy, ResourceValidationArgs

from .common import CONTAINER_LIKE, as_port, container_props, resource_policy
from .program_facts import INTERNAL_PORTS

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


def _check_not_privileged(args: ResourceValidationArgs) -> str | None:
    if args.props.get("privileged"):
        return "runs privileged; drop privileged and grant only the capabilities it needs"
    return None


def _check_no_added_capabilities(args: ResourceValidationArgs) -> str | None:
    adds = (container_props(args).get("capabilities") or {}).get("adds") or []
    extra = sorted({str(cap).strip().upper().removeprefix("CAP_") for cap in adds} - DEFAULT_CAPABILITIES)
    if extra:
        return (
            f"adds capabilities {extra} beyond Docker's defaults (ALL and SYS_ADMIN are root on the host); "
            "drop them from capabilities.adds"
        )
    return None


def _check_no_host_namespaces(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
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
    unconfined = [str(opt) for opt in container_props(args).get("securityOpts") or [] if _unconfined(opt)]
    if unconfined:
        return (
            f"switches confinement off ({', '.join(unconfined)}); drop these securityOpts and keep the defaults "
            f"(an SELinux type must be one of {sorted(CONFINED_SELINUX_TYPES)})"
        )
    return None


def _check_no_host_devices(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    devices = [str(device.get("hostPath")) for device in props.get("devices") or []]
    devices += [f"rule '{rule}'" for rule in props.get("deviceCgroupRules") or []]
    # gpus and deviceRequests hand devices over through the runtime's hooks (the NVIDIA one runs as root).
    devices += [f"gpus '{props['gpus']}'"] if str(props.get("gpus") or "").strip() else []
    devices += [f"deviceRequests {request}" for request in props.get("deviceRequests") or []]
    if devices:
        return f"reaches host devices ({', '.join(devices)}); drop devices, deviceCgroupRules, gpus and deviceRequests"
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


def _check_internal_ports(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    if props.get("publishAllPorts"):
        return "publishAllPorts publishes every exposed port on all interfaces; drop it and list the ports it needs"
    exposed = {
        (port, where)
        for entry in props.get("ports") or []
        if (where := _exposure(entry.get("ip")))
        for port in (as_port(entry.get("internal")), as_port(entry.get("external")))
        if port in INTERNAL_PORTS
    }
    if exposed:
        return (
            f"publishes internal port(s) {sorted({port for port, _ in exposed})} on "
            f"{', '.join(sorted({where for _, where in exposed}))} (on any host port); drop them or bind to a "
            "private address (ip)"
        )
    return None


POLICIES: list[Policy] = [
    resource_policy(
        "container-not-privileged", "Containers do not run privileged.", CONTAINER_LIKE, _check_not_privileged
    ),
    resource_policy(
        "container-no-added-capabilities",
        "Containers add no capability beyond Docker's default set.",
        CONTAINER_LIKE,
        _check_no_added_capabilities,
    ),
    resource_policy(
        "container-no-host-namespaces",
        "Containers share none of the host's namespaces (network, PID, IPC, user, cgroup).",
        CONTAINER_LIKE,
        _check_no_host_namespaces,
    ),
    resource_policy(
        "container-confined",
        "Containers keep seccomp, AppArmor, SELinux labels (of type "
        f"{', '.join(sorted(CONFINED_SELINUX_TYPES))}, or none) and masked system paths.",
        CONTAINER_LIKE,
        _check_confinement,
    ),
    resource_policy(
        "container-no-host-devices",
        "Containers reach no host device (devices, deviceCgroupRules, gpus, deviceRequests).",
        CONTAINER_LIKE,
        _check_no_host_devices,
    ),
    resource_policy(
        "no-internal-port-published",
        f"Internal ports ({', '.join(map(str, sorted(INTERNAL_PORTS)))}: Docker API, Swarm, ZooKeeper, PostgreSQL, "
        "overlay) are published only on private addresses, from either side of the mapping.",
        CONTAINER_LIKE,
        _check_internal_ports,
    ),
]
