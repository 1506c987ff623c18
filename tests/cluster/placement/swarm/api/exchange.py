"""One HTTP exchange as Go's net/http serves it: TLS, routing, the request body, the answer
(api/server.go, api/flusher.go)."""

from __future__ import annotations

import http.server
import ssl
import typing
from urllib.parse import parse_qs, unquote, urlsplit

from ..golang import GoPanicError, go_json
from ..logrus import log
from ..vendored import Filters
from .primary import COMPILED_ROUTES
from .utils import ApiError

if typing.TYPE_CHECKING:
    from ..cluster.swarm.cluster import Cluster

MAX_POST_HANDLER_READ_BYTES = 256 << 10  # net/http server.go maxPostHandlerReadBytes


class Exchange(http.server.BaseHTTPRequestHandler):
    """One request and its answer over HTTP/1.1, as Go's net/http serves swarm's router."""

    protocol_version = "HTTP/1.1"

    cluster: Cluster  # set on the subclass the server makes

    # --- plumbing
    def setup(self) -> None:
        self.tls_failed = False
        context = getattr(self.server, "tls_context", None)
        if context is not None:  # api/server.go:66-69: the listener speaks TLS
            try:
                self.request = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                log("error", f"http: TLS handshake error from {self.address_string()}: {error}")
                self.tls_failed = True
        super().setup()

    def handle(self) -> None:
        if not self.tls_failed:
            try:
                super().handle()
            except (ConnectionError, ssl.SSLError, TimeoutError):
                self.close_connection = True

    def address_string(self) -> str:
        return str(self.client_address[0]) if isinstance(self.client_address, tuple) else "@"

    def log_message(self, format: str, *args) -> None:
        log("debug", format % args)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET  # noqa: N815 - the names BaseHTTPRequestHandler calls

    def dispatch(self) -> None:
        parts = urlsplit(self.path)
        self.url_path, self.raw_query = unquote(parts.path), parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.began = self.chunked = False
        self.body_done = self.headers.get("Content-Length", "0") == "0" and "chunked" not in self.headers.get(
            "Transfer-Encoding", ""
        )
        self.body_left: int | None = None
        self.chunk_end_pending = False
        log("debug", "HTTP request received", method=self.command, uri=self.path)
        for method, pattern, name in COMPILED_ROUTES:
            match = pattern.fullmatch(self.url_path) if method == self.command else None
            if match:
                self.vars = {k: v for k, v in match.groupdict().items() if v is not None}
                self.api_version = self.vars.pop("version", "")
                self._run(getattr(self, name))
                break
        else:
            self.http_error("404 page not found", 404, quiet=True)  # gorilla/mux's NotFound
        if not self.body_done:
            self.close_connection = True

    def _run(self, handler) -> None:
        try:
            handler()
        except ApiError as error:
            self.discard_unread_body()
            self.http_error(str(error), error.status)
        except GoPanicError as panic:  # net/http recovers a handler's panic by dropping the connection
            log("error", f"http: panic serving {self.address_string()}: {panic}")
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            self.close_connection = True
        except Exception as error:  # a fault of the stand-in itself: say so rather than hang the client
            log("error", f"stand-in fault serving {self.command} {self.path}: {error!r}")
            self.http_error(f"placement stand-in fault: {error!r}", 500)
        if self.began and self.chunked:
            self._end()

    # --- request bodies
    def body_chunks(self):
        """The request body as it arrives (Content-Length or chunked), from where an earlier reader left it: what
        was read stays read, as with Go's request body."""
        if self.body_done:
            return
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while True:
                if self.chunk_end_pending:
                    self.rfile.readline(65537)
                    self.chunk_end_pending = False
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.chunk_end_pending = True
                yield data
        else:
            if self.body_left is None:
                self.body_left = int(self.headers.get("Content-Length", "0"))
            while self.body_left > 0:
                data = self.rfile.read(min(self.body_left, 65536))
                if not data:
                    break
                self.body_left -= len(data)
                yield data
        self.body_done = True

    def read_body(self) -> bytes:
        return b"".join(self.body_chunks())

    def discard_unread_body(self) -> None:
        """Go's net/http (server.go, body.Close with maxPostHandlerReadBytes): a body the handler left unread is
        read and dropped, up to 256 KiB, before the answer goes out, so a client still sending it reads the
        answer; a larger rest closes the connection."""
        left = MAX_POST_HANDLER_READ_BYTES
        for chunk in self.body_chunks():
            left -= len(chunk)
            if left < 0:
                self.close_connection = True
                return

    def read_body_upto(self, limit: int) -> bytes:
        """io.LimitReader over the body: at most limit bytes (the rest stays unread)."""
        data = b""
        for chunk in self.body_chunks():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit]

    # --- answers
    def http_error(self, message: str, status: int, quiet: bool = False) -> None:
        if not quiet:
            log("error", f"HTTP error: {message}", status=status)
        if self.began:  # a second WriteHeader: Go logs it and the client gets what was already sent
            self.close_connection = True
            return
        self.send_bytes(
            status, (message + "\n").encode(), "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"}
        )

    def send_bytes(self, status: int, payload: bytes, content_type: str | None, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": content_type, **(headers or {})}.items():
            if value is not None:
                self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)
        self.wfile.flush()
        self.began = True

    def send_json(self, status: int, document: object) -> None:
        self.send_bytes(status, go_json(document), "application/json")

    def _begin(self, status: int, headers: list[tuple[str, str]], length: str | None) -> None:
        """Start an answer whose body follows: with the engine's length, or chunked."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        bodyless = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if length is not None:
            self.send_header("Content-Length", length)
        elif not bodyless:
            self.send_header("Transfer-Encoding", "chunked")
            self.chunked = True
        self.end_headers()
        self.wfile.flush()
        self.began = True

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self.chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()  # api/flusher.go: every write is flushed

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.chunked = False

    def _filters(self, status: int) -> Filters:
        try:
            return Filters.from_param((self.query.get("filters") or [""])[0])
        except ValueError as error:
            raise ApiError(str(error), status) from None
