"""Stand-in for the codenvy/codenvy 5.x application server in the cluster lane: its REST API (the parts the site
and the lane use) over the site's PostgreSQL, with workspaces placed as containers through the Docker API.

Run as Tomcat would be, by the image's entrypoint (entrypoint.sh → catalina.sh). Debian's python3 with
python3-psycopg2 and python3-yaml, and rsync. What it reads and refuses: configuration.py. Everything is under /api:

    GET  /api/                                  the services (no auth; the health check); OPTIONS: the version
    POST /api/auth/login {username, password}   {"value": token}; later calls carry ?token= or Authorization
    POST /api/user {email, name, password?}     201 (manageUsers); GET /api/user (the caller), /api/user/{id},
                                                /api/user/find?email=|name=; GET /api/admin/user (a page)
    POST|GET /api/resource/free, GET|DELETE /api/resource/free/{accountId}, GET /api/resource/{accountId}
                                                [/available|/used]: the Resource API (manageSystem, or the owner)
    POST /api/workspace?namespace=, GET /api/workspace[/{key}], GET /api/workspace/namespace/{namespace},
    POST|DELETE /api/workspace/{id}/runtime, DELETE /api/workspace/{id}, GET /api/workspace/{id}/snapshot
    GET  /api/audit                             the audit report (manageSystem)

The lane's own seams, which have no upstream counterpart:
    PUT|GET /api/project/{workspaceId}/{path}   a file of the workspace's projects (fs/<workspace id>/<path>)
    GET  /api/stats                             {version, mode, users, workspaces, running, limits, files}

A hot standby site runs this server against a read-only replica: while PostgreSQL is in recovery the server is
"standby" (reads are served, every write gets 503 and nothing lands in fs/); the first request that finds the
database promoted makes it "active" (tables and the admin created if missing), with no restart.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlencode

from configuration import Configuration, ConfigurationError, load
from database import Database, DatabaseRole
from docker_api import DockerClient
from errors import ApiError, bad_request, forbidden, not_found
from machines import MachineRuntime
from resources import Resources, require_total_access
from users import MANAGE_SYSTEM, MANAGE_USERS, Subject, Users, request_token
from workspaces import Workspaces, audit_report

LOG = logging.getLogger("codenvy")
# eclipse/che core/che-core-api-core/.../ApiInfoService.java: the webapp's root resources (GET) and its version
# (OPTIONS); the stand-in lists the services it has.
ROOT_RESOURCES = ("/auth", "/user", "/admin/user", "/resource", "/resource/free", "/workspace", "/audit")
# C: OnPremisesIdeApiServletModule.java:31-75: the paths the LoginFilter guards; /auth and the root are open.
OPEN = ("/", "/auth/login", "/auth/logout")


class Site:
    """The server's parts, made once at start."""

    def __init__(self, configuration: Configuration) -> None:
        self.configuration = configuration
        self.database = Database(configuration.datasource)
        self.users = Users(self.database, configuration)
        self.resources = Resources(self.database, configuration)
        docker = DockerClient(
            configuration.text("docker.client.daemon_url"),
            configuration.optional("docker.client.certificates_folder"),
            configuration.text("che.docker.api"),
        )
        self.workspaces = Workspaces(
            self.database, configuration, self.users, self.resources, MachineRuntime(configuration, docker)
        )
        self.role = DatabaseRole(self.database, self.users.ensure_admin)
        self.ready = False
        self.fs = Path(configuration.text("che.user.workspaces.storage"))


SITE: Site | None = None


def page_query(query: dict[str, list[str]]) -> tuple[int, int]:
    """maxItems (default 30) and skipCount (default 0), as FreeResourcesLimitService.java:88-90 takes them."""
    try:
        max_items, skip_count = int(query.get("maxItems", ["30"])[0]), int(query.get("skipCount", ["0"])[0])
    except ValueError:
        raise bad_request("maxItems and skipCount must be integers") from None
    if max_items <= 0 or skip_count < 0:
        raise bad_request("The number of items to return must be positive and the number to skip not negative")
    return max_items, skip_count


def link_header(base: str, max_items: int, skip_count: int, total: int) -> str:
    """PagingUtil.createLinkHeader with Page's references (eclipse/che core/che-core-api-core/.../PagingUtil.java:
    55-81, Page.java:125-169): first, last, prev and next where there is one."""
    last_items = total % max_items
    last = (0 if total <= max_items else total - max_items) if last_items == 0 else total - last_items
    numbered = skip_count % max_items == 0
    refs = [("first", 0), ("last", last)]
    if numbered and skip_count != 0:
        refs.append(("prev", 0 if skip_count <= max_items else skip_count - max_items))
    if numbered and skip_count + max_items < total:
        refs.append(("next", skip_count + max_items))
    return ", ".join(f'<{base}?{urlencode({"skipCount": s, "maxItems": max_items})}>; rel="{rel}"' for rel, s in refs)


class Handler(BaseHTTPRequestHandler):
    server_version = "codenvy-stand-in"

    def log_message(self, format: str, *args) -> None:
        # The query may hold a token: it is not logged.
        LOG.info("%s %s", self.address_string(), (format % args).split("?", 1)[0])

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def do_OPTIONS(self) -> None:
        self._handle("OPTIONS")

    def _handle(self, method: str) -> None:
        path, _, query_string = self.path.partition("?")
        self.query = parse_qs(query_string)
        self.token: str | None = None
        try:
            body = self._read_body()
            site = SITE
            if site is None or not site.ready:
                raise ApiError(503, "starting: waiting for the database")
            if not path.startswith("/api/") and path != "/api":
                raise not_found(f"no such path {path}")
            route = "/" + path.removeprefix("/api").strip("/")
            subject = None
            if route not in OPEN:
                self.token = request_token(query_string, self.headers.get("Authorization"))
                subject = site.users.subject(self.token)
            if method not in ("GET", "OPTIONS") and not route.startswith("/auth/"):
                site.role.require_active()
            self._route(site, method, route, subject, body)
        except ApiError as error:
            if not str(error):  # AuthenticationDaoImpl.java:63: a bare status
                self._send(error.status, b"", "application/json")
            else:
                self._json(error.status, {"message": str(error), **error.fields})
        except Exception as error:  # a bug of the stand-in: say what, keep serving
            LOG.exception("%s %s failed", method, path)
            self._json(500, {"message": f"{type(error).__name__}: {error}"})

    def _read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _json_body(self, body: bytes) -> object:
        if not body:
            return None
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            raise bad_request("the body is not JSON") from None

    def _param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def _flag(self, name: str) -> bool | None:
        value = self._param(name)
        return None if value is None else value.lower() == "true"

    def _open(self, site: Site, method: str, parts: list[str], raw: bytes) -> None:
        """What needs no token: the API's root and the login."""
        match method, parts:
            case "GET", []:
                self._json(200, {"rootResources": [{"path": path} for path in ROOT_RESOURCES]})
            case "OPTIONS", []:
                info = {"specificationTitle": "Codenvy REST API", "implementationVersion": site.configuration.version}
                self._json(200, info)
            case "POST", ["auth", "login"]:
                self._json(200, site.users.login(self._json_body(raw)))
            case "POST", ["auth", "logout"]:
                site.users.logout(self._param("token"))
                self._send(200, b"", "application/json")
            case _:
                raise ApiError(405, f"no {method} /api/{'/'.join(parts)}")

    def _route(self, site: Site, method: str, route: str, subject: Subject | None, raw: bytes) -> None:
        parts = [unquote(part) for part in route.split("/") if part]
        if subject is None:
            return self._open(site, method, parts, raw)
        users, resources, workspaces = site.users, site.resources, site.workspaces
        match method, parts:
            case "POST", ["user"]:
                self._json(201, users.create(self._json_body(raw), subject))
            case "GET", ["user"]:
                self._json(200, users.get(subject.user_id))
            case "GET", ["user", "find"]:
                self._json(200, users.find(self._param("email"), self._param("name")))
            case "GET", ["user", user_id]:
                self._json(200, users.get(user_id))
            case "GET", ["admin", "user"]:
                subject.check(MANAGE_USERS)
                max_items, skip_count = page_query(self.query)
                items, total = users.page(max_items, skip_count)
                self._json(200, items, {"Link": link_header(self._base(), max_items, skip_count, total)})
            case _, ["resource", "free", *rest]:
                self._free_resources(resources, method, rest, subject, raw)
            case "GET", ["resource", account_id, *view] if view in ([], ["available"], ["used"]):
                account = site.database.rows("SELECT type FROM account WHERE id = %s", (account_id,))
                require_total_access(
                    subject.user_id, subject.has(MANAGE_SYSTEM), account_id, account[0][0] if account else None
                )
                read = {(): resources.total, ("available",): resources.available, ("used",): resources.used}[
                    tuple(view)
                ]
                self._json(200, read(account_id))
            case _, ["workspace", *rest]:
                self._workspace(workspaces, method, rest, subject, raw)
            case "GET", ["audit"]:
                subject.check(MANAGE_SYSTEM)  # C: AuditServicePermissionsFilter.java
                report, name = audit_report(site.database)
                self._send(200, report.encode(), "text/plain", {"Content-Disposition": f"attachment; filename={name}"})
            case "PUT" | "GET", ["project", workspace_id, *rest]:
                self._project(site, method, workspace_id, "/".join(rest), subject, raw)
            case "GET", ["stats"]:
                self._json(200, self._stats(site))
            case _:
                raise ApiError(404 if method == "GET" else 405, f"no {method} /api{route}")

    def _free_resources(self, resources: Resources, method: str, rest: list[str], subject: Subject, raw: bytes) -> None:
        # FreeResourcesLimitServicePermissionsFilter.java:40-57: every method needs manageSystem.
        if not subject.has(MANAGE_SYSTEM):
            raise forbidden("The user does not have permission to perform this operation")
        match method, rest:
            case "POST", []:
                self._json(201, resources.store(self._json_body(raw)))
            case "GET", []:
                max_items, skip_count = page_query(self.query)
                items, total = resources.page(max_items, skip_count)
                self._json(200, items, {"Link": link_header(self._base(), max_items, skip_count, total)})
            case "GET", [account_id]:
                self._json(200, resources.get(account_id))
            case "DELETE", [account_id]:
                resources.remove(account_id)
                self._send(204, b"", "application/json")
            case _:
                raise ApiError(405, f"no {method} /api/resource/free/{'/'.join(rest)}")

    def _workspace(self, workspaces: Workspaces, method: str, rest: list[str], subject: Subject, raw: bytes) -> None:
        match method, rest:
            case "POST", []:
                attributes = self.query.get("attribute", [])
                self._json(201, workspaces.create(self._json_body(raw), self._param("namespace"), subject, attributes))
            case "GET", []:
                self._json(200, workspaces.own(subject, self._param("status")))
            case "GET", ["namespace", *namespace]:
                self._json(200, workspaces.by_namespace("/".join(namespace), subject, self._param("status")))
            case "POST", [workspace_id, "runtime"]:
                started = workspaces.start(
                    workspace_id, self._param("environment"), self._flag("restore"), subject, self.token or ""
                )
                self._json(200, started)
            case "DELETE", [workspace_id, "runtime"]:
                workspaces.stop(workspace_id, self._flag("create-snapshot"), subject)
                self._send(204, b"", "application/json")
            case "GET", [workspace_id, "snapshot"]:
                self._json(200, workspaces.snapshots(workspace_id, subject))
            case "DELETE", [workspace_id]:
                workspaces.remove(workspace_id, subject)
                self._send(204, b"", "application/json")
            case "GET", [*key] if key:
                self._json(200, workspaces.get("/".join(key), subject))
            case _:
                raise ApiError(405, f"no {method} /api/workspace/{'/'.join(rest)}")

    def _project(self, site: Site, method: str, workspace_id: str, path: str, subject: Subject, raw: bytes) -> None:
        """No upstream counterpart: the lane's seam to the project files a workspace keeps in fs/."""
        row = site.database.rows(
            "SELECT a.id FROM workspace w JOIN account a ON a.id = w.account_id WHERE w.id = %s", (workspace_id,)
        )
        if not row:
            raise not_found(f"Workspace with id '{workspace_id}' doesn't exist")
        if row[0][0] != subject.user_id and not subject.has(MANAGE_SYSTEM):
            raise forbidden(f"The user does not have permission to use workspace with id '{workspace_id}'")
        root = (site.fs / workspace_id).resolve()
        target = (root / path).resolve()
        if not path or not target.is_relative_to(root) or target == root:
            raise bad_request("the path must name a file inside the workspace")
        if method == "PUT":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(raw)
            self._json(201, {"workspace": workspace_id, "path": path, "size": target.stat().st_size})
        elif not target.is_file():
            raise not_found(f"no file {path} in workspace {workspace_id}")
        else:
            self._send(200, target.read_bytes(), "application/octet-stream")

    def _stats(self, site: Site) -> dict:
        """No upstream counterpart: what the lane compares across upgrades, backups and failovers."""
        (users, workspaces, limits), *_ = site.database.rows(
            "SELECT (SELECT count(*) FROM usr), (SELECT count(*) FROM workspace),"
            " (SELECT count(*) FROM che_free_resources_limit)"
        )
        files = sum(1 for path in site.fs.rglob("*") if path.is_file()) if site.fs.is_dir() else 0
        running = sum(1 for state in site.workspaces.states.values() if state.status == "RUNNING")
        return {
            "version": site.configuration.version,
            "mode": site.role.current(),
            "users": users,
            "workspaces": workspaces,
            "running": running,
            "limits": limits,
            "files": files,
        }

    def _base(self) -> str:
        return f"http://{self.headers.get('Host', 'localhost')}{self.path.partition('?')[0]}"

    def _json(self, status: int, document: object, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(document).encode(), "application/json", headers)

    def _send(self, status: int, payload: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": content_type, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def configure_logging(logs_dir: Path | None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stdout)]
    if logs_dir is not None:
        logs_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(logs_dir / "catalina.log"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s", handlers=handlers, force=True
    )
    logging.Formatter.converter = time.gmtime


def wait_for_database(site: Site) -> None:
    """Retry until PostgreSQL accepts the datasource's credentials; an active one gets its tables and admin."""
    while True:
        try:
            site.role.current()
            LOG.info("database ready")
            return
        except ApiError as error:
            LOG.info("waiting for PostgreSQL: %s", error)
            time.sleep(2)


def main() -> None:
    configure_logging(None)
    try:
        configuration = load()
    except ConfigurationError as error:
        LOG.error("cannot start: %s", error)
        sys.exit(1)
    configure_logging(configuration.logs_dir)
    global SITE
    site = Site(configuration)
    for folder in (site.fs, Path(configuration.text("machine.project.location"))):
        folder.mkdir(parents=True, exist_ok=True)

    def stop(signum: int, _frame) -> None:
        LOG.info("signal %s: stopping", signal.Signals(signum).name)
        site.workspaces.stop_all()
        site.workspaces.runtime.shutdown()  # C: HostedMachineProviderImpl's @PreDestroy (the snapshot cleaner)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    LOG.info("codenvy stand-in %s starting on :%s", configuration.version, configuration.http_port)
    server = ThreadingHTTPServer(("", configuration.http_port), Handler)
    server.daemon_threads = True
    SITE = site
    # Serve from the start: the health check gets a quick 503 rather than a hung connection while we wait.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    wait_for_database(site)
    site.ready = True
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
