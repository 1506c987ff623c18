"""The listeners: tcp:// and unix:// (api/server.go, api/server_unix.go)."""

from __future__ import annotations

import http.server
import os
import socket
import socketserver
import ssl
import sys

from ..golang import go_quote, split_host_port
from ..logrus import FatalError, log


class TcpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        log("debug", f"connection from {client_address} ended: {sys.exc_info()[1]}")


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        log("debug", f"connection ended: {sys.exc_info()[1]}")


def listen(host: str, handler: type, tls: ssl.SSLContext | None):
    """api/server.go:79-112 and server_unix.go: tcp://[host]:port or unix:///path (mode 0600)."""
    proto, separator, address = host.partition("://")
    if not separator:
        proto, address = "tcp", host
    if proto == "unix":
        if os.path.exists(address):
            os.unlink(address)
        mask = os.umask(0o777)
        try:
            server = UnixServer(address, handler)
        finally:
            os.umask(mask)
        os.chmod(address, 0o600)
    elif proto == "tcp":
        name, port = split_host_port(address)
        family = socket.AF_INET6 if ":" in name else socket.AF_INET
        server_class = type("Server", (TcpServer,), {"address_family": family})
        anywhere = "::" if family == socket.AF_INET6 else "0.0.0.0"  # noqa: S104 - swarm's -H tcp://:port
        server = server_class((name or anywhere, int(port)), handler)
    else:
        raise FatalError(f"unsupported protocol: {go_quote(proto)}")
    server.tls_context = tls
    log("info", "Listening for HTTP", addr=address, proto=proto)
    return server
