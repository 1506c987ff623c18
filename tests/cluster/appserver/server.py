"""Stand-in for the codenvy/codenvy application server in the cluster lane: a small HTTP service that keeps
users, workspaces and account limits in the site's PostgreSQL and project files under the fs/ volume.

Debian's python3 and python3-psycopg2 only. Configured by the environment the program gives the server
container (CODENVY_PGSQL_HOST/DATABASE/USERNAME/PASSWORD, CODENVY_VERSION) plus the image's own
CODENVY_SIM_PORT, CODENVY_SIM_DATA_ROOT and CODENVY_SIM_INSTANCE_DIR. Everything is under /api:

    GET  /api/                          health: 200 with the version once the database is ready (no auth)
    POST /api/user {email, name?}       201 {id, email, name};  GET /api/user, GET /api/user/{id}
    POST /api/workspace {owner, name}   201 {id, owner, name};  GET /api/workspace, GET /api/workspace/{id}
    PUT  /api/project/{ws}/{path}       write the body to fs/{ws}/{path};  GET reads it back
    GET  /api/stats                     {version, mode, users, workspaces, limits, files}
    POST /api/resource/free             the seed's Resource API: store a user's limit overrides
    GET  /api/resource, GET /api/resource/{userId}, DELETE /api/resource/free/{userId}
    GET  /api/audit                     the audit report, as report_<datetime>.txt

Every call but the health check needs HTTP Basic credentials; they are checked against
CODENVY_ADMIN_USERNAME/CODENVY_ADMIN_PASSWORD when the container has a password, else any are accepted.
The version is read from /instance/codenvy.ver. Logs go to stdout; SIGTERM stops it with exit code 0.

A hot standby site runs this server against a read-only replica: while PostgreSQL is in recovery the server
is "standby" (reads are served from the replica, every write gets 503 and nothing lands in fs/); the first
request that finds the database promoted makes it "active" (tables created if missing), with no restart.
"""

from __future__ import annotations

import base64
import datetime
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

import psycopg2
import psycopg2.errors

PORT = int(os.environ.get("CODENVY_SIM_PORT", "8080"))
DATA_ROOT = Path(os.environ.get("CODENVY_SIM_DATA_ROOT", "/home/codenvy/codenvy-data"))
INSTANCE_DIR = Path(os.environ.get("CODENVY_SIM_INSTANCE_DIR", "/instance"))
PROJECTS = DATA_ROOT / "fs"
# The seed's Resource API table: resource type -> supported units, the first being the default.
UNITS = {"RAM": ("mb",), "workspace": ("item",), "runtime": ("item",), "timeout": ("minute",)}
SCHEMA = """
CREATE TABLE IF NOT EXISTS users (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS workspaces (
    id serial PRIMARY KEY, owner int NOT NULL REFERENCES users ON DELETE CASCADE, name text NOT NULL,
    UNIQUE (owner, name));
CREATE TABLE IF NOT EXISTS resource_limits (
    user_id text NOT NULL, type text NOT NULL, amount bigint NOT NULL, unit text NOT NULL,
    PRIMARY KEY (user_id, type));
"""
STORE_LIMITS = """
DELETE FROM resource_limits WHERE user_id = %s;
INSERT INTO resource_limits (user_id, type, amount, unit)
    SELECT %s, t, a, u FROM unnest(%s::text[], %s::bigint[], %s::text[]) AS l(t, a, u);
"""
PERMISSIONS = "[read, use, run, configure, setPermissions, delete]"
ACTIVE, STANDBY = "active", "standby"
IDLE_STANDBY = "this site is an idle standby: its database is a read-only replica, writes wait for its promotion"


def log(message: str) -> None:
    print(f"{datetime.datetime.now(datetime.UTC):%Y-%m-%dT%H:%M:%SZ} {message}", flush=True)


def version() -> str:
    try:
        return (INSTANCE_DIR / "codenvy.ver").read_text().strip()
    except OSError:
        return os.environ.get("CODENVY_VERSION", "unknown")


class ApiError(Exception):
    """An answer other than success: its status, a message, and further fields of the JSON body."""

    def __init__(self, status: int, message: str, **fields) -> None:
        super().__init__(message)
        self.status = status
        self.fields = fields


def standby_refusal() -> ApiError:
    return ApiError(503, IDLE_STANDBY, mode=STANDBY)


def sql(statement: str, params: tuple = ()) -> list[tuple]:
    """One statement in its own connection and transaction, so a restarted or restored database is simply used."""
    try:
        connection = psycopg2.connect(
            host=os.environ.get("CODENVY_PGSQL_HOST", "codenvy-postgres"),
            port=int(os.environ.get("CODENVY_PGSQL_PORT", "5432")),
            dbname=os.environ.get("CODENVY_PGSQL_DATABASE", "codenvy"),
            user=os.environ.get("CODENVY_PGSQL_USERNAME", "codenvy"),
            password=os.environ.get("CODENVY_PGSQL_PASSWORD", ""),
            connect_timeout=5,
        )
    except psycopg2.OperationalError as error:
        raise ApiError(503, f"database unavailable: {error}".strip()) from None
    try:
        with connection, connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []
    except psycopg2.errors.UniqueViolation as error:
        raise ApiError(409, error.pgerror or "already exists") from None
    except psycopg2.errors.ForeignKeyViolation as error:
        raise ApiError(404, error.pgerror or "no such row") from None
    except psycopg2.errors.ReadOnlySqlTransaction:
        raise standby_refusal() from None
    except psycopg2.errors.UndefinedTable:
        # A replica of a primary whose server never ran has no tables yet.
        raise ApiError(503, "the database has no tables yet") from None
    finally:
        connection.close()


class DatabaseRole:
    """Whether the database takes writes, asked of PostgreSQL each time: a replica can be promoted, and a
    former primary re-seeded as a replica, while this server keeps running."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: str | None = None

    def current(self) -> str:
        """ACTIVE or STANDBY; on a change, log it, and on becoming active create the tables if missing."""
        mode = STANDBY if sql("SELECT pg_is_in_recovery()")[0][0] else ACTIVE
        with self._lock:
            if mode != self._last:
                if mode == ACTIVE:
                    sql(SCHEMA)
                    log("database writable: active, tables ready")
                else:
                    log("database is a read-only replica: idle standby, serving reads and refusing writes")
                self._last = mode
        return mode

    def require_active(self) -> None:
        if self.current() == STANDBY:
            raise standby_refusal()


ROLE = DatabaseRole()


def wait_for_database() -> None:
    """Retry until PostgreSQL accepts us (it may still be initialising); an active one gets its tables."""
    while True:
        try:
            ROLE.current()
            log("database ready")
            return
        except ApiError as error:
            log(f"waiting for PostgreSQL: {error}")
            time.sleep(2)


def user_json(row: tuple) -> dict:
    return {"id": row[0], "email": row[1], "name": row[2]}


def workspace_json(row: tuple) -> dict:
    return {"id": row[0], "owner": row[1], "name": row[2]}


def limits_of(user_id: str) -> list[dict]:
    rows = sql("SELECT type, amount, unit FROM resource_limits WHERE user_id = %s ORDER BY type", (user_id,))
    return [{"type": t, "amount": a, "unit": u} for t, a, u in rows]


def validated_limits(body: dict) -> tuple[str, list[tuple[str, int, str]]]:
    user_id, resources = body.get("userId"), body.get("resources")
    if not isinstance(user_id, str) or not user_id or not isinstance(resources, list):
        raise ApiError(400, "body must be {userId, resources: [{type, amount, unit?}]}")
    limits = []
    for resource in resources:
        kind, amount, unit = resource.get("type"), resource.get("amount"), resource.get("unit")
        if kind not in UNITS:
            raise ApiError(400, f"unknown resource type {kind!r}; known: {', '.join(UNITS)}")
        if not isinstance(amount, int) or amount < 0:
            raise ApiError(400, f"amount of {kind} must be a non-negative integer")
        if unit is not None and unit not in UNITS[kind]:
            raise ApiError(400, f"unit {unit!r} is not a unit of {kind}; supported: {', '.join(UNITS[kind])}")
        limits.append((kind, amount, unit or UNITS[kind][0]))
    return user_id, limits


def project_file(workspace: str, path: str) -> Path:
    if not sql("SELECT 1 FROM workspaces WHERE id::text = %s", (workspace,)):
        raise ApiError(404, f"no workspace {workspace}")
    root = (PROJECTS / workspace).resolve()
    target = (root / path).resolve()
    if not path or not target.is_relative_to(root):
        raise ApiError(400, "the path must name a file inside the workspace")
    return target


def audit_report() -> str:
    users = sql("SELECT id, email, name FROM users ORDER BY id")
    workspaces = sql("SELECT id, owner, name FROM workspaces ORDER BY id")
    lines = [f"Number of all users: {len(users)}"]
    for user_id, email, _ in users:
        owned = [name for _, owner, name in workspaces if owner == user_id]
        lines.append(f"{email} is owner of {len(owned)} workspaces and has permissions in {len(owned)} workspaces")
        lines += [f"   └ {name}, is owner: true, permissions: {PERMISSIONS}" for name in owned]
    return "\n".join(lines) + "\n"


def count_files() -> int:
    return sum(1 for path in PROJECTS.rglob("*") if path.is_file()) if PROJECTS.is_dir() else 0


class Handler(BaseHTTPRequestHandler):
    server_version = "codenvy-sim"
    ready = False

    def log_message(self, format: str, *args) -> None:
        log(f"{self.address_string()} {format % args}")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        try:
            if method == "GET" and path in ("/api", "/api/"):
                if not Handler.ready:
                    raise ApiError(503, "starting: waiting for the database")
                return self._json(200, {"version": version(), "status": "RUNNING"})
            if not path.startswith("/api/"):
                raise ApiError(404, f"no such path {path}")
            self._authenticate()
            if method != "GET":
                ROLE.require_active()
            self._route(method, path.removeprefix("/api"))
        except ApiError as error:
            self._json(error.status, {"message": str(error), **error.fields})

    def _authenticate(self) -> None:
        scheme, _, token = self.headers.get("Authorization", "").partition(" ")
        try:
            user, _, password = base64.b64decode(token).decode().partition(":")
        except ValueError:
            user = password = ""
        expected = os.environ.get("CODENVY_ADMIN_PASSWORD")
        wanted_user = os.environ.get("CODENVY_ADMIN_USERNAME", "admin")
        if scheme != "Basic" or not user or (expected and (user, password) != (wanted_user, expected)):
            raise ApiError(401, "HTTP Basic credentials of the admin are required")

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _json_body(self) -> dict:
        try:
            body = json.loads(self._body() or b"{}")
        except json.JSONDecodeError:
            raise ApiError(400, "the body must be JSON") from None
        if not isinstance(body, dict):
            raise ApiError(400, "the body must be a JSON object")
        return body

    def _route(self, method: str, path: str) -> None:
        parts = [unquote(part) for part in path.split("/") if part]
        match method, parts:
            case "POST", ["user"]:
                body = self._json_body()
                if not isinstance(body.get("email"), str) or "@" not in body["email"]:
                    raise ApiError(400, "a user needs an email")
                row = sql(
                    "INSERT INTO users (email, name) VALUES (%s, %s) RETURNING id, email, name",
                    (body["email"], body.get("name") or body["email"].split("@")[0]),
                )
                self._json(201, user_json(row[0]))
            case "GET", ["user"]:
                self._json(200, [user_json(r) for r in sql("SELECT id, email, name FROM users ORDER BY id")])
            case "GET", ["user", user_id]:
                self._json(200, user_json(self._one("SELECT id, email, name FROM users WHERE id::text = %s", user_id)))
            case "POST", ["workspace"]:
                body = self._json_body()
                if not str(body.get("owner", "")).isdigit() or not isinstance(body.get("name"), str):
                    raise ApiError(400, "a workspace needs an owner (a user id) and a name")
                row = sql(
                    "INSERT INTO workspaces (owner, name) VALUES (%s, %s) RETURNING id, owner, name",
                    (int(body["owner"]), body["name"]),
                )
                self._json(201, workspace_json(row[0]))
            case "GET", ["workspace"]:
                self._json(200, [workspace_json(r) for r in sql("SELECT id, owner, name FROM workspaces ORDER BY id")])
            case "GET", ["workspace", workspace_id]:
                query = "SELECT id, owner, name FROM workspaces WHERE id::text = %s"
                self._json(200, workspace_json(self._one(query, workspace_id)))
            case "PUT", ["project", workspace, *rest]:
                target = project_file(workspace, "/".join(rest))
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(self._body())
                self._json(201, {"workspace": workspace, "path": "/".join(rest), "size": target.stat().st_size})
            case "GET", ["project", workspace, *rest]:
                target = project_file(workspace, "/".join(rest))
                if not target.is_file():
                    raise ApiError(404, f"no file {'/'.join(rest)} in workspace {workspace}")
                self._send(200, target.read_bytes(), "application/octet-stream")
            case "GET", ["stats"]:
                (users, workspaces, limits), *_ = sql(
                    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM workspaces),"
                    " (SELECT count(DISTINCT user_id) FROM resource_limits)"
                )
                stats = {"users": users, "workspaces": workspaces, "limits": limits, "files": count_files()}
                self._json(200, {"version": version(), "mode": ROLE.current(), **stats})
            case "POST", ["resource", "free"]:
                user_id, limits = validated_limits(self._json_body())
                # A store replaces the user's overrides as a whole, in one transaction.
                kinds, amounts, units = (list(column) for column in zip(*limits, strict=True)) if limits else ([],) * 3
                sql(STORE_LIMITS, (user_id, user_id, kinds, amounts, units))
                log(f"limits of {user_id}: {limits}")
                self._json(201, {"userId": user_id, "resources": limits_of(user_id)})
            case "GET", ["resource"]:
                users = [row[0] for row in sql("SELECT DISTINCT user_id FROM resource_limits ORDER BY user_id")]
                self._json(200, [{"userId": user, "resources": limits_of(user)} for user in users])
            case "GET", ["resource", user_id]:
                resources = limits_of(user_id)
                if not resources:
                    raise ApiError(404, f"no limit overrides for {user_id}")
                self._json(200, {"userId": user_id, "resources": resources})
            case "DELETE", ["resource", "free", user_id]:
                sql("DELETE FROM resource_limits WHERE user_id = %s", (user_id,))
                log(f"limits of {user_id}: reset to the defaults")
                self._send(204, b"", "application/json")
            case "GET", ["audit"]:
                stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
                disposition = {"Content-Disposition": f'attachment; filename="report_{stamp}.txt"'}
                self._send(200, audit_report().encode(), "text/plain; charset=utf-8", disposition)
            case _:
                raise ApiError(404 if method == "GET" else 405, f"no {method} /api{path}")

    def _one(self, statement: str, key: str) -> tuple:
        rows = sql(statement, (key,))
        if not rows:
            raise ApiError(404, f"no such item {key}")
        return rows[0]

    def _json(self, status: int, document) -> None:
        self._send(status, json.dumps(document).encode(), "application/json")

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": content_type, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


def stop(signum: int, _frame) -> None:
    log(f"signal {signal.Signals(signum).name}: stopping")
    sys.exit(0)


def main() -> None:
    # As PID 1 the process would ignore SIGTERM without a handler; exit 0 like a clean shutdown.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log(f"codenvy stand-in {version()} starting on :{PORT}")
    server = ThreadingHTTPServer(("", PORT), Handler)
    server.daemon_threads = True
    # Serve from the start: the health check gets a quick 503 rather than a hung connection while we wait.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_for_database()
    PROJECTS.mkdir(parents=True, exist_ok=True)
    Handler.ready = True
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
