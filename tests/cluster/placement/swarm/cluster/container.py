"""Containers: swarm's view, the lookup by ID or name, the state strings (cluster/container.go)."""

from __future__ import annotations

import datetime
import typing

from ..golang import go_time
from ..vendored import human_duration, truncate_id

if typing.TYPE_CHECKING:
    from .config import ContainerConfig
    from .engine import Engine


class Container:
    """cluster/container.go:14-20: the engine's list entry, swarm's view of its config, its inspect, its engine."""

    def __init__(self, engine: Engine | None, summary: dict | None = None, config: ContainerConfig | None = None):
        self.engine, self.summary, self.config = engine, summary or {}, config
        self.info: dict = {}

    @property
    def id(self) -> str:
        return str(self.summary.get("Id") or "")

    @property
    def names(self) -> list[str]:
        return list(self.summary.get("Names") or [])

    @property
    def state(self) -> dict:
        return self.info.get("State") or {}


def find_container(containers: list[Container], id_or_name: str) -> Container | None:
    """cluster/container.go:97-157: ID, swarm ID, a unique name (name, /name, engine/name), a unique prefix."""
    if not id_or_name:
        return None
    for container in containers:
        if container.id and (container.id == id_or_name or truncate_id(container.id) == id_or_name):
            return container
    for container in containers:
        swarm_id = container.config.swarm_id() if container.config else ""
        if swarm_id and (swarm_id == id_or_name or truncate_id(swarm_id) == id_or_name):
            return container
    candidates = []
    for container in containers:
        engine_id = container.engine.id if container.engine else ""
        engine_name = container.engine.name if container.engine else ""
        for name in container.names:
            if id_or_name in (name, engine_id + name, engine_name + name) or name == "/" + id_or_name:
                candidates.append(container)
                break
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return None
    candidates = [c for c in containers if c.id.startswith(id_or_name)]
    candidates += [c for c in containers if c.config and c.config.swarm_id().startswith(id_or_name)]
    return candidates[0] if len(candidates) == 1 else None


def state_string(state: dict) -> str:
    """cluster/container.go:23-44."""
    if state.get("Running"):
        return "paused" if state.get("Paused") else "restarting" if state.get("Restarting") else "running"
    if state.get("Dead"):
        return "dead"
    return "exited" if go_time(state.get("StartedAt")) else "created"


def full_state_string(state: dict) -> str:
    """cluster/container.go:47-86, the Status column of ps."""
    now = datetime.datetime.now(datetime.UTC)
    started, finished = go_time(state.get("StartedAt")), go_time(state.get("FinishedAt"))

    def since(moment: datetime.datetime | None) -> str:
        return human_duration((now - moment).total_seconds() if moment else now.timestamp() + 62135596800)

    if state.get("Running"):
        if state.get("Paused"):
            return f"Up {since(started)} (Paused)"
        if state.get("Restarting"):
            return f"Restarting ({state.get('ExitCode', 0)}) {since(finished)} ago"
        health = (state.get("Health") or {}).get("Status", "")
        health = "health: starting" if health == "starting" else health
        return f"Up {since(started)} ({health})" if health else f"Up {since(started)}"
    if state.get("Dead"):
        return "Dead"
    if not started:
        return "Created"
    if not finished:
        return ""
    return f"Exited ({state.get('ExitCode', 0)}) {since(finished)} ago"
