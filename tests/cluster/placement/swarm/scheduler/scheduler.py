"""The scheduler: filters then strategy, soft expressions first (scheduler/scheduler.go)."""

from __future__ import annotations

import threading
import typing

from .errors import SchedulingError
from .filter.filter import apply_filters
from .strategy import rank_and_sort

if typing.TYPE_CHECKING:
    from ..cluster.config import ContainerConfig
    from .node import Node


class Scheduler:
    """scheduler/scheduler.go: filters then strategy, soft expressions first, then without them."""

    def __init__(self, strategy: str, filters: list[str]) -> None:
        self.strategy, self.filters = strategy, filters
        self.lock = threading.Lock()

    def select_nodes_for_container(self, nodes: list[Node], config: ContainerConfig) -> list[Node]:
        try:
            return self._select(nodes, config, soft=True)
        except SchedulingError:
            return self._select(nodes, config, soft=False)

    def _select(self, nodes: list[Node], config: ContainerConfig, soft: bool) -> list[Node]:
        accepted = apply_filters(self.filters, config, nodes, soft)
        if not accepted:
            raise SchedulingError("No nodes available in the cluster")  # scheduler.go:15,51-53
        return rank_and_sort(self.strategy, config, accepted)

    def filter_names(self) -> str:
        return ", ".join(self.filters)
