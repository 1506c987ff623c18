"""The API's request handler: every route's handler over one HTTP exchange (api/handlers.go)."""

from __future__ import annotations

import typing

from .container_handlers import ContainerHandlers
from .exchange import Exchange
from .image_handlers import ImageHandlers
from .network_handlers import NetworkHandlers
from .proxy import Proxying
from .system_handlers import SystemHandlers

if typing.TYPE_CHECKING:
    from ..cluster.swarm.cluster import Cluster


class ApiHandler(SystemHandlers, ContainerHandlers, ImageHandlers, NetworkHandlers, Proxying, Exchange):
    """The primary router (api/primary.go, api/handlers.go, api/utils.go) over HTTP/1.1."""

    cluster: Cluster  # set on the subclass the server makes
