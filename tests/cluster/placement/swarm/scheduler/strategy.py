"""The placement strategies: spread, binpack and random over weighted nodes (scheduler/strategy/)."""

from __future__ import annotations

import random
import typing

from ..golang import go_div
from .errors import SchedulingError

if typing.TYPE_CHECKING:
    from ..cluster.config import ContainerConfig
    from .node import Node

STRATEGIES = ("spread", "binpack", "random")  # scheduler/strategy/strategy.go:38-42


def weigh_nodes(config: ContainerConfig, nodes: list[Node], health_factor: int) -> list[tuple[int, Node]]:
    """scheduler/strategy/weighted_node.go:39-73: reservations in percent of the node, plus health."""
    weighted = []
    memory, cpus = config.memory, config.cpu_shares
    for node in nodes:
        if node.total_memory < memory or node.total_cpus < cpus:
            continue
        cpu_score = go_div((node.used_cpus + cpus) * 100, node.total_cpus) if cpus > 0 else 100
        memory_score = go_div((node.used_memory + memory) * 100, node.total_memory) if memory > 0 else 100
        if cpu_score <= 100 and memory_score <= 100:
            weighted.append((cpu_score + memory_score + health_factor * node.health_indicator, node))
    if not weighted:
        raise SchedulingError("no resources available to schedule container")  # strategy.go:34
    return weighted


def rank_and_sort(strategy: str, config: ContainerConfig, nodes: list[Node]) -> list[Node]:
    """spread.go:25-39 (lowest weight, then fewer containers), binpack.go:25-39 (the reverse), random.go:28-34.
    Equal nodes keep their order, which swarm draws from a Go map: random (cluster/swarm/cluster.go:907)."""
    if strategy == "random":
        shuffled = list(nodes)
        random.shuffle(shuffled)
        return shuffled
    weighted = weigh_nodes(config, nodes, -10 if strategy == "spread" else 10)
    sign = 1 if strategy == "spread" else -1
    return [node for _, node in sorted(weighted, key=lambda pair: (sign * pair[0], sign * len(pair[1].containers)))]
