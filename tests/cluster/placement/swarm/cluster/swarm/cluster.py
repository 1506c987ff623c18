"""The swarm cluster: engines from discovery, pending engines and creates, info rows
(cluster/swarm/cluster.go)."""

from __future__ import annotations

import functools
import http.client
import os
import random
import re
import sys
import threading
import typing
from dataclasses import dataclass

from ...discovery.file import FileDiscovery
from ...golang import GoPanicError, join_host_port, rfc3339
from ...logrus import log
from ...scheduler.errors import SchedulingError
from ...scheduler.filter.expr import ExprError
from ...scheduler.node import Node
from ...vendored import bytes_size, natural_less, random_id, truncate_id
from ..config import ContainerConfig
from ..container import Container, find_container
from ..engine import Engine
from ..engine_cache import EngineOpts
from ..engine_calls import IMAGE_MISSING
from ..httpclient import EngineError
from ..image import image_matches
from ..network import find_network
from .utils import convert_kv_strings_to_map, convert_map_to_kv_strings

if typing.TYPE_CHECKING:
    from ...cli.manage import Settings
    from ...scheduler.scheduler import Scheduler
    from ..network import Network

VALIDATION_INTERVAL = 10.0  # cluster/swarm/cluster.go:443


@dataclass
class PendingContainer:
    """cluster/swarm/cluster.go:31-56: a create in flight, seen by the scheduler and the name check."""

    name: str
    config: ContainerConfig
    engine: Engine

    def to_container(self) -> Container:
        summary = {"Labels": self.config.labels, "Names": [f"/{self.name}"] if self.name else []}
        container = Container(self.engine, summary, self.config)
        container.info = {"HostConfig": {}}
        return container


NAME_CONFLICT = (
    "Conflict: The name {0} is already assigned. You have to delete (or rename) that container to be able to "
    "assign {0} to a container again."
)  # cluster/swarm/cluster.go:199,1034
IMAGE_NOT_FOUND = re.compile(r"image \S* not found|repository \S* not found|repository does not exist")  # :172-174


class Cluster:
    """cluster/swarm/cluster.go: the engines from discovery, pending engines and pending creates."""

    def __init__(self, scheduler: Scheduler, settings: Settings) -> None:
        self.scheduler, self.settings = scheduler, settings
        self.tls = settings.tls.client if settings.tls else None
        self.opts = EngineOpts(settings.refresh_min, settings.refresh_max, settings.failure_retry)
        self.engines: dict[str, Engine] = {}
        self.pending_engines: dict[str, Engine] = {}
        self.pending_containers: dict[str, PendingContainer] = {}
        self.lock = threading.RLock()
        self.current_entries: list[tuple[str, str]] = []

    def start(self, stop: threading.Event) -> None:
        discovery = FileDiscovery(self.settings.discovery_path, self.settings.heartbeat)
        args = (self.on_entries, lambda error: log("error", f"Discovery error: {error}"), stop)
        threading.Thread(target=discovery.watch, args=args, name="discovery", daemon=True).start()
        threading.Thread(target=self.monitor_pending_engines, args=(stop,), name="pending", daemon=True).start()

    # --- engines (cluster.go:297-460)
    def on_entries(self, entries: list[tuple[str, str]]) -> None:
        """cluster.go:414-439: removals first, then additions."""
        added = [e for e in entries if e not in self.current_entries]
        removed = [e for e in self.current_entries if e not in entries]
        self.current_entries = list(entries)
        for entry in removed:
            try:
                self.remove_engine(join_host_port(*entry))
            except GoPanicError as panic:  # a panic in swarm's discovery goroutine ends the process
                print(f"panic: {panic}", file=sys.stderr, flush=True)
                os._exit(2)
        for entry in added:
            self.add_engine(join_host_port(*entry))

    def engine_by_addr(self, addr: str) -> Engine | None:
        with self.lock:
            if addr in self.pending_engines:
                return self.pending_engines[addr]
            return next((e for e in self.engines.values() if e.addr == addr), None)

    def add_engine(self, addr: str) -> None:
        if self.engine_by_addr(addr) is not None:
            return
        engine = Engine(addr, self.settings.overcommit, self.opts, self.tls)
        with self.lock:
            self.pending_engines[addr] = engine
        threading.Thread(target=self.validate_pending_engine, args=(engine,), daemon=True).start()

    def validate_pending_engine(self, engine: Engine) -> bool:
        """cluster.go:348-392."""
        try:
            engine.connect()
        except (EngineError, OSError, ValueError, http.client.HTTPException) as error:
            log("debug", f"Failed to validate pending node: {error}", Addr=engine.addr)
            return False
        with self.lock:
            if engine.addr not in self.pending_engines:
                return False
            old = self.engines.get(engine.id)
            if old is not None:
                if old.addr != engine.addr:
                    log("error", f"ID duplicated. {engine.id} shared by {old.addr} and {engine.addr}")
                    engine.handle_id_conflict(old.addr)
                else:
                    engine.disconnect()
                    del self.pending_engines[engine.addr]
                return False
            del self.pending_engines[engine.addr]
            engine.validation_complete()
            self.engines[engine.id] = engine
        log("info", f"Registered Engine {engine.name} at {engine.addr}")
        return True

    def remove_engine(self, addr: str) -> None:
        """cluster.go:394-411: disconnect, then forget it with its containers."""
        engine = self.engine_by_addr(addr)
        if engine is None:
            return
        engine.disconnect()
        with self.lock:
            if addr in self.pending_engines:
                del self.pending_engines[addr]
            else:
                self.engines.pop(engine.id, None)
        log("info", f"Removed Engine {engine.name}")

    def monitor_pending_engines(self, stop: threading.Event) -> None:
        """cluster.go:442-460."""
        while not stop.wait(VALIDATION_INTERVAL):
            with self.lock:
                pending = list(self.pending_engines.values())
            for engine in pending:
                if engine.time_to_validate():
                    threading.Thread(target=self.validate_pending_engine, args=(engine,), daemon=True).start()

    def active_engines(self) -> list[Engine]:
        """cluster.go:937-945: every validated engine, healthy or not, in no particular order (a Go map)."""
        with self.lock:
            engines = list(self.engines.values())
        random.shuffle(engines)
        return engines

    def all_engines(self) -> list[Engine]:
        with self.lock:
            return [*self.engines.values(), *self.pending_engines.values()]

    # --- views
    def containers(self) -> list[Container]:
        return [c for engine in self.active_engines() for c in engine.container_list()]

    def container(self, id_or_name: str) -> Container | None:
        return find_container(self.containers(), id_or_name) if id_or_name else None

    def images(self) -> list[tuple[dict, Engine]]:
        return [(image, engine) for engine in self.active_engines() for image in engine.image_list()]

    def image(self, id_or_name: str) -> tuple[dict, Engine] | None:
        """cluster.go:475-488."""
        for image, engine in self.images() if id_or_name else []:
            if image_matches(image, id_or_name, True):
                return image, engine
        return None

    def networks(self) -> list[Network]:
        return [n for engine in self.active_engines() for n in engine.network_list()]

    def list_nodes(self) -> list[Node]:
        """cluster.go:902-918: validated engines, each with the creates in flight on it."""
        nodes = []
        for engine in self.active_engines():
            node = Node.of(engine)
            for pending in list(self.pending_containers.values()):
                if pending.engine is engine and node.container(pending.config.swarm_id()) is None:
                    node.add_container(pending.to_container())
            nodes.append(node)
        return nodes

    # --- creating (cluster.go:163-262, 838-864)
    def check_name_uniqueness(self, name: str) -> bool:
        if not name:
            return True
        for container in self.containers():
            if any(existing in (name, "/" + name) for existing in container.names):
                return False
        return all(pending.name != name for pending in self.pending_containers.values())

    def generate_unique_id(self) -> str:
        while True:
            identifier = random_id()
            if self.container(identifier) is None:
                return identifier

    def create_container(self, config: ContainerConfig, name: str, auth: dict | None) -> Container:
        """cluster.go:163-191: one retry with image affinity when the image is missing but somewhere in the
        cluster, then swarm.createretry more."""
        container, error = self._attempt(config, name, False, auth)
        if error is not None:
            retries = 0
            missing = isinstance(error, EngineError) and error.status == IMAGE_MISSING  # client.IsErrImageNotFound
            not_found = IMAGE_NOT_FOUND.search(str(error)) or missing
            if not_found and not config.have_node_constraint() and self.image(config.image) is not None:
                container, error = self._attempt(config, name, True, auth)
                retries += 1
            while retries < self.settings.create_retry and error is not None:
                log("warn", f"Failed to create container: {error}, retrying", Name="Swarm")
                container, error = self._attempt(config, name, False, auth)
                retries += 1
        if error is not None:
            raise error
        return container

    def _attempt(self, config, name, with_image_affinity, auth) -> tuple[Container | None, Exception | None]:
        try:
            return self._create(config, name, with_image_affinity, auth), None
        except (SchedulingError, EngineError, ExprError) as error:
            return None, error

    def _create(self, config: ContainerConfig, name: str, with_image_affinity: bool, auth: dict | None) -> Container:
        with self.scheduler.lock:
            if not self.check_name_uniqueness(name):
                raise SchedulingError(NAME_CONFLICT.format(name))
            swarm_id = config.swarm_id()
            if not swarm_id:
                swarm_id = self.generate_unique_id()
                config.set_swarm_id(swarm_id)
            # cluster.go:209-214: a local-scoped network pins softly to its engine; swarm or global ones do not.
            network = find_network(self.networks(), config.network_mode)
            if network is not None and network.resource.get("Scope") == "local":
                if not config.have_node_constraint():
                    config.add_expression("constraints", "node==~" + network.engine.name)
                config.host_config["NetworkMode"] = network.name
            if with_image_affinity:
                config.add_expression("affinities", "image==" + config.image)
            try:
                nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), config)
            finally:
                if with_image_affinity:
                    config.remove_expression("affinities", "image==" + config.image)
            with self.lock:
                engine = self.engines.get(nodes[0].id)
            if engine is None:
                raise SchedulingError("error creating container")
            self.pending_containers[swarm_id] = PendingContainer(name, config, engine)
        try:
            container = engine.create_container(config, name, True, auth)
            log("debug", f"Scheduling container {name or truncate_id(container.id)} to ", NodeName=engine.name)
            return container
        except EngineError as error:
            log("error", "Failed to create container", NodeName=engine.name, NodeID=engine.id, error=str(error))
            raise
        finally:
            with self.scheduler.lock:
                self.pending_containers.pop(swarm_id, None)

    def build_image(self, context, options: dict, callback) -> None:
        """cluster.go:1042-1085: the build args become the Env of a container configuration (their affinity:,
        constraint:, whitelist: and reschedule: entries leave them) with the memory and CPUs asked for; the
        scheduler picks the engine as for a container, but nothing is reserved for the build. The engine's messages
        go to the callback as (engine name, message, error); then one more with the outcome. The engine's images are
        re-read afterwards, whatever the outcome. Only a scheduling failure is raised."""
        with self.scheduler.lock:
            config, options["BuildArgs"] = build_config(options)
            nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), config)
        with self.lock:
            engine = self.engines.get(nodes[0].id)
        if engine is None:  # c.engines[n.ID] is nil when the engine left meanwhile; engine.Name panics
            raise GoPanicError("runtime error: invalid memory address or nil pointer dereference")
        try:
            engine.build_image(context, options, lambda message: callback(engine.name, message, None))
        except EngineError as error:
            callback(engine.name, {}, error)
        else:
            callback(engine.name, {}, None)
        engine._quietly(engine.refresh_images)

    def random_engine(self) -> Engine:
        """cluster.go:1021-1028: not random, the strategy's first node for an empty configuration."""
        nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), ContainerConfig.build({}, {}, {}))
        with self.lock:
            return self.engines[nodes[0].id]

    # --- info (cluster.go:947-1019; cli/manage.go:51-67)
    def total_memory(self) -> int:
        return sum(e.total_memory() for e in self.active_engines())

    def total_cpus(self) -> int:
        return sum(e.total_cpus() for e in self.active_engines())

    def status(self) -> list[list[str]]:
        rows = [["Role", "primary"], ["Strategy", self.scheduler.strategy], ["Filters", self.scheduler.filter_names()]]
        engines = sorted(self.all_engines(), key=functools.cmp_to_key(_engine_order))
        rows.append(["Nodes", str(len(engines))])
        for engine in engines:
            rows += engine_rows(engine)
        return rows


def _engine_order(left: Engine, right: Engine) -> int:
    return -1 if natural_less(left.name, right.name) else 1 if natural_less(right.name, left.name) else 0


def engine_rows(engine: Engine) -> list[list[str]]:
    """cluster/swarm/cluster.go:976-1016: one engine's rows in info."""
    containers = engine.container_list()
    rows = [[" " + (engine.name or "(unknown)"), engine.addr], ["  └ ID", engine.id], ["  └ Status", engine.status()]]
    if engine.is_healthy():
        paused = sum(1 for c in containers if c.state.get("Paused"))
        running = sum(1 for c in containers if not c.state.get("Paused") and c.state.get("Running"))
        stopped = len(containers) - paused - running
        rows.append(["  └ Containers", f"{len(containers)} ({running} Running, {paused} Paused, {stopped} Stopped)"])
    else:
        rows.append(["  └ Containers", str(len(containers))])
    rows.append(["  └ Reserved CPUs", f"{engine.used_cpus()} / {engine.total_cpus()}"])
    rows.append(["  └ Reserved Memory", f"{bytes_size(engine.used_memory())} / {bytes_size(engine.total_memory())}"])
    rows.append(["  └ Labels", ", ".join(sorted(f"{k}={v}" for k, v in engine.labels.items()))])
    if engine.last_error:
        rows.append(["  └ Error", engine.last_error])
    rows.append(["  └ UpdatedAt", rfc3339(engine.updated_at)])
    rows.append(["  └ ServerVersion", engine.version])
    return rows


def build_config(options: dict) -> tuple[ContainerConfig, dict]:
    """cluster/swarm/cluster.go:1047-1050: the build args as Env and memory and CPUs as resources; affinity:,
    constraint:, reschedule: and whitelist: args become expressions (cluster/config.go:63-144) and the rest, as a map
    again, is what the engine gets."""
    env = convert_map_to_kv_strings(options.get("BuildArgs"))
    config = ContainerConfig.build(
        {"Env": env}, {"CpuShares": options.get("CPUShares", 0), "Memory": options.get("Memory", 0)}, {}
    )
    return config, convert_kv_strings_to_map(config.config.get("Env"))
