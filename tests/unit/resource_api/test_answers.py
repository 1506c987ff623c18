"""The Resource API client against answers a server should not give: a redirect, a body that is not JSON, a body cut
short."""

from __future__ import annotations

import http.server
import threading
from typing import ClassVar

import pytest

from components.resource_api import ApiError, ResourceApi


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []
    answer: ClassVar[tuple[int, dict[str, str], bytes]] = (200, {}, b"[]")

    def _answer(self):
        type(self).seen.append((self.command, self.headers.get("Authorization")))
        status, headers, body = type(self).answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - the names BaseHTTPRequestHandler calls

    def log_message(self, *args):
        pass


def serve(handler: type) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_redirect_is_not_followed_with_the_admin_credentials():
    class Elsewhere(Recorder):
        seen: ClassVar[list] = []

    class Redirecting(Recorder):
        seen: ClassVar[list] = []

    Redirecting.answer = (301, {"Location": serve(Elsewhere) + "/steal", "Content-Length": "0"}, b"")
    with pytest.raises(ApiError, match="redirect"):
        ResourceApi(serve(Redirecting), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])
    assert Elsewhere.seen == []


def test_an_answer_that_is_not_json_is_a_clear_error():
    class Html(Recorder):
        seen: ClassVar[list] = []
        answer = (200, {"Content-Length": "15"}, b"<html>hi</html>")

    with pytest.raises(ApiError, match="not JSON"):
        ResourceApi(serve(Html), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_an_answer_cut_short_is_a_clear_error():
    class CutShort(Recorder):
        seen: ClassVar[list] = []
        answer = (200, {"Content-Length": "1000"}, b"[")

    with pytest.raises(ApiError, match="cannot reach"):
        ResourceApi(serve(CutShort), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])
