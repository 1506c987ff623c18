"""The dependency filter: volumes-from, links and --net=container:
(scheduler/filter/dependency.go)."""

from __future__ import annotations

import typing

from ..errors import SchedulingError

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def _dependencies(config: ContainerConfig) -> tuple[list[str], list[str], list[str]]:
    volumes = [str(v).split(":", 1)[0] for v in config.host_config.get("VolumesFrom") or []]
    links = [str(link).split(":", 1)[0] for link in config.host_config.get("Links") or []]
    network = [config.network_mode.removeprefix("container:")] if config.network_mode.startswith("container:") else []
    return volumes, links, network


def filter_dependency(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/dependency.go:21-57: volumes-from, links and --net=container: need their containers."""
    if not nodes:
        return nodes
    wanted = [name for group in _dependencies(config) for name in group]
    kept = [node for node in nodes if all(node.container(name) is not None for name in wanted)]
    if not kept:
        raise SchedulingError(f"Unable to find a node fulfilling all dependencies: {' '.join(get_dependency(config))}")
    return kept


def get_dependency(config: ContainerConfig) -> list[str]:  # dependency.go:60-72
    found = [f"--volumes-from={v}" for v in config.host_config.get("VolumesFrom") or []]
    found += [f"--link={link}" for link in config.host_config.get("Links") or []]
    return found + ([f"--net={config.network_mode}"] if config.network_mode.startswith("container:") else [])
