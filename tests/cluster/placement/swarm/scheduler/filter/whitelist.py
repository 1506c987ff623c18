"""The whitelist filter (scheduler/filter/whitelist.go)."""

from __future__ import annotations

import typing

from ..errors import SchedulingError
from .expr import parse_exprs

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def filter_whitelist(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/whitelist.go:22-58: |-separated node names, whatever the key."""
    for whitelist in parse_exprs(config.expressions("whitelists")):
        if not soft and whitelist.soft:
            continue
        names = whitelist.value.split("|")
        nodes = [node for node in nodes if node.name in names]
        if not nodes:
            raise SchedulingError(f"unable to find a node that satisfies the whitelist {whitelist}")
    return nodes
