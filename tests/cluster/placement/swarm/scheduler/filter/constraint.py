"""The constraint filter (scheduler/filter/constraint.go)."""

from __future__ import annotations

import typing

from ..errors import SchedulingError
from .expr import parse_exprs

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def filter_constraint(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/constraint.go:21-53: `node` is the engine's ID or name, any other key an engine label."""
    for constraint in parse_exprs(config.expressions("constraints")):
        if not soft and constraint.soft:
            continue
        if constraint.key == "node":
            kept = [n for n in nodes if constraint.match(n.id, n.name)]
        else:
            kept = [n for n in nodes if constraint.match(n.labels.get(constraint.key, ""))]
        if not kept:
            raise SchedulingError(f"unable to find a node that satisfies the constraint {constraint}")
        nodes = kept
    return nodes
