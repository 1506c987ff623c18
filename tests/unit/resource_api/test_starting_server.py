"""The Resource API client against a site still starting: a gateway without a backend yet is waited out."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

import pytest

from components.resource_api import ResourceApi
from tests.loopback import serving


def starting(gateway_status: int) -> type[BaseHTTPRequestHandler]:
    """A server whose first call after login is answered with `gateway_status` (HAProxy with no server behind
    it yet says 502, 503 or 504), and every later one as a started server with no limits stored (404)."""

    class Starting(BaseHTTPRequestHandler):
        answered = 0

        def log_message(self, *args):
            pass

        def _call(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.path.endswith("/auth/login"):
                body = json.dumps({"value": "token"}).encode()
                status = 200
            else:
                status, body = (gateway_status if Starting.answered == 0 else 404), b""
                Starting.answered += 1
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _call  # noqa: N815 - the names BaseHTTPRequestHandler calls

    return Starting


@pytest.mark.parametrize("gateway_status", [502, 503, 504])
def test_a_gateway_without_a_server_yet_is_waited_out(gateway_status):
    handler = starting(gateway_status)
    with serving(handler) as url:
        limits = ResourceApi(url, "admin", "pw", wait_seconds=10.0).current_limits("alice")
    assert (handler.answered, limits) == (2, [])
