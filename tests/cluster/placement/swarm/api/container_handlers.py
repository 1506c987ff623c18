"""The container and exec routes (api/handlers.go)."""

from __future__ import annotations

import functools
import ipaddress
import json
import typing

from ..cluster.config import ContainerConfig
from ..cluster.container import full_state_string, state_string
from ..cluster.httpclient import EngineError
from ..cluster.swarm.cluster import NAME_CONFLICT
from ..golang import go_atoi
from ..scheduler.errors import SchedulingError
from ..scheduler.filter.expr import ExprError
from ..scheduler.filter.port import binds_all
from .proxy import Proxying
from .utils import ApiError, bool_value, decode_auth

if typing.TYPE_CHECKING:
    from ..cluster.container import Container
    from ..vendored import Filters


def _is_ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
        return True
    except ValueError:
        return False


def _listed(container: Container, filters: Filters, exited: list[int], every: bool, show_all: bool) -> bool:
    """api/handlers.go:454-531: which containers ps shows."""
    state = container.state
    if (not state.get("Running") or not container.engine.is_healthy()) and not every:
        return False
    if str(container.summary.get("Image", "")).split(":")[0] == "swarm" and not show_all:
        return False
    names = container.names
    if names and not filters.match("name", names[0].removeprefix("/")):
        return False
    if not names and filters.get("name"):
        return False
    labels = container.config.labels if container.config else {}
    if not filters.match("id", container.id) or not filters.match_kv_list("label", labels):
        return False
    if not filters.match("status", state_string(state)) or not filters.match("node", container.engine.name):
        return False
    if filters.include("volume"):
        mounts = container.info.get("Mounts") or []
        if not any(v in (m.get("Name"), m.get("Destination")) for v in filters.get("volume") for m in mounts):
            return False
    if filters.include("network"):
        networks = (container.summary.get("NetworkSettings") or {}).get("Networks") or {}
        wanted = filters.get("network")
        if not any(
            v in networks or any(str((n or {}).get("NetworkID", "")).startswith(v) for n in networks.values())
            for v in wanted
        ):
            return False
    return not exited or any(code == state.get("ExitCode") and not state.get("Running") for code in exited)


def ps_entry(container: Container) -> dict:
    """api/handlers.go:552-580: Status fresh (or "Host Down"), the config's labels, names under /<node>."""
    entry = dict(container.summary)
    entry["Status"] = full_state_string(container.state) if container.engine.is_healthy() else "Host Down"
    entry["Labels"] = container.config.labels if container.config else entry.get("Labels")
    entry["Names"] = [f"/{container.engine.name}{name}" for name in container.names]
    ports = []
    for port in entry.get("Ports") or []:
        port = dict(port)
        if _is_ip(port.get("IP")) and ipaddress.ip_address(port["IP"]).is_unspecified:
            port["IP"] = container.engine.ip
        ports.append(port)
    entry["Ports"] = ports
    return entry


def create_config(body: object) -> ContainerConfig:
    """api/handlers.go:632-668 with cluster/config.go:24-60: the top-level Memory, MemorySwap, CpuShares and Cpuset
    of old clients move into HostConfig; MemorySwappiness defaults to -1."""
    if not isinstance(body, dict):
        raise ApiError("json: cannot unmarshal into Go value of type cluster.OldContainerConfig", 400)
    host_config = body.get("HostConfig") or {}
    if not isinstance(host_config, dict):
        raise ApiError("json: cannot unmarshal into Go value of type container.HostConfig", 400)
    host_config = {"MemorySwappiness": -1, **host_config}
    for key in ("Memory", "MemorySwap", "CpuShares"):
        for where in (body, host_config):
            if where.get(key) is not None and (not isinstance(where[key], int) or isinstance(where[key], bool)):
                raise ApiError(f"json: cannot unmarshal {type(where[key]).__name__} into Go value of type int64", 400)
    for old, new in (
        ("Memory", "Memory"),
        ("MemorySwap", "MemorySwap"),
        ("CpuShares", "CpuShares"),
        ("Cpuset", "CpusetCpus"),
    ):
        if body.get(old) and body[old] != host_config.get(new):
            host_config[new] = body[old]
    config = {
        k: v
        for k, v in body.items()
        if k not in ("HostConfig", "NetworkingConfig", "Memory", "MemorySwap", "CpuShares", "Cpuset")
    }
    return ContainerConfig.build(config, host_config, body.get("NetworkingConfig") or {})


class ContainerHandlers(Proxying):
    """api/handlers.go: the container and exec routes."""

    def get_containers_json(self) -> None:
        """api/handlers.go:389-586."""
        query = self.query
        show_all, before = bool_value(query, "all"), None
        try:
            limit = go_atoi((query.get("limit") or [""])[0])
        except ValueError:
            limit = 0
        if (query.get("before") or [""])[0]:
            before = self.cluster.container(query["before"][0])
            if before is None:
                raise ApiError(f"No such container {query['before'][0]}", 404)
        filters = self._filters(500)
        exited = []
        for value in filters.get("exited"):
            try:
                exited.append(go_atoi(value))
            except ValueError as error:
                raise ApiError(str(error), 500) from None
        show_all = show_all or "exited" in filters.get("status")
        if self.cluster.settings.refresh_on_node_filter:
            for node in filters.get("node"):
                for engine in self.cluster.active_engines():
                    if engine.name == node:
                        engine._quietly(functools.partial(engine.refresh_containers, True))
        if self.cluster.settings.container_name_refresh_filter in filters.get("name"):
            for engine in self.cluster.active_engines():
                engine._quietly(functools.partial(engine.refresh_containers, True))
        every = show_all or before is not None or limit > 0
        candidates = [c for c in self.cluster.containers() if _listed(c, filters, exited, every, show_all)]
        candidates.sort(key=lambda c: str(c.info.get("Created", "")), reverse=True)
        if 0 < limit < len(candidates):
            candidates = candidates[:limit]
        out = []
        for container in candidates:
            if before is not None:
                if container.id == before.id:
                    before = None
                continue
            out.append(ps_entry(container))
        self.send_json(200, out)

    def get_container_json(self) -> None:
        """api/handlers.go:589-624: the engine's inspect with the Node object."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        if not container.engine.is_healthy():
            raise ApiError(f"Container {name} running on unhealthy node {container.engine.name}", 500)
        try:
            inspect = container.engine.call("GET", f"/containers/{container.id}/json")
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        for bindings in ((inspect.get("NetworkSettings") or {}).get("Ports") or {}).values():
            for binding in bindings or []:
                if binds_all({"HostIp": binding.get("HostIp") or ""}) or not _is_ip(binding.get("HostIp")):
                    binding["HostIp"] = container.engine.ip
        document = {}
        for key, value in inspect.items():  # ContainerJSONBase puts Node after LogPath
            document[key] = value
            if key == "LogPath":
                document["Node"] = container.engine.node()
        document.setdefault("Node", container.engine.node())
        self.send_json(200, document)

    def post_containers_create(self) -> None:
        """api/handlers.go:627-687."""
        try:
            body = json.loads(self.read_body() or b"null")
        except ValueError as error:
            raise ApiError(str(error), 400) from None
        config = create_config(body)
        auth = decode_auth(self.headers.get("X-Registry-Auth"))
        try:
            config.validate()
        except ValueError as error:
            raise ApiError(str(error), 500) from None
        name = (self.query.get("name") or [""])[0]
        try:
            container = self.cluster.create_container(config, name, auth)
        except (SchedulingError, EngineError, ExprError) as error:
            raise ApiError(str(error), 409 if str(error).startswith("Conflict") else 500) from None
        self.send_bytes(201, json.dumps({"Id": container.id}, separators=(",", ":")).encode(), "application/json")

    def delete_containers(self) -> None:
        """api/handlers.go:691-710."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"Container {name} not found", 404)
        try:
            container.engine.remove_container(container, bool_value(self.query, "force"), bool_value(self.query, "v"))
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)

    def post_containers_start(self) -> None:
        """api/handlers.go:946-979: an empty body (or null) starts as it was created."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        body = self.read_body()
        host_config = None if len(body) <= 2 or body == b"null" else body
        if host_config is not None:
            try:
                json.loads(host_config)
            except ValueError as error:
                raise ApiError(str(error), 400) from None
        try:
            container.engine.start_container(container, host_config)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)

    def post_containers_exec(self) -> None:
        """api/handlers.go:990-1021: the exec is remembered on the container so its start finds the engine."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        try:
            exec_config = json.loads(self.read_body() or b"null")
        except ValueError as error:
            raise ApiError(str(error), 400) from None
        if not isinstance(exec_config, dict) or not exec_config.get("Cmd"):
            raise ApiError("No exec command specified", 400)
        try:
            created = container.engine.call("POST", f"/containers/{container.id}/exec", body=exec_config)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        container.info.setdefault("ExecIDs", [])
        container.info["ExecIDs"] = [*(container.info["ExecIDs"] or []), created["Id"]]
        self.send_json(201, created)

    def post_exec_start(self) -> None:
        """api/handlers.go:982-987: proxied, or hijacked when the client asks for an upgrade. Swarm then also
        hijacks after the proxied answer (a missing return) and closes the client's connection; here the connection
        is closed without sending the request a second time."""
        if self.headers.get("Connection"):
            self.proxy_hijack()
            return
        self.proxy_container()
        self.close_connection = True

    def proxy_container(self) -> None:
        """api/handlers.go:1202-1223: the name in the path becomes the full ID (its first occurrence)."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        self.proxy(container.engine, path)

    def proxy_container_and_force_refresh(self) -> None:
        """api/handlers.go:1226-1252 (and :1556-1558 for wait, whose headers go out at once)."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        refresh = functools.partial(
            container.engine._quietly, functools.partial(container.engine.refresh_container, container.id, True)
        )
        self.proxy(container.engine, path, callback=lambda response: refresh())

    def proxy_hijack(self) -> None:
        """api/handlers.go:1507-1527."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        self.hijack(container.engine, path)

    def post_rename_container(self) -> None:
        """api/handlers.go:1478-1504 with cluster/swarm/cluster.go:1031-1040."""
        _, container = self.container_from_vars()
        new_name = (self.query.get("name") or [""])[0]
        if not self.cluster.check_name_uniqueness(new_name):
            raise ApiError(NAME_CONFLICT.format(new_name), 409)
        try:
            container.engine.call("POST", f"/containers/{container.id}/rename", query={"name": new_name})
            container.engine.refresh_container(container.id, True)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)
