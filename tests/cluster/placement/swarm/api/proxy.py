"""Proxying to an engine, plain and hijacked (api/utils.go:48-142, 166-332)."""

from __future__ import annotations

import contextlib
import http.client
import http.server
import socket
import ssl
import threading
import typing
from urllib.parse import quote

from ..cluster.httpclient import EngineError, describe_failure, dial
from ..golang import split_host_port
from ..logrus import log
from .exchange import Exchange
from .utils import ApiError

if typing.TYPE_CHECKING:
    from ..cluster.container import Container
    from ..cluster.engine import Engine

PROXY_DIAL_TIMEOUT = 10.0  # cluster/engine.go:39-40,190: requestTimeout, a dial timeout only


class HijackedConnection:
    """A raw connection to an engine for attach and exec (api/utils.go:166-264) that can end its writing half while
    still reading: TLS through a memory BIO so close_write sends close_notify and reads go on. Swarm 1.2.8 (Go 1.7)
    half-closes the TCP connection under TLS instead, which a TLS relay such as socat reads as an error."""

    def __init__(self, addr: str, context: ssl.SSLContext | None) -> None:
        host, port = split_host_port(addr)
        self.sock = socket.create_connection((host, int(port)))
        self.lock = threading.Lock()
        self.tls = None
        if context is not None:
            self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
            try:
                self._tls_step(self.tls.do_handshake)
            except BaseException:
                self.sock.close()
                raise

    def _tls_step(self, operation):
        """Run a TLS operation, moving records between the socket and the BIOs until it completes."""
        while True:
            with self.lock:
                try:
                    result = operation()
                    self._flush()
                    return result
                except ssl.SSLWantReadError:
                    self._flush()
            data = self.sock.recv(65536)
            if not data:
                raise ssl.SSLEOFError("EOF occurred in violation of protocol")
            with self.lock:
                self.incoming.write(data)

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def sendall(self, data: bytes) -> None:
        if self.tls is None:
            self.sock.sendall(data)
            return
        with self.lock:
            self.tls.write(data)
            self._flush()

    def recv(self, size: int) -> bytes:
        if self.tls is None:
            return self.sock.recv(size)
        try:
            return self._tls_step(lambda: self.tls.read(size))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def close_write(self) -> None:
        if self.tls is None:
            self.sock.shutdown(socket.SHUT_WR)
            return
        with self.lock:
            with contextlib.suppress(ssl.SSLWantReadError):
                self.tls.unwrap()
            self._flush()

    def close(self) -> None:
        self.sock.close()


HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
HOP_BY_HOP |= {"content-length", "host", "expect"}  # http.server answers "Expect: 100-continue" itself


class Proxying(Exchange):
    """Passing a request on to the engine that holds its container or image (api/utils.go)."""

    # --- proxying (api/utils.go:82-142)
    def proxy(self, engine: Engine, path=None, raw_query=None, callback=None, body: bytes | None = None) -> None:
        path = self.url_path if path is None else path
        raw_query = self.raw_query if raw_query is None else raw_query
        target = quote(path, safe="/:@!$&'()*+,;=-._~") + (f"?{raw_query}" if raw_query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body is not None:  # already read by the handler
            headers["Content-Length"] = str(len(body))
        elif "Content-Length" in self.headers and "chunked" not in self.headers.get("Transfer-Encoding", ""):
            headers["Content-Length"] = self.headers["Content-Length"]
        body = body if body is not None else None if self.body_done else self.body_chunks()
        scheme = "https" if engine.tls else "http"
        try:
            connection = http.client.HTTPConnection("engine")
            connection.sock = dial(engine.addr, engine.tls, PROXY_DIAL_TIMEOUT)
            connection.request(self.command, target, body=body, headers={"Host": engine.addr, **headers})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as error:
            kind, text = describe_failure(error)
            text = f"dial tcp {engine.addr}: {text}" if kind in ("refused", "timeout") else text
            failure = EngineError(
                f"{self.command.title()} {scheme}://{engine.addr}{target}: {text}", connection=kind == "refused"
            )
            engine.check_connection_err(failure)  # proxyContainer and friends check the proxy's error
            raise ApiError(str(failure), 500) from None
        try:
            headers_out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            self._begin(response.status, headers_out, response.getheader("Content-Length"))
            if self.command != "HEAD":
                while data := response.read1(65536):
                    self._write(data)
        finally:
            connection.close()
        engine.check_connection_err(None)
        if callback is not None:
            callback(response)

    def hijack(self, engine: Engine, path: str) -> None:
        """api/utils.go:266-332: the raw connection, both ways, once the request went to the engine."""
        try:
            upstream = HijackedConnection(engine.addr, engine.tls)
        except OSError as error:
            kind, text = describe_failure(error)
            failure = EngineError(f"dial tcp {engine.addr}: {text}", connection=kind == "refused")
            engine.check_connection_err(failure)
            raise ApiError(str(failure), 500) from None
        target = quote(path, safe="/:@!$&'()*+,;=-._~") + (f"?{self.raw_query}" if self.raw_query else "")
        lines = [f"{self.command} {target} HTTP/1.1", f"Host: {engine.addr}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() != "host"]
        log("debug", "Proxy hijack request", addr=engine.addr, request=lines[0])
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.read_body())
        self.began, self.close_connection = True, True

        def inbound() -> None:
            try:
                while data := self.rfile.read1(65536):
                    upstream.sendall(data)
                upstream.close_write()  # utils.go:301-309: the engine sees the end of stdin
            except OSError:
                pass

        threading.Thread(target=inbound, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                self.wfile.write(data)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            upstream.close()
        engine.check_connection_err(None)

    # --- lookups (api/utils.go:48-71)
    def container_from_vars(self, name: str | None = None) -> tuple[str, Container]:
        if name is None and "name" in self.vars:
            name = self.vars["name"]
        if name is not None:
            container = self.cluster.container(name)
            if container is None:
                raise ApiError(f"No such container: {name}", 404)
            if not container.engine.is_healthy():
                raise ApiError(f"Container {name} running on unhealthy node {container.engine.name}", 500)
            return name, container
        exec_id = self.vars.get("execid", "")
        for container in self.cluster.containers():
            if exec_id in (container.info.get("ExecIDs") or []):
                return "", container
        raise ApiError(f"Exec {exec_id} not found", 404)
