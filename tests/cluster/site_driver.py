"""Driving one site of the lane: its stack's config repeated on every run, its hosts, its API over HTTPS
with the site CA, and waiting for what converges on its own time."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from scripts.sim.node import NodeCommandError
from scripts.sim.waiting import wait_until
from tests.cluster.sim import Node
from tests.engine.engine import Engine, Result
from tests.harness import site_config

SITE = site_config("sim")
ADMIN_PASSWORD = "lane-admin-password-7f3a9c"  # noqa: S105 - a throwaway site's
SECRET_KEYS = ("codenvy-infra:adminPassword",)
MASTER_SERVICES = ("postgres", "server", "haproxy", "registry", "swarm", "agents")
# The stack image the lane's workspaces are made from: che pulls the recipe's image on every start
# (machine.properties.erb che.docker.always_pull_image=true), so it lives in the site's registry.
STACK_REPOSITORY = "lane/workspace"
# The agent every dev machine runs (che's ws-agent), and the memory a machine gets unless told otherwise.
WS_AGENT = "org.eclipse.che.ws-agent"
MACHINE_MB = 256
# A recipe for workspaces that hold files and never start: its image is pulled only on a start.
STACK_IMAGE = f"{STACK_REPOSITORY}:1"
HEALTH_WAIT = 150
# A workspace start answers once its machines run and their agents answer (placement, pulls, copies).
API_TIMEOUT = 120
# What a check may raise while the thing it asks about is still starting: a container not there yet, a
# database socket not made yet, a connection refused or cut by a service that restarts.
NOT_YET = (NodeCommandError, OSError, subprocess.TimeoutExpired, http.client.HTTPException)


def wait_for(what: str, check, timeout: float = HEALTH_WAIT, every: float = 2.0):
    """`check`'s first truthy answer; its expected failures while a site starts count as "not yet"."""
    return wait_until(what, check, timeout=timeout, every=every, expected=NOT_YET)


class Site:
    """One stack of the lane: its engine, the config every `up` repeats, and the hosts it runs on."""

    def __init__(self, engine: Engine, nodes: dict[str, Node], config: dict[str, Any]) -> None:
        self.engine, self.nodes, self.config = engine, nodes, config
        # Each user's token, the admin's under None: the server accepts tokens from its login only.
        self.tokens: dict[str | None, str] = {}
        # Where a test's own part of the engine's log begins.
        self.log_mark = 0

    def up(self, *, refresh: bool | None = None, **changes: Any) -> Result:
        """`pulumi up` with `changes` to the config; `refresh` is its --refresh flag (the project's when unset)."""
        return self.engine.up(self._config(changes), refresh=refresh, secret_keys=SECRET_KEYS)

    def preview(self, **changes: Any) -> Result:
        return self.engine.preview(self._config(changes), secret_keys=SECRET_KEYS)

    def remember(self, **changes: Any) -> None:
        """Make `changes` part of every later run, as an edit of the stack file would."""
        self.config.update(config_keys(changes))

    def _config(self, changes: dict[str, Any]) -> dict[str, Any]:
        return {**self.config, **config_keys(changes)}

    @property
    def name(self) -> str:
        return self.config.get("codenvy-infra:siteName", SITE.site_name)

    def container(self, service: str) -> dict[str, Any]:
        return self.master.inspect(f"{self.name}-{service}")

    @property
    def master(self) -> Node:
        master = self.config.get("codenvy-infra:master", {}).get("name", SITE.master.name)
        return self.nodes[master]


def config_keys(changes: dict[str, Any]) -> dict[str, Any]:
    return {f"codenvy-infra:{key}": value for key, value in changes.items()}


@dataclass(frozen=True)
class Member:
    """A user of the site: only a workspace's owner creates, starts, reads and stops it (che WorkspaceService)."""

    name: str
    password: str
    id: str


def api(
    site: Site, method: str, path: str, body: Any = None, ca: str | None = None, user: Member | None = None
) -> tuple[int, Any]:
    """A call to the site's API through HAProxy over HTTPS, trusting only the site's CA, as `user` or the admin:
    logged in once (codenvy add-node.sh.erb: POST /api/auth/login, then the token), again when the token is
    refused (a new server forgets the old one's: 401 without one, 403 "Provided token … is invalid")."""
    key = user.name if user else None
    if key not in site.tokens:
        site.tokens[key] = _login(site, ca, user)
    status, payload = _call(site, method, path, body, ca, {"Authorization": site.tokens[key]})
    if status == 401 or (status == 403 and b"Provided token" in payload):
        site.tokens[key] = _login(site, ca, user)
        status, payload = _call(site, method, path, body, ca, {"Authorization": site.tokens[key]})
    return status, payload


def _login(site: Site, ca: str | None, user: Member | None) -> str:
    if user is None:
        name, password = "admin", site.engine.checkpoint.outputs.get("adminPassword") or ADMIN_PASSWORD
    else:
        name, password = user.name, user.password
    status, answer = _call(site, "POST", "/auth/login", {"username": name, "password": password}, ca, {})
    if status != 200:
        raise AssertionError(f"login to {site.name} as {name}: HTTP {status}: {answer!r}")
    return answer["value"]


def add_user(site: Site, name: str) -> Member:
    """A new user (che UserService: a name, an e-mail address, a password), made by the admin."""
    password = f"{name}-lane-pw-1"
    body = {"name": name, "email": f"{name}@example.com", "password": password}
    status, created = api(site, "POST", "/user", body)
    assert status == 201, f"creating user {name}: HTTP {status}: {created!r}"
    return Member(name, password, created["id"])


def workspace_config(name: str, image: str, machines: dict[str, int] | None = None) -> dict[str, Any]:
    """A WorkspaceConfigDto: one dev machine from `image` (a dockerimage recipe), or `machines` (name -> MiB,
    the first one the dev machine with the ws-agent) from a compose recipe."""
    machines = machines or {"dev-machine": MACHINE_MB}
    dev = next(iter(machines))
    attributes = {
        machine: {
            "attributes": {"memoryLimitBytes": str(mb * 1024 * 1024)},
            "agents": [WS_AGENT] if machine == dev else [],
        }
        for machine, mb in machines.items()
    }
    if len(machines) == 1:
        recipe: dict[str, Any] = {"type": "dockerimage", "location": image}
    else:
        services = "".join(f"  {machine}:\n    image: {image}\n" for machine in machines)
        recipe = {"type": "compose", "contentType": "application/x-yaml", "content": f"services:\n{services}"}
    return {
        "name": name,
        "defaultEnv": "default",
        "environments": {"default": {"recipe": recipe, "machines": attributes}},
    }


def create_workspace(
    site: Site, owner: Member | None, name: str, image: str = STACK_IMAGE, machines: dict[str, int] | None = None
) -> str:
    """A new workspace of `owner` (the admin's own when None); its id. Nothing is pulled until it starts."""
    namespace = owner.name if owner else "admin"
    status, created = api(site, "POST", f"/workspace?namespace={namespace}", workspace_config(name, image, machines),
                          user=owner)  # fmt: skip
    assert status == 201, f"creating workspace {name}: HTTP {status}: {created!r}"
    return created["id"]


def all_users(site: Site) -> list[dict[str, Any]]:
    """Every user, a page at a time (che AdminUserService: maxItems, skipCount)."""
    users: list[dict[str, Any]] = []
    while True:
        status, page = api(site, "GET", f"/admin/user?maxItems=100&skipCount={len(users)}")
        assert status == 200, f"listing users: HTTP {status}: {page!r}"
        users += page
        if len(page) < 100:
            return users


def start_workspace(site: Site, owner: Member, workspace: str) -> tuple[int, Any]:
    return api(site, "POST", f"/workspace/{workspace}/runtime?environment=default", user=owner)


def stop_workspace(site: Site, owner: Member, workspace: str, snapshot: bool = False) -> tuple[int, Any]:
    return api(site, "DELETE", f"/workspace/{workspace}/runtime?create-snapshot={str(snapshot).lower()}", user=owner)


def push_stack_image(site: Site, source: str, tag: str = "1") -> str:
    """`source` (an image every lane host has) in the site's registry, where che pulls workspace images from."""
    outputs = site.engine.checkpoint.outputs
    target = f"{outputs['registry']}/{STACK_REPOSITORY}:{tag}"
    master = site.master
    master.docker("login", outputs["registry"], "-u", outputs["registryUsername"], "--password-stdin",
                  stdin=outputs["registryPassword"])  # fmt: skip
    master.docker("tag", source, target)
    master.docker("push", target)
    return target


def _call(site: Site, method: str, path: str, body: Any, ca: str | None, headers: dict[str, str]) -> tuple[int, Any]:
    context = ssl.create_default_context(cadata=ca or site.engine.checkpoint.outputs["registryCaCert"])
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    url = f"{site.engine.checkpoint.outputs['url']}/api{path}"
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 - the lane's own https site
    request.add_header("Content-Type", "application/json")
    for name, value in headers.items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=API_TIMEOUT, context=context) as response:  # noqa: S310
            payload = response.read()
            return response.status, json.loads(payload) if payload[:1] in (b"{", b"[") else payload
    except urllib.error.HTTPError as error:
        return error.code, error.read()


class Health(dict):
    """Each service's state ("healthy", "starting", "exited 1", ...); true when every one is healthy, and in a
    wait's timeout message it says which were not."""

    def __bool__(self) -> bool:
        return all(state == "healthy" for state in self.values())

    def __repr__(self) -> str:
        return ", ".join(f"{service}: {state}" for service, state in self.items() if state != "healthy") or "healthy"


def healthy(site: Site, services=MASTER_SERVICES) -> Health:
    states = {service: site.container(service)["State"] for service in services}
    return Health(
        {
            service: state.get("Health", {}).get("Status", "no healthcheck")
            if state["Running"]
            else f"{state['Status']} {state['ExitCode']}"
            for service, state in states.items()
        }
    )
