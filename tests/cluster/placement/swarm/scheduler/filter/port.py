"""The port filter: host ports already bound on a node (scheduler/filter/port.go)."""

from __future__ import annotations

import ipaddress
import typing

from ..errors import SchedulingError

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def _bindings(port_map: dict | None):
    for bindings in (port_map or {}).values():
        yield from bindings or []


def binds_all(binding: dict) -> bool:  # scheduler/filter/port.go:154-157
    host_ip = binding.get("HostIp") or ""
    try:
        return host_ip == "" or ipaddress.ip_address(host_ip).is_unspecified
    except ValueError:
        return False


def _port_taken(requested: dict, port_map: dict | None) -> bool:
    """port.go:113-134: the same HostPort on the same IP, or either side on every interface."""
    for binding in _bindings(port_map):
        same_port = binding.get("HostPort") and binding.get("HostPort") == requested.get("HostPort")
        same_ip = requested.get("HostIp", "") == binding.get("HostIp", "")
        if same_port and (same_ip or binds_all(requested) or binds_all(binding)):
            return True
    return False


def _port_in_use(node: Node, requested: dict) -> bool:
    """port.go:79-111: a container's requested and actual bindings; a pending one's configuration."""
    for container in node.containers:
        if container.id:
            host_config, settings = container.info.get("HostConfig"), container.info.get("NetworkSettings")
            if (host_config and _port_taken(requested, host_config.get("PortBindings"))) or (
                settings and _port_taken(requested, settings.get("Ports"))
            ):
                return True
        elif container.config and _port_taken(requested, container.config.host_config.get("PortBindings")):
            return True
    return False


def filter_port(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/port.go:24-64."""
    if config.network_mode == "host":
        for port in config.config.get("ExposedPorts") or {}:
            nodes = [
                n
                for n in nodes
                if not any(
                    (c.info.get("HostConfig") or {}).get("NetworkMode") == "host"
                    and port in ((c.info.get("Config") or {}).get("ExposedPorts") or {})
                    for c in n.containers
                )
            ]
            if not nodes:
                raise SchedulingError(f"unable to find a node with port {port} available in the Host mode")
        return nodes
    for binding in _bindings(config.host_config.get("PortBindings")):
        nodes = [node for node in nodes if not _port_in_use(node, binding)]
        if not nodes:
            raise SchedulingError(f"unable to find a node with port {binding.get('HostPort', '')} available")
    return nodes


def get_port(config: ContainerConfig) -> list[str]:  # port.go:137-152
    if config.network_mode == "host":
        return [f"port {port} (Host mode)" for port in config.config.get("ExposedPorts") or {}]
    return [f"port {b.get('HostPort', '')} (Bridge mode)" for b in _bindings(config.host_config.get("PortBindings"))]
