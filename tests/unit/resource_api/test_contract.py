"""Contract test of the Resource API client: a real HTTP server on loopback answers as Codenvy 5.x serves these
calls (the paths, bodies and statuses of eclipse/che 5.22.0 multiuser/api/che-multiuser-api-resource
FreeResourcesLimitService.java and ResourceUsageService.java, user lookup from UserService.java, login as
codenvy/codenvy add-node.sh.erb does it), keeps the limits, and records every request."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest

from components.resource_api import ApiError, ResourceApi
from tests.harness import PROJECT_DIR
from tests.loopback import serving

PASSWORD = "s3cret"  # noqa: S105 - the fake server's own test credential
REPORT = b"Number of users: 1\nNumber of licensed seats: 50\n"
# ResourceType classes (api/type/*ResourceType.java): each type's one unit, which a missing unit defaults to.
UNITS = {"RAM": "mb", "workspace": "item", "runtime": "item", "timeout": "minute"}
# Personal accounts carry their user's ID (PersonalAccountUserManager); the admin's ID is its name
# (codenvy AdminUserCreator). IDs of other users are "user" + 16 characters (UserManager).
USERS = {"alice@example.com": "userk1l7v0ns5d2qf8xa", "bob@example.com": "user0c4m9h2bq7zt1w3e"}
ACCOUNTS = {"admin", *USERS.values()}


class FakeCodenvy(BaseHTTPRequestHandler):
    limits: ClassVar[dict[str, list]] = {}
    received: ClassVar[list[tuple[str, str, dict | None]]] = []
    tokens: ClassVar[set[str]] = set()

    def log_message(self, *args):  # keep test output quiet
        pass

    def _authorised(self) -> bool:
        # che's token extractors: the Authorization header (or ?token=) holds the token login gave.
        if self.headers.get("Authorization") not in self.tokens:
            self._reply(401)
            return False
        return True

    def _reply(self, status: int, payload: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _json(self, status: int, document) -> None:
        self._reply(status, json.dumps(document).encode(), {"Content-Type": "application/json"})

    def _record(self) -> dict | None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.received.append((self.command, self.path, body))
        return body

    def do_GET(self):
        self._record()
        if not self._authorised():
            return
        url = urlsplit(self.path)
        parts = url.path.removeprefix("/api/").split("/")
        match parts:
            case ["audit"]:
                self._reply(
                    200, REPORT, {"Content-Disposition": 'attachment; filename="report_2017-01-31_17-41-40.txt"'}
                )
            case ["user", "find"]:
                email = parse_qs(url.query).get("email", [""])[0]
                if email in USERS:
                    self._json(200, {"id": USERS[email], "email": email, "name": email.split("@")[0]})
                else:
                    self._reply(404)  # UserService.find: NotFoundException
            case ["resource", "free", account]:
                if account in self.limits:  # FreeResourcesLimitService.getFreeResourcesLimit: 200, else 404
                    self._json(200, {"accountId": account, "resources": self.limits[account]})
                else:
                    self._reply(404)
            case ["resource", account] if account in ACCOUNTS:
                # ResourceUsageService.getTotalResources: the account's totals, a plain list, defaults included.
                stored = {r["type"]: r for r in self.limits.get(account, [])}
                defaults = [{"type": t, "amount": 10, "unit": u} for t, u in UNITS.items() if t not in stored]
                self._json(200, [*stored.values(), *defaults])
            case _:
                self._reply(404)

    def do_POST(self):
        body = self._record()
        if self.path == "/api/auth/login":
            if body == {"username": "admin", "password": PASSWORD}:
                token = secrets.token_hex(8)
                self.tokens.add(token)
                self._json(200, {"value": token})
            else:
                self._reply(401)
            return
        if not self._authorised():
            return
        assert self.path == "/api/resource/free", self.path
        types = [r.get("type") for r in body.get("resources", [])]
        # FreeResourcesLimitValidator / ResourceValidator: an account, known types once each, their unit.
        if not body.get("accountId") or len(set(types)) != len(types) or not set(types) <= set(UNITS):
            self._reply(400)
            return
        if body["accountId"] not in ACCOUNTS:
            self._reply(500)  # the limit's foreign key to the account table
            return
        stored = [{"type": r["type"], "amount": r["amount"], "unit": r.get("unit") or UNITS[r["type"]]} for r in
                  body["resources"]]  # fmt: skip
        self.limits[body["accountId"]] = stored
        self._json(201, {"accountId": body["accountId"], "resources": stored})

    def do_DELETE(self):
        self._record()
        if not self._authorised():
            return
        self.limits.pop(self.path.rsplit("/", 1)[-1], None)
        self._reply(204)  # also when the account had no limit


@pytest.fixture
def server():
    FakeCodenvy.limits, FakeCodenvy.received, FakeCodenvy.tokens = {}, [], set()
    with serving(FakeCodenvy) as url:
        yield url


def writes(received):
    return [(method, path, body) for method, path, body in received if method != "GET" and "login" not in path]


RAM = {"type": "RAM", "amount": 2048, "unit": "mb"}
WORKSPACES = {"type": "workspace", "amount": 10}
ALICE = "alice@example.com"


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


def test_limits_are_stored_for_the_users_personal_account(server):
    api = ResourceApi(server, "admin", PASSWORD)
    assert api.apply_limits(ALICE, [RAM, WORKSPACES]) == f"limits of {ALICE}: set RAM=2048 mb, workspace=10 item"
    assert writes(FakeCodenvy.received) == [
        ("POST", "/api/resource/free", {"accountId": USERS[ALICE], "resources": [RAM, WORKSPACES]})
    ]


def test_a_user_given_by_id_is_its_own_account(server):
    ResourceApi(server, "admin", PASSWORD).apply_limits("admin", [RAM])
    assert FakeCodenvy.limits == {"admin": [RAM]}


def test_limits_are_read_back_from_the_free_limit_not_the_accounts_totals(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits(ALICE, [RAM])
    reads = [path for method, path, _ in FakeCodenvy.received if method == "GET" and path.startswith("/api/resource")]
    assert reads and set(reads) == {f"/api/resource/free/{USERS[ALICE]}"}


def test_limits_apply_again_sends_nothing(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits(ALICE, [RAM, WORKSPACES])
    FakeCodenvy.received.clear()
    assert (
        ResourceApi(server, "admin", PASSWORD).apply_limits(ALICE, [WORKSPACES, RAM]) == f"limits of {ALICE}: unchanged"
    )
    assert writes(FakeCodenvy.received) == []


def test_limits_update_stores_the_new_amounts(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits(ALICE, [RAM])
    api.apply_limits(ALICE, [{**RAM, "amount": 4096}])
    assert FakeCodenvy.limits[USERS[ALICE]] == [{**RAM, "amount": 4096}]


def test_limits_delete_resets_the_user_to_defaults(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits("bob@example.com", [WORKSPACES])
    assert api.reset_limits("bob@example.com") == "limits of bob@example.com: reset to the defaults"
    assert FakeCodenvy.limits == {}
    assert writes(FakeCodenvy.received)[-1] == ("DELETE", f"/api/resource/free/{USERS['bob@example.com']}", None)


def test_limits_reset_of_a_user_at_the_defaults_sends_nothing(server):
    api = ResourceApi(server, "admin", PASSWORD)
    assert api.reset_limits(ALICE) == f"limits of {ALICE}: already the defaults"
    assert writes(FakeCodenvy.received) == []


def test_limits_of_an_unknown_address_name_the_fix(server):
    with pytest.raises(ApiError, match=r"no user has the e-mail address carol@example\.com; create the user"):
        ResourceApi(server, "admin", PASSWORD).apply_limits("carol@example.com", [RAM])


def test_resetting_the_limits_of_a_user_that_is_gone_finishes(server):
    said = ResourceApi(server, "admin", PASSWORD).reset_limits("carol@example.com")
    assert said == "limits of carol@example.com: no such user any more; nothing to reset"


def test_the_client_logs_in_once_and_sends_the_token(server):
    api = ResourceApi(server, "admin", PASSWORD)
    api.apply_limits(ALICE, [RAM])
    logins = [path for _, path, _ in FakeCodenvy.received if path == "/api/auth/login"]
    assert len(logins) == 1 and len(FakeCodenvy.tokens) == 1


def test_limits_auth_failure_is_a_clear_error(server):
    api = ResourceApi(server, "admin", "wrong")
    with pytest.raises(ApiError, match=r"refused the admin credentials \(HTTP 401\).*adminPassword"):
        api.apply_limits(ALICE, [RAM])
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
        [python, "components/resource_api.py", "limits", "apply", ALICE], env=env, cwd=PROJECT_DIR,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert applied.stdout.strip() == f"limits of {ALICE}: set RAM=2048 mb"
    audit = subprocess.run(
        [python, "components/resource_api.py", "audit", str(tmp_path)], env=env, cwd=PROJECT_DIR,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "report_2017-01-31_17-41-40.txt" in audit.stdout
    refused = subprocess.run(
        [python, "components/resource_api.py", "limits", "reset", ALICE],
        env={**env, "CODENVY_ADMIN_PASSWORD": "wrong"}, cwd=PROJECT_DIR, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 1 and "refused the admin credentials" in refused.stderr
