"""A small Docker Engine API client: what the stand-in server says to docker.client.daemon_url.

As eclipse/che 5.22.0's DockerConnector (plugins/plugin-docker/che-plugin-docker-client/.../DockerConnector.java)
talks to it: every path prefixed with /v<che.docker.api> (DockerApiVersionPathPrefixProvider), an https URL
reached with the client certificate of docker.client.certificates_folder (DockerConnectorConfiguration.java:
167-175, DockerCertificates: ca.pem, cert.pem, key.pem), and an answer other than the expected one turned into
"Error response from docker API, status: <status>, message: <body>" with the body kept as the origin error
(DockerConnector.java:1450-1461): plain text from a Swarm manager, JSON from an engine, surfaced as it came.
An error inside a progress stream has no origin: its message is the stream's own text.
"""

from __future__ import annotations

import http.client
import json
import re
import ssl
import struct
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlparse

# DockerConnector.java:895-909 (buildImage): the stream's error that means the base image is missing, and what the
# build says when the stream ends without an image id.
BUILD_IMAGE_NOT_FOUND = re.compile(r"Error: image .+ not found")
BUILD_WITHOUT_IMAGE_ID = "Docker image build failed. Image id not found in build output."
BUILT = "Successfully built "  # DockerConnector.java:1406-1416 (getBuildImageId)


class DockerError(Exception):
    """The daemon refused a call: its status and the body it sent (the origin error), or, for an error reported
    inside a progress stream, that error as the message and no origin (DockerException(message, status))."""

    def __init__(self, status: int, origin: str, message: str | None = None) -> None:
        super().__init__(message or f"Error response from docker API, status: {status}, message: {origin}")
        self.status = status
        self.origin = origin


class ImageNotFoundError(DockerError):
    """DockerConnector's ImageNotFoundException: a build whose base image is not found (DockerConnector.java:897)."""


@dataclass
class Response:
    """An answer: its status and headers, and the body, read whole unless the call asked for a stream."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    raw: http.client.HTTPResponse | None = None
    connection: http.client.HTTPConnection | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def chunks(self, size: int = 65536) -> Iterator[bytes]:
        """A streamed body as it arrives; the connection is closed when it ends."""
        assert self.raw is not None, "not a streamed response"
        try:
            while chunk := self.raw.read1(size) if hasattr(self.raw, "read1") else self.raw.read(size):
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


class DockerClient:
    """One daemon (or Swarm manager) URL, http:// or https:// with client certificates."""

    def __init__(
        self, daemon_url: str, certificates_folder: str | None, api_version: str, timeout: float = 600
    ) -> None:
        url = urlparse(daemon_url)
        self.scheme, self.host = url.scheme, url.hostname or "localhost"
        self.port = url.port or (2376 if url.scheme == "https" else 2375)
        # DockerApiVersionPathPrefixProvider: an empty che.docker.api means no prefix.
        self.prefix = f"/v{api_version}" if api_version else ""
        self.timeout = timeout
        self.context: ssl.SSLContext | None = None
        if self.scheme == "https":
            folder = Path(certificates_folder or "")
            self.context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(folder / "ca.pem"))
            self.context.load_cert_chain(str(folder / "cert.pem"), str(folder / "key.pem"))

    def _connection(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.context is not None:
            return http.client.HTTPSConnection(self.host, self.port, timeout=timeout, context=self.context)
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        expect: tuple[int, ...] = (200, 201, 204),
        stream: bool = False,
        timeout: float | None = None,
    ) -> Response:
        """One call. `body` is sent as JSON unless it is bytes (a tar archive); a status outside `expect` raises
        DockerError with the daemon's own text. With `stream` the body is left to Response.chunks()."""
        target = self.prefix + path
        if query:
            target += "?" + urlencode({k: _query_value(v) for k, v in query.items() if v is not None})
        send_headers = dict(headers or {})
        payload: bytes | None = None
        if isinstance(body, bytes):
            payload = body
            send_headers.setdefault("Content-Type", "application/x-tar")
        elif body is not None:
            payload = json.dumps(body).encode()
            send_headers["Content-Type"] = "application/json"
        connection = self._connection(self.timeout if timeout is None else timeout)
        try:
            connection.request(method, target, body=payload, headers=send_headers)
            answer = connection.getresponse()
            if answer.status not in expect:
                origin = answer.read().decode(errors="replace").strip()
                raise DockerError(answer.status, origin)
            response_headers = {name.lower(): value for name, value in answer.getheaders()}
            if stream:
                return Response(answer.status, response_headers, b"", raw=answer, connection=connection)
            return Response(answer.status, response_headers, answer.read())
        except BaseException:
            connection.close()
            raise
        finally:
            if not stream:
                connection.close()

    def messages(self, response: Response) -> Iterator[object]:
        """The JSON values of a progress stream, one after the other, as JsonMessageReader reads them."""
        buffer = b""
        decoder = json.JSONDecoder()
        for chunk in response.chunks():
            buffer += chunk
            text = buffer.decode(errors="replace")
            position = 0
            while True:
                text_left = text[position:].lstrip()
                if not text_left:
                    position = len(text)
                    break
                try:
                    message, end = decoder.raw_decode(text_left)
                except ValueError:
                    break
                position = len(text) - len(text_left) + end
                yield message
            buffer = text[position:].encode()

    def progress(self, response: Response) -> list[dict]:
        """Every message of a pull or push progress stream; the first {"error": ...} in it raises with that error
        as the message, as DockerConnector.push reads it (DockerConnector.java:1019-1048)."""
        messages = []
        for message in self.messages(response):
            messages.append(message)
            if isinstance(message, dict) and message.get("error"):
                response.close()
                raise DockerError(500, "", str(message["error"]))
        return messages

    def build(
        self,
        context: bytes,
        query: Mapping[str, Any],
        registry_config: str,
        on_progress: Callable[[dict], None] = lambda message: None,
    ) -> str:
        """DockerConnector.buildImage (DockerConnector.java:806-925): the context tar posted to /build with
        X-Registry-Config and the query (parameters left out when null, booleans as 1/0); the answer's progress
        stream read until "Successfully built <id>", whose id is returned. An error in the stream fails the build
        only when it says the base image is not found (ImageNotFoundError); any other is passed on like progress,
        and a stream that ends without an image id fails with BUILD_WITHOUT_IMAGE_ID. The stream is closed once
        the id is read, as upstream leaves it."""
        response = self.request(
            "POST",
            "/build",
            query=query,
            body=context,
            headers={"Content-Type": "application/x-compressed-tar", "X-Registry-Config": registry_config},
            expect=(200,),
            stream=True,
        )
        try:
            for message in self.messages(response):
                if not isinstance(message, dict):
                    continue
                error = message.get("error")
                if error is not None and BUILD_IMAGE_NOT_FOUND.fullmatch(str(error)):
                    raise ImageNotFoundError(500, "", str(error))
                stream = message.get("stream")
                if isinstance(stream, str) and stream.startswith(BUILT):
                    return re.match(r"[0-9a-fA-F]*", stream[len(BUILT) :]).group()  # type: ignore[union-attr]
                on_progress(message)
        finally:
            response.close()
        raise DockerError(500, "", BUILD_WITHOUT_IMAGE_ID)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"  # DockerConnector.addQueryParamIfNotNull: booleans as 1/0
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def image_path(reference: str) -> str:
    """An image reference inside a path (/images/<name>/push): slashes kept, the rest quoted."""
    return quote(reference, safe="/:@")


def demultiplex(chunks: Iterator[bytes]) -> Iterator[tuple[int, bytes]]:
    """(stream, payload) frames of an attached stream without a TTY: an 8-byte header, its first byte the
    stream (1 stdout, 2 stderr), its last four the payload's size, big-endian."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= 8:
            kind, size = buffer[0], struct.unpack(">I", buffer[4:8])[0]
            if len(buffer) < 8 + size:
                break
            yield kind, buffer[8 : 8 + size]
            buffer = buffer[8 + size :]
    if buffer:
        yield 1, buffer
