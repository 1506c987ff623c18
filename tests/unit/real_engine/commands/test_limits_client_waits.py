"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the Resource
API's limits client waits for a server that is still booting."""

from __future__ import annotations

from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import ClassVar

import pytest

from components import resource_api
from components.resource_api import ApiError, ResourceApi, api_from_environment
from tests.loopback import serving


class BootingServer(BaseHTTPRequestHandler):
    """Answers 503 (HAProxy without a backend) to the first `failures` calls, then as the server does: a login
    gives a token, GET /resource/free/{account} what the last POST stored (404 before)."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0
    stored: ClassVar[bytes] = b""

    def log_message(self, *args):
        pass

    def _booting(self) -> bool:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            self._answer(503, b"")
            return True
        return False

    def do_GET(self):
        if not self._booting():
            self._answer(200, type(self).stored) if type(self).stored else self._answer(404, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._booting():
            return
        if self.path.endswith("/auth/login"):
            self._answer(200, b'{"value": "token"}')
            return
        self._store(body)

    def _store(self, body: bytes) -> None:
        type(self).stored = body
        self._answer(201, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def booting() -> Iterator[str]:
    BootingServer.calls, BootingServer.stored = 0, b""
    with serving(BootingServer) as url:
        yield url


def test_the_limits_client_waits_for_a_server_that_is_still_starting(booting):
    BootingServer.failures = 2
    api = ResourceApi(booting, "admin", "pw", wait_seconds=10)
    assert api.apply_limits("alice", [{"type": "workspace", "amount": 3}]).startswith("limits of alice: set")
    assert BootingServer.calls == 6, "two refused logins, the login, the read before the POST, it, and the read back"


class ForgetfulServer(BootingServer):
    """Says 201 to the POST and stores nothing, as a proxy or a wrong endpoint might."""

    def _store(self, body: bytes) -> None:
        self._answer(201, b"{}")


def test_the_limits_client_reports_success_only_when_the_server_holds_the_limits():
    ForgetfulServer.calls, ForgetfulServer.failures, ForgetfulServer.stored = 0, 0, b""
    with serving(ForgetfulServer) as url:
        api = ResourceApi(url, "admin", "pw", wait_seconds=1)
        with pytest.raises(ApiError, match="accepted the limits of alice but holds none"):
            api.apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_the_limits_client_gives_up_after_its_wait_with_a_clear_error(booting):
    BootingServer.failures = 1000
    api = ResourceApi(booting, "admin", "pw", wait_seconds=1)
    with pytest.raises(ApiError, match=r"POST /auth/login: cannot reach .* within 1 s \(last answer: HTTP 503\)"):
        api.apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_the_limits_client_says_what_it_awaits_while_it_waits(booting, monkeypatch, capsys):
    monkeypatch.setattr(resource_api, "PROGRESS_EVERY_S", 0.2)
    BootingServer.failures = 1000
    with pytest.raises(ApiError):
        ResourceApi(booting, "admin", "pw", wait_seconds=1).apply_limits("alice", [{"type": "workspace", "amount": 3}])
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("waiting for the API at ")]
    assert progress and all("POST /auth/login" in line for line in progress), progress


def test_the_command_line_client_waits_minutes_by_default(monkeypatch):
    monkeypatch.setenv("CODENVY_API_URL", "https://localhost/api")
    monkeypatch.setenv("CODENVY_ADMIN_PASSWORD", "pw")
    monkeypatch.delenv("CODENVY_API_WAIT_SECONDS", raising=False)
    assert api_from_environment().wait_seconds >= 300
