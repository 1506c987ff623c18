"""Calls to an engine: the dial, the errors and Go's wording of them (cluster/httpclient.go,
vendor/github.com/docker/docker/client/request.go)."""

from __future__ import annotations

import http.client
import itertools
import json
import socket
import ssl

from ..golang import split_host_port

API_DIAL_TIMEOUT = 30.0  # the engine API client rides dockerclient's HTTP client (cluster/engine.go:198-204), 30 s


class EngineError(Exception):
    """An engine call failed; `connection` says whether swarm counts it against the engine's health
    (cluster/engine.go:1627-1638: IsConnectionError)."""

    def __init__(self, message: str, *, connection: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.connection, self.status = connection, status


def dial(addr: str, context: ssl.SSLContext | None, timeout: float | None) -> socket.socket:
    """cluster/httpclient.go:13-57: a TCP dial bounded by the timeout (the TLS handshake is not), https when swarm
    has a TLS configuration; the engine's certificate is checked against the host of its discovery address."""
    host, port = split_host_port(addr)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.settimeout(None)
    if context is not None:
        try:
            sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
    return sock


def describe_failure(error: BaseException) -> tuple[str, str]:
    """The kind of a failed engine call (refused, timeout or other) and Go's wording of it."""
    if isinstance(error, ConnectionRefusedError):
        return "refused", "getsockopt: connection refused"
    if isinstance(error, TimeoutError):
        return "timeout", "i/o timeout"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "other", f"x509: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return "other", f"remote error: tls: {error.reason or error}".lower()
    if isinstance(error, http.client.RemoteDisconnected | http.client.IncompleteRead | ConnectionResetError):
        return "other", "EOF"
    if isinstance(error, http.client.HTTPException):
        return "other", "malformed HTTP response"
    if isinstance(error, socket.gaierror):
        return "other", "no such host"
    if isinstance(error, OSError) and error.strerror:
        return "other", error.strerror.lower()
    return "other", str(error)


def api_error_text(status: int, headers, data: bytes, url: str) -> str:
    """vendor/github.com/docker/docker/client/request.go:184-205."""
    if not data:
        reason = http.client.responses.get(status, "")
        return (
            f"Error: request returned {reason} for API route and version {url}, "
            "check if the server supports the requested API version"
        )
    message = data.decode("utf-8", "replace")
    if headers.get("Content-Type") == "application/json":
        try:
            message = str(json.loads(data).get("message", ""))
        except (ValueError, AttributeError):
            return f"Error reading JSON: {data[:200]!r}"
    return f"Error response from daemon: {message.strip()}"


def request_body(chunks):
    """How Go 1.7's client sends a request body of unknown length (net/http transfer.go): one byte is read ahead;
    none makes an empty body with Content-Length: 0, otherwise it is sent chunked."""
    chunks = iter(chunks)
    for first in chunks:
        if first:
            return itertools.chain([first], chunks)
    return b""
