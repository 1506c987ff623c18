"""The network routes (api/handlers.go)."""

from __future__ import annotations

import functools
import json

from ..cluster.network import filter_networks, find_network, unique_networks
from .proxy import Proxying
from .utils import ApiError


class NetworkHandlers(Proxying):
    """api/handlers.go: the network routes."""

    def get_networks(self) -> None:
        """api/handlers.go:272-303 with cluster/network.go:50-108: local networks named engine/name."""
        filters = self._filters(400)
        for kind in filters.get("type"):
            if kind not in ("custom", "builtin"):
                raise ApiError(f"Invalid filter: 'type'='{kind}'", 400)
        out = []
        for network in filter_networks(self.cluster.networks(), filters):
            resource = dict(network.resource)
            if resource.get("Scope") == "local":
                resource["Name"] = f"{network.engine.name}/{network.name}"
            out.append(resource)
        self.send_json(200, out)

    def get_network(self) -> None:
        """api/handlers.go:306-317 with cluster/network.go:114-136: endpoints without duplicates."""
        network_id = self.vars["networkid"]
        network = find_network(unique_networks(self.cluster.networks()), network_id)
        if network is None:
            raise ApiError(f"No such network: {network_id}", 404)
        endpoints: dict[str, str] = {}
        for index, endpoint in (network.resource.get("Containers") or {}).items():
            endpoint_id = endpoint.get("EndpointID", "")
            if endpoint_id not in endpoints or endpoint_id not in index:
                endpoints[endpoint_id] = index
        containers = {index: network.resource["Containers"][index] for index in endpoints.values()}
        self.send_json(200, {**network.resource, "Containers": containers})

    def proxy_network_connect(self) -> None:
        """api/handlers.go:1157-1199: to the engine of the container being connected."""
        network_id = self.vars["networkid"]
        network = find_network(unique_networks(self.cluster.networks()), network_id)
        if network is None:
            raise ApiError(f"No such network: {network_id}", 404)
        body = self.read_body()
        try:
            name = json.loads(body).get("Container", "")
        except (ValueError, AttributeError):
            raise ApiError("Container is not specified", 404) from None
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container: {name}", 404)
        engine = container.engine

        def refresh(response) -> None:
            engine._quietly(engine.refresh_networks)
            engine._quietly(functools.partial(engine.refresh_container, container.id, True))

        self.proxy(engine, self.url_path.replace(network_id, network.id, 1), callback=refresh, body=body)
