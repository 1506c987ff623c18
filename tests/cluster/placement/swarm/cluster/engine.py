"""One Docker engine: connected, validated, refreshed in a loop, disconnected (cluster/engine.go)."""

from __future__ import annotations

import random
import socket
import threading
import time

from ..golang import GoPanicError, split_host_port
from ..logrus import log
from .engine_cache import DISCONNECTED, HEALTHY, PENDING
from .engine_calls import EngineCalls
from .event_monitor import EngineEvents
from .httpclient import EngineError

SPEC_UPDATE_INTERVAL = 300.0  # cluster/engine.go:913


class Engine(EngineEvents, EngineCalls):
    """cluster/engine.go: one Docker engine, its state, caches (containers, images, networks) and loops."""

    # --- connecting (engine.go:177-269, 503-616)
    def connect(self) -> None:
        host = split_host_port(self.addr)[0]
        try:
            self.ip = socket.gethostbyname(host)
        except OSError:
            raise EngineError(f"lookup {host}: no such host") from None
        self.has_events_monitor = True
        self.update_specs()
        self.start_events()
        try:
            self.refresh_containers(full=True)
            self.refresh_images()
        except EngineError:
            self.stop_events()
            raise
        self._quietly(self.refresh_networks)

    def validation_complete(self) -> None:
        """engine.go:357-366."""
        with self.lock:
            if self.state != PENDING:
                return
            self.state, self.failure_count = HEALTHY, 0
        threading.Thread(target=self.refresh_loop, name=f"refresh {self.addr}", daemon=True).start()

    def disconnect(self) -> None:
        """engine.go:273-293."""
        with self.lock:
            if self.state == DISCONNECTED:
                return
            if not self.has_events_monitor:  # engine.go:283 calls Stop on a nil *EventsMonitor
                raise GoPanicError("runtime error: invalid memory address or nil pointer dereference")
            self.stop.set()
            self.state = DISCONNECTED
        self.stop_events()

    def handle_id_conflict(self, other: str) -> None:
        self.set_err_msg(f"ID duplicated. {self.id} shared by this node {self.addr} and another node {other}")

    # --- refreshing (engine.go:681-959)
    def refresh_loop(self) -> None:
        last_spec = time.time()
        while True:
            backoff = min(max(self.failure_count - self.opts.failure_retry, 0), 1000)
            jitter = random.uniform(0, self.opts.refresh_max - self.opts.refresh_min)  # noqa: S311 - a delay
            wait = self.opts.refresh_min * (1 + backoff) + jitter
            if self.stop.wait(wait):
                return
            if not self.is_healthy() or time.time() - last_spec > SPEC_UPDATE_INTERVAL:
                try:
                    self.update_specs()
                except EngineError as error:
                    log("error", f"Update engine specs failed: {error}", **self._who())
                    continue
                last_spec = time.time()
            try:
                self.refresh_containers(full=False)
            except EngineError:
                log("debug", "Engine refresh failed", **self._who())
                continue
            self._quietly(self.refresh_networks)
            self._quietly(self.refresh_images)
            self.update_network_containers()
