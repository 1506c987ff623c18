"""Contract test of the Resource API client: a real HTTP server on loopback stands in for the Codenvy
server (which is not run here), keeps per-user limits, and records every request it receives."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pytest

from components.resource_api import ApiError, ResourceApi
from tests.harness import PROJECT_DIR
from tests.loopback import serving

PASSWORD = "s3cret"  # noqa: S105 - the fake server's own test credential
REPORT = b"Number of users: 1\nNumber of licensed seats: 50\n"


class FakeCodenvy(BaseHTTPRequestHandler):
    limits: ClassVar[dict[str, list]] = {}
    received: ClassVar[list[tuple[str, str, dict | None]]] = []

    def log_message(self, *args):  # keep test output quiet
        pass

    def _authorised(self) -> bool:
        expected = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.send_response(401)
            self.end_headers()
            return False
        return True

    def _reply(self, status: int, payload: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _record(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.received.append((self.command, self.path, body))
        return body

    def do_GET(self):
        self._record()
        if not self._authorised():
            return
        if self.path == "/api/audit":
            self._reply(200, REPORT, {"Content-Disposition": 'attachment; filename="report_2017-01-31_17-41-40.txt"'})
        elif self.path.startswith("/api/resource/"):
            user = self.path.rsplit("/", 1)[-1]
            if user in self.limits:
                self._reply(200, json.dumps({"userId": user, "resources": self.limits[user]}).encode())
            else:
                self._reply(404)
        else:
            self._reply(404)

    def do_POST(self):
        body = self._record()
        if not self._authorised():
            return
        assert self.path == "/api/resource/free"
        self.limits[body["userId"]] = body["resources"]
        self._reply(204)

    def do_DELETE(self):
        self._record()
        if not self._authorised():
            return
        self.limits.pop(self.path.rsplit("/", 1)[-1], None)
        self._reply(204)


@pytest.fixture
def server():
    FakeCodenvy.limits, FakeCodenvy.received = {}, []
    with serving(FakeCodenvy) as url:
        yield url


def writes(received):
    return [(method, path, body) for method, path, body in received if method != "GET"]


RAM = {"type": "RAM", "amount": 2048, "unit": "mb"}
WORKSPACES = {"type": "workspace", "amount": 10}


def test_client_and_config_agree_on_default_units():
    from components.config import LIMIT_UNITS
    from components.resource_api import DEFAULT_UNITS

    assert {kind: units[0] for kind, units in LIMIT_UNITS.items()} == DEFAULT_UNITS


@pytest.mark.parametrize(
    ("client_key", "path"),
    [
        ("API_URL_KEY", ("limits", "apiUrl")),
        ("ADMIN_USER_KEY", ("limits", "adminUser")),
        ("ADMIN_PASSWORD_KEY", ("adminPassword",)),
    ],
)
def test_client_names_the_config_keys_the_site_reads(client_key, path):
    from components import resource_api
    from components.config import SiteConfig, config_key

    model, *parents, leaf = (SiteConfig, *path)
    for part in parents:
        model = next(f.annotation for f in model.model_fields.values() if f.alias == part)
    assert leaf in {field.alias for field in model.model_fields.values()}
    assert getattr(resource_api, client_key) == config_key(*path)


def test_limits_create_posts_the_seed_body(server):
    api = ResourceApi(server, "admin", PASSWORD)
    assert api.apply_limits("alice", [RAM, WORKSPACES]) == "limits of alice: set RAM=2048 mb, workspace=10 item"
    assert writes(FakeCodenvy.received) == [
        ("POST", "/api/resource/free", {"userId": "alice", "resources": [RAM, WORKSPACES]})
    ]


def test_limits_apply_again_sends_nothing(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits("alice", [RAM, WORKSPACES])
    FakeCodenvy.received.clear()
    assert api.apply_limits("alice", [WORKSPACES, RAM]) == "limits of alice: unchanged"
    assert writes(FakeCodenvy.received) == []


def test_limits_update_stores_the_new_amounts(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits("alice", [RAM])
    api.apply_limits("alice", [{**RAM, "amount": 4096}])
    assert FakeCodenvy.limits["alice"] == [{**RAM, "amount": 4096}]


def test_limits_delete_resets_the_user_to_defaults(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits("bob", [WORKSPACES])
    assert api.reset_limits("bob") == "limits of bob: reset to the defaults"
    assert "bob" not in FakeCodenvy.limits
    assert writes(FakeCodenvy.received)[-1] == ("DELETE", "/api/resource/free/bob", None)
    assert api.reset_limits("bob") == "limits of bob: already the defaults"


def test_limits_auth_failure_is_a_clear_error(server):
    api = ResourceApi(server, "admin", "wrong")
    with pytest.raises(ApiError, match=r"refused the admin credentials \(HTTP 401\).*adminPassword"):
        api.apply_limits("alice", [RAM])
    assert FakeCodenvy.limits == {}


def test_limits_unreachable_api_names_it():
    with pytest.raises(ApiError, match=r"cannot reach http://127\.0\.0\.1:9/api"):
        ResourceApi("http://127.0.0.1:9/api", "admin", PASSWORD).apply_limits("alice", [RAM])


def test_audit_report_is_saved_under_the_servers_name(server, tmp_path):
    ResourceApi(server, "admin", PASSWORD).save_audit_report(tmp_path / "reports")
    assert (tmp_path / "reports" / "report_2017-01-31_17-41-40.txt").read_bytes() == REPORT


def test_an_audit_report_equal_to_the_last_one_is_not_saved_again(server, tmp_path):
    (tmp_path / "report_earlier.txt").write_bytes(REPORT)
    said = ResourceApi(server, "admin", PASSWORD).save_audit_report(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["report_earlier.txt"], said


def saved_before(directory: Path, name: str, content: bytes, age_s: int) -> None:
    path = directory / name
    path.write_bytes(content)
    stamp = time.time() - age_s
    os.utime(path, (stamp, stamp))


def test_an_audit_report_equal_only_to_an_older_one_is_saved(server, tmp_path):
    saved_before(tmp_path, "report_older.txt", REPORT, age_s=7200)
    saved_before(tmp_path, "report_newer.txt", b"Number of all users: 0\n", age_s=3600)
    ResourceApi(server, "admin", PASSWORD).save_audit_report(tmp_path)
    assert "report_2017-01-31_17-41-40.txt" in {path.name for path in tmp_path.iterdir()}


def test_an_audit_report_equal_to_the_newest_of_several_is_not_saved(server, tmp_path):
    saved_before(tmp_path, "report_older.txt", b"Number of all users: 0\n", age_s=7200)
    saved_before(tmp_path, "report_newer.txt", REPORT, age_s=3600)
    ResourceApi(server, "admin", PASSWORD).save_audit_report(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report_newer.txt", "report_older.txt"]


def test_an_audit_report_that_differs_from_the_last_one_is_saved(server, tmp_path):
    (tmp_path / "report_earlier.txt").write_bytes(b"Number of all users: 0\n")
    ResourceApi(server, "admin", PASSWORD).save_audit_report(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report_2017-01-31_17-41-40.txt", "report_earlier.txt"]


def test_limits_and_audit_commands_as_the_program_runs_them(server, tmp_path):
    """The exact command lines the program registers, with the environment it passes."""
    env = {
        **os.environ,
        "CODENVY_API_URL": server,
        "CODENVY_ADMIN_USER": "admin",
        "CODENVY_ADMIN_PASSWORD": PASSWORD,
        "CODENVY_LIMITS": json.dumps([RAM]),
    }
    python = sys.executable
    applied = subprocess.run(
        [python, "components/resource_api.py", "limits", "apply", "alice"], env=env, cwd=PROJECT_DIR,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert applied.stdout.strip() == "limits of alice: set RAM=2048 mb"
    audit = subprocess.run(
        [python, "components/resource_api.py", "audit", str(tmp_path)], env=env, cwd=PROJECT_DIR,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "report_2017-01-31_17-41-40.txt" in audit.stdout
    refused = subprocess.run(
        [python, "components/resource_api.py", "limits", "reset", "alice"],
        env={**env, "CODENVY_ADMIN_PASSWORD": "wrong"}, cwd=PROJECT_DIR, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1 and "refused the admin credentials" in refused.stderr
