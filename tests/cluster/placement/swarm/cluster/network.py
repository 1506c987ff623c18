"""Networks: an engine's resource, the lookup and the listing filters (cluster/network.go)."""

from __future__ import annotations

import typing
from dataclasses import dataclass

from ..vendored import truncate_id

if typing.TYPE_CHECKING:
    from ..vendored import Filters
    from .engine import Engine


@dataclass
class Network:
    """cluster/network.go:12-16: an engine's network resource."""

    resource: dict
    engine: Engine

    @property
    def id(self) -> str:
        return str(self.resource.get("Id") or "")

    @property
    def name(self) -> str:
        return str(self.resource.get("Name") or "")


def unique_networks(networks: list[Network]) -> list[Network]:
    """cluster/network.go:26-47: one per ID, endpoints merged."""
    by_id: dict[str, Network] = {}
    for network in networks:
        if network.id in by_id:
            by_id[network.id].resource["Containers"].update(network.resource.get("Containers") or {})
        else:
            resource = {**network.resource, "Containers": dict(network.resource.get("Containers") or {})}
            by_id[network.id] = Network(resource, network.engine)
    return list(by_id.values())


def find_network(networks: list[Network], id_or_name: str) -> Network | None:
    """cluster/network.go:150-198: ID, a name (name, engineID/name, engineName/name) unique across IDs, /name, a
    unique ID prefix. A name several engines carry with different IDs finds nothing."""
    if not id_or_name:
        return None
    for network in networks:
        if network.id == id_or_name or truncate_id(network.id) == id_or_name:
            return network
    candidates = [n for n in networks if id_or_name in (n.name, f"{n.engine.id}/{n.name}", f"{n.engine.name}/{n.name}")]
    if len(unique_networks(candidates)) == 1:
        return candidates[0]
    if candidates:
        return None
    for network in networks:
        if network.name == "/" + id_or_name:
            return network
    candidates = [n for n in networks if n.id.startswith(id_or_name)]
    return candidates[0] if len(unique_networks(candidates)) == 1 else None


def filter_networks(networks: list[Network], filters: Filters) -> list[Network]:
    """cluster/network.go:50-108."""

    def included(network: Network) -> bool:
        predefined = network.name in ("none", "host", "bridge")
        for kind in filters.get("type"):
            if (kind == "custom" and predefined) or (kind == "builtin" and not predefined):
                return False
        if filters.include("label") and not filters.match_kv_list("label", network.resource.get("Labels")):
            return False
        if filters.include("driver") and not filters.exact_match("driver", str(network.resource.get("Driver", ""))):
            return False
        return all(network.engine.name == node for node in filters.get("node"))

    wanted = filters.get("name") + filters.get("id")
    if not wanted:
        return [n for n in unique_networks(networks) if included(n)]
    out = [n for n in (find_network(networks, w) for w in wanted) if n is not None and included(n)]
    for _ in wanted:
        out += [n for n in unique_networks([n for n in networks if filters.match("name", n.name)]) if included(n)]
    return unique_networks(out)
