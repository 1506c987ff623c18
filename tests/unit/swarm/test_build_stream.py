"""A build relayed by the stand-in to one engine on loopback and streamed back against docker/swarm v1.2.8's own rules;
expected values come from swarm's source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import base64
import http.server
import threading
import typing
import urllib.error
import urllib.parse
import urllib.request

import pytest

from tests.unit.swarm.standin import CODENVY_QUERY, cluster_of, engine, swarm


class FakeEngine(http.server.BaseHTTPRequestHandler):
    """An engine's POST /build answering with the lines given; the request is kept for the test."""

    protocol_version = "HTTP/1.1"
    answer: typing.ClassVar[list[bytes]] = []
    seen: typing.ClassVar[list] = []

    def do_POST(self) -> None:
        body = b""
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        self.seen.append((self.path, dict(self.headers), body))
        payload = b"".join(line + b"\n" for line in self.answer)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # the refresh of the images afterwards
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def building():
    """The API without TLS over one engine, node1, which is a FakeEngine on a loopback port."""
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeEngine)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    FakeEngine.seen.clear()
    owner = engine("node1", addr=f"127.0.0.1:{fake.server_address[1]}")
    owner.client_version = "1.30"
    made = cluster_of(owner)
    server = swarm.listen("tcp://127.0.0.1:0", type("Handler", (swarm.ApiHandler,), {"cluster": made}), None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    for each in (server, fake):
        each.shutdown()
        each.server_close()


def post_build(url: str, query: str = CODENVY_QUERY, body: bytes = b"tar", **headers) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-compressed-tar", **headers}
    request = urllib.request.Request(f"{url}/v1.23/build?{query}", data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_each_engine_message_carries_the_engine_name_and_one_more_ends_the_build(building):
    # api/handlers.go:1455-1466 sets msg.ID to the engine name; cluster.go:1069-1081 adds one on success
    FakeEngine.answer = [b'{"stream":"Step 1/1 : FROM busybox"}', b'{"aux":{"ID":"sha256:ab"}}']
    assert post_build(building) == (
        200,
        b'{"stream":"Step 1/1 : FROM busybox","id":"node1"}\n{"id":"node1","aux":{"ID":"sha256:ab"}}\n{"id":"node1"}\n',
    )


def test_the_engine_gets_the_context_and_no_constraint(building):
    # engine.go:1573 streams the body on; image_build.go:26-34 sets the headers; cluster.go:1050 the args
    FakeEngine.answer = []
    post_build(building, body=b"the tar")
    path, headers, body = FakeEngine.seen[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert (path.split("?")[0], headers["Content-Type"], query["buildargs"], body) == (
        "/v1.30/build",
        "application/x-tar",
        ["{}"],
        b"the tar",
    )


def test_the_registry_config_reaches_the_engine_as_go_re_encodes_it(building):
    # handlers.go:1442-1448 decodes into map[string]types.AuthConfig; image_build.go:26-30 marshals it again:
    # keys sorted, empty fields and unknown keys dropped (api/types/auth.go: every field omitempty)
    FakeEngine.answer = []
    sent = b'{"r2":{"Username":"u","extra":1},"r1":{"password":"p","email":""}}'
    post_build(building, **{"X-Registry-Config": base64.urlsafe_b64encode(sent).decode()})
    forwarded = FakeEngine.seen[0][1]["X-Registry-Config"]
    assert base64.urlsafe_b64decode(forwarded) == b'{"r1":{"password":"p"},"r2":{"username":"u"}}'


def test_an_engine_error_ends_the_build_with_swarms_error_message(building):
    # engine.go:1588-1590 wraps the engine's errorDetail; handlers.go:1471-1474 sends sendErrorJSONMessage
    FakeEngine.answer = [b'{"errorDetail":{"message":"no route"},"error":"no route"}']
    failed = "Failed to build image: no route"
    assert post_build(building) == (
        200,
        b'{"id":"node1"}\n{"error":"%s","errorDetail":{"code":1,"message":"%s"}}\n'
        % (failed.encode(), failed.encode()),
    )


def test_a_build_nothing_can_hold_is_a_plain_text_500(building):
    # handlers.go:1467-1469: httpError with the scheduler's error
    assert post_build(building, "memory=999999999999") == (500, b"no resources available to schedule container\n")
