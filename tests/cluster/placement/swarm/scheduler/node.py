"""A node as the scheduler sees it (scheduler/node/node.go)."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from ..cluster.container import find_container

if typing.TYPE_CHECKING:
    from ..cluster.container import Container
    from ..cluster.engine import Engine


@dataclass
class Node:
    """scheduler/node/node.go:10-48: a snapshot of an engine for one scheduling decision."""

    id: str
    name: str
    labels: dict[str, str]
    containers: list[Container]
    images: list[dict]
    used_memory: int
    used_cpus: int
    total_memory: int
    total_cpus: int
    health_indicator: int
    addr: str = ""
    ip: str = ""

    @classmethod
    def of(cls, engine: Engine) -> Node:
        return cls(
            id=engine.id, name=engine.name, labels=dict(engine.labels), containers=engine.container_list(),
            images=engine.image_list(), used_memory=engine.used_memory(), used_cpus=engine.used_cpus(),
            total_memory=engine.total_memory(), total_cpus=engine.total_cpus(),
            health_indicator=engine.health_indicator(), addr=engine.addr, ip=engine.ip,
        )  # fmt: skip

    def is_healthy(self) -> bool:
        return self.health_indicator > 0

    def container(self, id_or_name: str) -> Container | None:
        return find_container(self.containers, id_or_name)

    def add_container(self, container: Container) -> None:
        """node.go:56-68: a pending container reserves its memory and CPUs, unless it does not fit at all."""
        if container.config is not None:
            memory, cpus = container.config.memory, container.config.cpu_shares
            if self.total_memory - memory < 0 or self.total_cpus - cpus < 0:
                return
            self.used_memory += memory
            self.used_cpus += cpus
        self.containers.append(container)
