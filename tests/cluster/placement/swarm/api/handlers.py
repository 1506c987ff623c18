"""The API's request handler: every route's handler over one HTTP exchange (api/handlers.go)."""

from __future__ import annotations

from .container_handlers import ContainerHandlers
from .image_handlers import ImageHandlers
from .network_handlers import NetworkHandlers
from .system_handlers import SystemHandlers


class ApiHandler(SystemHandlers, ContainerHandlers, ImageHandlers, NetworkHandlers):
    """The primary router (api/primary.go, api/handlers.go, api/utils.go) over HTTP/1.1."""
