"""The affinity filter (scheduler/filter/affinity.go)."""

from __future__ import annotations

import typing

from ...cluster.image import parse_repository_tag
from ..errors import SchedulingError
from .expr import parse_exprs

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node


def filter_affinity(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/affinity.go:22-78: container, image, or a label of the node's containers."""
    for affinity in parse_exprs(config.expressions("affinities")):
        if not soft and affinity.soft:
            continue
        kept = []
        for node in nodes:
            if affinity.key == "container":
                whats = [w for c in node.containers if c.names for w in (c.id, c.names[0].removeprefix("/"))]
            elif affinity.key == "image":
                whats = []
                for image in node.images:
                    tags = list(image.get("RepoTags") or [])
                    whats += [str(image.get("Id") or ""), *tags, *(parse_repository_tag(t)[0] for t in tags)]
            else:
                whats = [str((c.summary.get("Labels") or {}).get(affinity.key, "")) for c in node.containers]
            if affinity.match(*whats):
                kept.append(node)
        if not kept:
            raise SchedulingError(f"unable to find a node that satisfies the affinity {affinity}")
        nodes = kept
    return nodes
