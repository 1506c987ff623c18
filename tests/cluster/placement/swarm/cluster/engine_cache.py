"""What swarm knows of one engine and keeps fresh: its API client and health count, its specs,
its containers, images and networks (cluster/engine.go)."""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from ..golang import go_div, go_quote
from ..logrus import log
from ..vendored import version_less, versions_compare
from .config import ContainerConfig
from .container import Container
from .httpclient import API_DIAL_TIMEOUT, EngineError, api_error_text, describe_failure, dial
from .network import Network

DEFAULT_CLIENT_VERSION = "1.31"  # vendor/github.com/docker/docker/api/common.go:24, until the engine's version is known
PENDING, UNHEALTHY, HEALTHY, DISCONNECTED = "Pending", "Unhealthy", "Healthy", "Disconnected"  # engine.go:51-73


@dataclass
class EngineOpts:
    refresh_min: float
    refresh_max: float
    failure_retry: int


def client_version_for(server_version: str) -> str:
    """cluster/engine.go:469-500: the API version swarm speaks to an engine, at most 1.30."""
    version = server_version.split("-")[0]
    steps = (("1.9", "1.20"), ("1.10", "1.21"), ("1.11", "1.22"), ("1.12", "1.23"), ("1.13", "1.24"))
    for bound, api in (*steps, ("1.13.1", "1.25")):
        if version_less(version, bound):
            return api
    if version_less(version, "17.03.1") or versions_compare(version, "1.13.1") == 0:
        return "1.26"
    for bound, api in (("17.04", "1.27"), ("17.05", "1.28"), ("17.06", "1.29")):
        if version_less(version, bound):
            return api
    return "1.30"


class EngineCache:
    """cluster/engine.go: what swarm knows of one engine (state, health, specs, caches) and how it refreshes it."""

    def __init__(self, addr: str, overcommit: float, opts: EngineOpts, tls: ssl.SSLContext | None) -> None:
        self.addr, self.opts, self.tls = addr, opts, tls
        self.id = self.ip = self.name = self.version = ""
        self.cpus = self.memory = 0
        self.labels: dict[str, str] = {}
        self.client_version = DEFAULT_CLIENT_VERSION
        self.state, self.last_error, self.updated_at, self.failure_count = PENDING, "", time.time(), 0
        self.overcommit_ratio = int(overcommit * 100)  # engine.go:160
        self.containers: dict[str, Container] = {}
        self.images: list[dict] = []
        self.networks: dict[str, Network] = {}
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self._events_stop: threading.Event | None = None
        self._events_connection: http.client.HTTPConnection | None = None
        self.has_events_monitor = False  # engine.go:244 makes it only once the engine's address resolved

    # --- calls
    def call(self, method: str, path: str, *, query=None, body=None, headers=None, version=None, stream=False):
        """One call through swarm's engine API client (vendor/.../client/request.go:116-211), its outcome checked
        for health (engine.go:428-453). JSON bodies are sent as JSON."""
        target = f"/v{version or self.client_version}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = dict(headers or {})
        if isinstance(body, dict | list):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif method in ("POST", "PUT") and body is None:
            body, headers["Content-Type"] = b"", "text/plain"
        try:
            connection = http.client.HTTPConnection("engine")
            connection.sock = dial(self.addr, self.tls, API_DIAL_TIMEOUT)
            connection.request(method, target, body=body, headers={"Host": self.addr, **headers})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as error:
            kind, text = describe_failure(error)
            if kind in ("refused", "timeout"):
                failure = EngineError(
                    f"Cannot connect to the Docker daemon at tcp://{self.addr}. Is the docker daemon running?",
                    connection=True,
                )
            else:
                scheme = "https" if self.tls else "http"
                failure = EngineError(f"error during connect: {method.title()} {scheme}://{self.addr}{target}: {text}")
            self.check_connection_err(failure)
            raise failure from None
        if not 200 <= response.status < 400:
            data = response.read()
            connection.close()
            url = f"{'https' if self.tls else 'http'}://{self.addr}{target}"  # request.go:193 prints req.URL
            failure = EngineError(api_error_text(response.status, response.headers, data, url), status=response.status)
            self.check_connection_err(failure)
            raise failure
        self.check_connection_err(None)
        if stream:
            return connection, response
        data = response.read()
        connection.close()
        return json.loads(data) if data.strip() else None

    # --- health (engine.go:310-453)
    def status(self) -> str:
        return self.state

    def is_healthy(self) -> bool:
        return self.state == HEALTHY

    def health_indicator(self) -> int:
        with self.lock:
            if self.state != HEALTHY or self.failure_count >= self.opts.failure_retry:
                return 0
            return 100 - self.failure_count * 100 // self.opts.failure_retry

    def set_err_msg(self, message: str) -> None:
        with self.lock:
            self.last_error, self.updated_at = message.strip(), time.time()

    def check_connection_err(self, error: EngineError | None) -> None:
        """engine.go:428-453: success clears the error and heals; a connection error counts; others change nothing."""
        if error is None:
            self.set_err_msg("")
            with self.lock:
                if self.state == UNHEALTHY:
                    log("info", f"Engine came back to life after {self.failure_count} retries. Hooray!", **self._who())
                    self.state = HEALTHY
                self.failure_count = 0
            return
        if error.connection:
            with self.lock:
                self.failure_count += 1
                if self.state == HEALTHY and self.failure_count >= self.opts.failure_retry:  # engine.go:396-405
                    self.state = UNHEALTHY
                    log(
                        "error",
                        f"Flagging engine as unhealthy. Connect failed {self.failure_count} times",
                        **self._who(),
                    )
            self.set_err_msg(str(error))

    def _who(self) -> dict:
        return {"name": self.name, "id": self.id}

    def time_to_validate(self) -> bool:
        """engine.go:337-354: a pending engine is retried after 2^failures + 30 s without news, or after 4 h."""
        with self.lock:
            if self.state != PENDING:
                return False
            since = time.time() - self.updated_at
            return since > 4 * 3600 or since > 2 ** min(self.failure_count, 20) + 30

    # --- resources (engine.go:1062-1092)
    def used_memory(self) -> int:
        with self.lock:
            return sum(c.config.memory for c in self.containers.values() if c.config)

    def used_cpus(self) -> int:
        with self.lock:
            return sum(c.config.cpu_shares for c in self.containers.values() if c.config)

    def total_memory(self) -> int:
        return self.memory + go_div(self.memory * self.overcommit_ratio, 100)

    def total_cpus(self) -> int:
        return self.cpus + go_div(self.cpus * self.overcommit_ratio, 100)

    def container_list(self) -> list[Container]:
        with self.lock:
            return list(self.containers.values())

    def image_list(self) -> list[dict]:
        with self.lock:
            return list(self.images)

    def network_list(self) -> list[Network]:
        with self.lock:
            return list(self.networks.values())

    def node(self) -> dict:
        """types.ContainerNode (engine.go:456-466): what inspect adds as "Node"."""
        node = {"ID": self.id, "IP": self.ip, "Addr": self.addr, "Name": self.name, "Cpus": self.cpus}
        return node | {"Memory": self.memory, "Labels": dict(self.labels)}

    def update_specs(self) -> None:
        info = self.call("GET", "/info")
        if not info.get("NCPU") or not info.get("MemTotal"):
            raise EngineError(
                f"cannot get resources for this engine, make sure {self.addr} is a Docker Engine, not a Swarm manager"
            )
        version = str((self.call("GET", "/version") or {}).get("Version", ""))
        if version_less(version, "1.8.0"):
            message = f"engine {self.addr} is running an unsupported version of Docker Engine."
            raise EngineError(f"{message} Please upgrade to at least 1.8.0")
        self.version, self.client_version = version, client_version_for(version)
        with self.lock:
            info_id = f"{info.get('ID', '')}|{self.addr}"  # engine.go:540-548
            if not self.id:
                self.id = info_id
            elif self.id != info_id:
                self.state = PENDING
                self.last_error = (
                    f"Engine (ID: {self.id}, Addr: {self.addr}) shows up with another ID:{info_id}. "
                    "Please remove it from cluster, it can be added back."
                )
                raise EngineError(self.last_error)
            self.name, self.cpus, self.memory = str(info.get("Name", "")), int(info["NCPU"]), int(info["MemTotal"])
            self.labels = self._labels(info)

    def _labels(self, info: dict) -> dict[str, str]:
        """engine.go:579-614: four labels from /info, then the daemon's own, which cannot override them."""
        labels, who = {}, f"(ID: {self.id}, Addr: {self.addr})"
        for key, source in (("storagedriver", "Driver"), ("kernelversion", "KernelVersion")):
            if info.get(source):
                labels[key] = str(info[source])
        for key, source in (("operatingsystem", "OperatingSystem"), ("ostype", "OSType")):
            if info.get(source):
                labels[key] = str(info[source])
        for label in info.get("Labels") or []:
            key, equals, value = str(label).partition("=")
            if not equals:
                raise EngineError(f'Engine {who} contains an invalid label ({label}) not formatted as "key=value".')
            if key == "node":
                log(
                    "warn", f'Engine {who} contains a label ({label}) with key of "node" which cannot be used in Swarm.'
                )
            elif key in labels:
                text = f"already contains a label ({labels[key]}) with key ({key}), and Engine's label ({value})"
                log("warn", f"Node {who} {text} cannot override it.")
            else:
                labels[key] = value
        return labels

    @staticmethod
    def _quietly(call) -> None:
        try:
            call()
        except EngineError as error:
            log("debug", str(error))

    def refresh_containers(self, full: bool) -> None:
        """engine.go:776-802: every container, stopped ones too; new (or restarting) ones are inspected."""
        merged: dict[str, Container] = {}
        for summary in self.call("GET", "/containers/json", query={"all": "1"}) or []:
            try:
                self.update_container(summary, merged, full)
            except EngineError as error:
                log(
                    "error",
                    f"Unable to update state of container {go_quote(summary.get('Id', ''))}: {error}",
                    **self._who(),
                )
        with self.lock:
            self.containers = merged

    def refresh_container(self, container_id: str, full: bool) -> Container | None:
        """engine.go:806-840."""
        filters = json.dumps({"id": {container_id: True}})
        found = self.call("GET", "/containers/json", query={"all": "1", "filters": filters}) or []
        if len(found) > 1:
            self.refresh_containers(full)
            return None
        if not found:
            with self.lock:
                self.containers.pop(container_id, None)
            return None
        self.update_container(found[0], self.containers, full)
        with self.lock:
            return self.containers.get(found[0]["Id"])

    def update_container(self, summary: dict, into: dict[str, Container], full: bool) -> None:
        """engine.go:842-905."""
        with self.lock:
            container = self.containers.get(summary["Id"])
        if container is None or container.state.get("Restarting"):
            full = True
        container = container or Container(self)
        if full:
            info = self.call("GET", f"/containers/{summary['Id']}/json")
            container.config = ContainerConfig.from_inspect(info, self.cpus)
            container.info = info
        with self.lock:
            container.summary = summary
            into[summary["Id"]] = container

    def refresh_images(self) -> None:
        images = self.call("GET", "/images/json", query={"all": "1"}) or []
        with self.lock:
            self.images = list(images)

    def refresh_networks(self) -> None:
        networks = self.call("GET", "/networks") or []
        with self.lock:
            self.networks = {n["Id"]: Network(n, self) for n in networks}

    def refresh_network(self, network_id: str) -> None:
        try:
            network = self.call("GET", f"/networks/{network_id}")
        except EngineError as error:
            if "No such network" in str(error):
                with self.lock:
                    self.networks.pop(network_id, None)
            return
        with self.lock:
            self.networks[network_id] = Network(network, self)

    def update_network_containers(self) -> None:
        """engine.go:975-1038: the endpoints of each network, from the containers' list entries."""
        with self.lock:
            for container in self.containers.values():
                for settings in ((container.summary.get("NetworkSettings") or {}).get("Networks") or {}).values():
                    network = self.networks.get(settings.get("NetworkID", ""))
                    if network is None:
                        return
                    names = container.names
                    name = (names[0].split("/")[1] if "/" in names[0] else names[0]) if names else ""
                    v4, v6 = settings.get("IPAddress"), settings.get("GlobalIPv6Address")
                    endpoint = {"Name": name, "EndpointID": settings.get("EndpointID", "")}
                    endpoint |= {"MacAddress": settings.get("MacAddress", "")}
                    endpoint |= {"IPv4Address": f"{v4}/{settings.get('IPPrefixLen', 0)}" if v4 else ""}
                    endpoint |= {"IPv6Address": f"{v6}/{settings.get('GlobalIPv6PrefixLen', 0)}" if v6 else ""}
                    network.resource.setdefault("Containers", {})
                    if network.resource["Containers"] is None:
                        network.resource["Containers"] = {}
                    network.resource["Containers"][container.id] = endpoint
