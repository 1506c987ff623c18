"""What swarm asks of one engine: create, pull, build, start, remove (cluster/engine.go)."""

from __future__ import annotations

import base64
import functools
import json
import typing
from urllib.parse import quote

from ..vendored import auth_fields, parse_normalized_named
from .engine_cache import EngineCache
from .httpclient import EngineError, request_body
from .image_build import image_build_query, registry_config_header
from .jsonmessage import progress_messages

if typing.TYPE_CHECKING:
    from .config import ContainerConfig
    from .container import Container

START_WITH_BODY_VERSION = "1.15"  # vendor/github.com/samalba/dockerclient/dockerclient.go: APIVersion
IMAGE_MISSING = -404  # the status an EngineError carries for the engine API client's imageNotFoundError


class EngineCalls(EngineCache):
    """The container and image operations swarm runs on one engine (engine.go:1095-1598), part of Engine."""

    def create_container(self, config: ContainerConfig, name: str, pull_image: bool, auth: dict | None) -> Container:
        """engine.go:1095-1142: on "No such image" pull on this engine, then create again."""
        query = {"name": name} if name else None
        body = config.engine_body(self.cpus)
        try:
            created = self._create(config, query, body)
        except EngineError as error:
            if error.status != IMAGE_MISSING or not pull_image:
                raise
            self.pull(config.image, auth, None)
            created = self._create(config, query, body)
        self._quietly(functools.partial(self.refresh_container, created["Id"], True))
        with self.lock:
            container = self.containers.get(created["Id"])
        if container is None:
            raise EngineError("Container created but refresh didn't report it back")
        return container

    def _create(self, config: ContainerConfig, query: dict | None, body: dict) -> dict:
        """vendor/.../client/container_create.go:45-51: a 404 naming the image is imageNotFoundError."""
        try:
            return self.call("POST", "/containers/create", query=query, body=body)
        except EngineError as error:
            if error.status == 404 and "No such image" in str(error):
                raise EngineError(f"Error: No such image: {config.image}", status=IMAGE_MISSING) from None
            raise

    def pull(self, image: str, auth: dict | None, callback) -> None:
        """engine.go:1204-1244 with vendor/.../client/image_pull.go: stream the engine's pull, stop at its error."""
        try:
            familiar, tag, _ = parse_normalized_named(image)
        except ValueError as error:
            raise EngineError(str(error)) from None
        encoded = base64.urlsafe_b64encode(json.dumps(auth_fields(auth)).encode()).decode() if auth is not None else ""
        query, headers = {"fromImage": familiar, "tag": tag}, {"X-Registry-Auth": encoded}
        connection, response = self.call("POST", "/images/create", query=query, headers=headers, stream=True)
        _relay(connection, response, f"pull of {image}", f"Failed to load {image}", callback)
        self._quietly(self.refresh_images)

    def build_image(self, context, options: dict, callback) -> None:
        """engine.go:1572-1598 with vendor/.../client/image_build.go:20-44: POST /build with the options as the query,
        X-Registry-Config and the context streamed as application/x-tar; the engine's progress passed on, its first
        error message ending the build as "Failed to build image: ..."."""
        try:
            query = image_build_query(options, self.client_version)
        except EngineError as error:
            self.check_connection_err(error)
            raise
        headers = {"X-Registry-Config": registry_config_header(options), "Content-Type": "application/x-tar"}
        connection, response = self.call(
            "POST", "/build", query=query, headers=headers, body=request_body(context), stream=True
        )
        _relay(connection, response, "image build", "Failed to build image", callback)

    def start_container(self, container: Container, host_config: bytes | None) -> None:
        """engine.go:1504-1533: a start with a HostConfig body goes through dockerclient (API 1.15)."""
        if host_config is None:
            self.call("POST", f"/containers/{container.id}/start")
        else:
            self.call(
                "POST",
                f"/containers/{container.id}/start",
                body=json.loads(host_config),
                version=START_WITH_BODY_VERSION,
            )
        try:
            self.refresh_container(container.id, True)
        except EngineError as error:
            if not ((container.info.get("HostConfig") or {}).get("AutoRemove") and error.status == 404):
                raise
            with self.lock:
                self.containers.pop(container.id, None)

    def remove_container(self, container: Container, force: bool, volumes: bool) -> None:
        """engine.go:1145-1163 with vendor/.../client/container_remove.go."""
        query = {key: "1" for key, wanted in (("v", volumes), ("force", force)) if wanted}
        self.call("DELETE", f"/containers/{container.id}", query=query or None)
        with self.lock:
            self.containers.pop(container.id, None)

    def remove_image(self, name: str, force: bool) -> list:
        """engine.go:619-631: refreshed even when the engine refused."""
        try:
            return (
                self.call("DELETE", f"/images/{quote(name, safe=':/@')}", query={"force": "1"} if force else None) or []
            )
        finally:
            self._quietly(self.refresh_images)


def _relay(connection, response, what: str, failure: str, callback) -> None:
    """An engine's progress stream passed on message by message until its first error message, which ends it as
    "<failure>: <message>" (engine.go:1223-1238 for a pull, 1580-1595 for a build); the connection closed after."""
    try:
        for message in progress_messages(response, what):
            if message.get("errorDetail") is not None:
                raise EngineError(f"{failure}: {message['errorDetail'].get('message', '')}")
            if callback is not None:
                callback(message)
    finally:
        connection.close()
