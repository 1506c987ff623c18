"""The containerslots filter (scheduler/filter/slots.go)."""

from __future__ import annotations

import typing

from ...golang import go_atoi
from ..errors import SchedulingError

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def filter_slots(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/slots.go:26-47: a `containerslots` engine label caps the containers of a node."""
    kept = []
    for node in nodes:
        try:
            slots = go_atoi(node.labels["containerslots"])
        except (KeyError, ValueError):
            kept.append(node)
            continue
        if len(node.containers) < slots:
            kept.append(node)
    if not kept:
        raise SchedulingError("No node with enough open slots available in the cluster")
    return kept
