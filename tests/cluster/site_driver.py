"""Driving one site of the lane: its stack's config repeated on every run, its hosts, its API over HTTPS
with the site CA, and waiting for what converges on its own time."""

from __future__ import annotations

import http.client
import json
import ssl
import subprocess
import urllib.error
import urllib.request
from typing import Any

from scripts.sim.node import NodeCommandError
from scripts.sim.waiting import wait_until
from tests.cluster.sim import Node
from tests.engine.engine import Engine, Result
from tests.harness import site_config

SITE = site_config("sim")
ADMIN_PASSWORD = "lane-admin-password-7f3a9c"  # noqa: S105 - a throwaway site's
SECRET_KEYS = ("codenvy-infra:adminPassword",)
MASTER_SERVICES = ("postgres", "server", "haproxy", "registry")
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
        self.token: str | None = None

    def up(self, **changes: Any) -> Result:
        return self.engine.up(self._config(changes), secret_keys=SECRET_KEYS)

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


def api(site: Site, method: str, path: str, body: Any = None, ca: str | None = None) -> tuple[int, Any]:
    """A call to the site's API through HAProxy over HTTPS, trusting only the site's CA, as the admin: logged
    in once (codenvy add-node.sh.erb: POST /api/auth/login, then the token), again when the token is refused
    (a new server forgets the old one's)."""
    if site.token is None:
        site.token = _login(site, ca)
    status, payload = _call(site, method, path, body, ca, {"Authorization": site.token})
    if status == 401:
        site.token = _login(site, ca)
        status, payload = _call(site, method, path, body, ca, {"Authorization": site.token})
    return status, payload


def _login(site: Site, ca: str | None) -> str:
    password = site.engine.checkpoint.outputs.get("adminPassword") or ADMIN_PASSWORD
    status, answer = _call(site, "POST", "/auth/login", {"username": "admin", "password": password}, ca, {})
    if status != 200:
        raise AssertionError(f"login to {site.name} as admin: HTTP {status}: {answer!r}")
    return answer["value"]


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


def healthy(site: Site, services=MASTER_SERVICES) -> bool:
    states = {service: site.container(service)["State"] for service in services}
    return all(state["Running"] and state.get("Health", {}).get("Status") == "healthy" for state in states.values())
