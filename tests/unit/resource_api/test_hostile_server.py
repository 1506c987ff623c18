"""The Resource API client against a server that is hostile or broken: slow, huge, deeply nested or full of
terminal escapes. Each answer comes from a real HTTP server on loopback; the client must end, in bounded
time, with an ApiError, and print nothing a terminal would act on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

import pytest

from components import resource_api
from components.resource_api import ApiError, ResourceApi
from tests.harness import PROJECT_DIR
from tests.loopback import serving

LIMIT = [{"type": "workspace", "amount": 3}]


class Answering(BaseHTTPRequestHandler):
    """Logs in anyone; every other call gets `answer(handler)`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _call(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        try:
            if self.path.endswith("/auth/login"):
                self.send_json(200, {"value": "token"})
            else:
                self.answer()
        except OSError:
            pass  # the client cut the connection: what the test wants of it

    do_GET = do_POST = do_DELETE = _call  # noqa: N815 - the names BaseHTTPRequestHandler calls

    def send_json(self, status: int, document) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def answer(self) -> None:
        raise NotImplementedError


def api(url: str, wait_seconds: float = 0.0) -> ResourceApi:
    return ResourceApi(url, "admin", "pw", wait_seconds=wait_seconds)


# --- size ------------------------------------------------------------------------------------------------

HUGE = 17 * 1024 * 1024  # past the client's 16 MiB cap, small enough to send in a test


class HugeWithLength(Answering):
    def answer(self):
        self.send_response(200)
        self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        chunk = b" " * 65536
        for _ in range(HUGE // len(chunk)):
            self.wfile.write(chunk)


class HugeUntilClosed(Answering):
    """No Content-Length: the body runs until the server closes the connection."""

    protocol_version = "HTTP/1.0"

    def answer(self):
        self.send_response(200)
        self.end_headers()
        chunk = b'{"resources": [' + b" " * 65521 + b"\n"
        for _ in range(HUGE // len(chunk)):
            self.wfile.write(chunk)


@pytest.mark.parametrize("handler", [HugeWithLength, HugeUntilClosed])
def test_an_answer_larger_than_any_the_api_sends_is_refused(handler):
    with serving(handler) as url, pytest.raises(ApiError, match="larger than"):
        api(url).current_limits("alice")


# --- time ------------------------------------------------------------------------------------------------


class DripBody(Answering):
    """Headers at once, then the body a byte at a time, 10 bytes a second: a whole answer in 10 s."""

    def answer(self):
        body = json.dumps({"resources": [], "padding": "x" * 60}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.1)


class DripHeaders(Answering):
    """The status line at once, then headers a byte at a time: never a whole header block in 10 s."""

    def answer(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for byte in b"X-Slow: " + b"y" * 100:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.1)


@pytest.mark.parametrize("handler", [DripBody, DripHeaders])
def test_an_answer_that_trickles_in_ends_at_the_attempts_deadline(handler, monkeypatch):
    """Every read gets a byte well within its timeout, so only a deadline for the whole attempt ends it."""
    monkeypatch.setattr(resource_api, "ATTEMPT_SECONDS", 1.0, raising=False)
    started = time.monotonic()
    with serving(handler) as url, pytest.raises(ApiError, match="cannot reach"):
        api(url, wait_seconds=1.0).current_limits("alice")
    # One attempt at most 1 s, retried for 1 s: the call ends well before the 10 s the answer would take.
    assert time.monotonic() - started < 5


# --- nesting ---------------------------------------------------------------------------------------------


class DeeplyNested(Answering):
    def answer(self):
        body = b"[" * 200_000 + b"]" * 200_000
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_deeply_nested_answer_is_refused_without_recursing_into_it():
    with serving(DeeplyNested) as url, pytest.raises(ApiError, match="not JSON"):
        api(url).current_limits("alice")


# --- what it prints --------------------------------------------------------------------------------------

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x1b[31m\x9b1m\r"


class EscapingError(Answering):
    def answer(self):
        body = f"boom{ESCAPES}".encode()
        self.send_response(500)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class EscapingReport(Answering):
    def answer(self):
        body = b"Number of users: 1\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Disposition", 'attachment; filename="report_\x1b[2J\x1b]2owned\x07.txt"')
        self.end_headers()
        self.wfile.write(body)


def run_client(url: str, *argv: str) -> subprocess.CompletedProcess:
    """The client as the limit and audit Commands run it: a script, from the project directory."""
    env = {**os.environ, "CODENVY_API_URL": url, "CODENVY_ADMIN_PASSWORD": "pw", "CODENVY_API_WAIT_SECONDS": "0"}
    return subprocess.run(
        [sys.executable, "components/resource_api.py", *argv],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def controls(text: str) -> list[str]:
    return [char for char in text if (ord(char) < 0x20 and char not in "\n\t") or 0x7F <= ord(char) <= 0x9F]


def test_an_error_from_the_server_is_printed_without_terminal_escapes():
    with serving(EscapingError) as url:
        result = run_client(url, "limits", "reset", "alice")
    assert result.returncode == 1 and "boom" in result.stderr
    assert controls(result.stderr) == []


def test_a_report_name_from_the_server_is_printed_without_terminal_escapes(tmp_path):
    with serving(EscapingReport) as url:
        result = run_client(url, "audit", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert controls(result.stdout) == []
    assert [controls(path.name) for path in tmp_path.iterdir()] == [[]]
