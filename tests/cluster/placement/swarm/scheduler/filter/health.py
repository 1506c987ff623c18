"""The health filter (scheduler/filter/health.go)."""

from __future__ import annotations

import typing

from ..errors import SchedulingError

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def filter_health(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/health.go:25-38."""
    healthy = [node for node in nodes if node.is_healthy()]
    if not healthy:
        raise SchedulingError("No healthy node available in the cluster")
    return healthy
