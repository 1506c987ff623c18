"""An engine's events and what each refreshes (cluster/event_monitor.go, cluster/engine.go)."""

from __future__ import annotations

import contextlib
import functools
import http.client
import json
import socket
import threading

from ..logrus import log
from .engine_cache import EngineCache
from .httpclient import API_DIAL_TIMEOUT, EngineError, dial

FULL_REFRESH_EVENTS = {"die", "kill", "oom", "pause", "start", "restart", "stop", "unpause", "rename", "update"}
FULL_REFRESH_EVENTS |= {"health_status"}  # engine.go:1413
QUIET_EVENTS = {"top", "resize", "export", "exec_create", "exec_start", "exec_detach", "attach", "detach"}
QUIET_EVENTS |= {"extract-to-dir", "copy", "archive-path"}  # engine.go:1415


class EngineEvents(EngineCache):
    """An engine's event stream (engine.go:212-238, 1392-1462; cluster/event_monitor.go), part of Engine."""

    def start_events(self) -> None:
        stop = threading.Event()
        self._events_stop = stop
        threading.Thread(target=self._events, args=(stop,), name=f"events {self.addr}", daemon=True).start()

    def stop_events(self) -> None:
        if self._events_stop is not None:
            self._events_stop.set()
        connection = self._events_connection
        if connection is not None and connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    def _events(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connection, response = self._open_events()
                try:
                    self._read_events(response, stop)
                finally:
                    connection.close()
                error = "EOF"
            except (EngineError, OSError, http.client.HTTPException, ValueError) as failure:
                error = str(failure)
            if stop.is_set():
                return
            log("error", "error monitoring events, will restart", error=error, **self._who())
            stop.wait(min(self.failure_count + 1, 10))

    def _open_events(self):
        """Events are read without touching the failure count (engine.go:213-238 uses the client directly)."""
        connection = http.client.HTTPConnection("engine")
        connection.sock = dial(self.addr, self.tls, API_DIAL_TIMEOUT)
        self._events_connection = connection
        connection.request("GET", f"/v{self.client_version}/events", headers={"Host": self.addr})
        response = connection.getresponse()
        if response.status != 200:
            connection.close()
            raise EngineError(f"events: {response.status}")
        return connection, response

    def _read_events(self, response, stop: threading.Event) -> None:
        pending = b""
        while not stop.is_set():
            data = response.read1(65536)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    self._quietly(functools.partial(self.handle_event, json.loads(line)))

    def handle_event(self, message: dict) -> None:
        """engine.go:1392-1449: what each engine event refreshes."""
        kind, action = message.get("Type", ""), str(message.get("Action", ""))
        actor = (message.get("Actor") or {}).get("ID", "")
        if kind == "network":
            self.refresh_network(actor)
        elif kind == "image":
            self.refresh_images()
        elif kind == "daemon" and action == "reload":
            self.update_specs()
        elif kind == "container":
            action = "health_status" if action.startswith("health_status") else action
            container_id = message.get("id") or actor
            if action == "commit":
                self.refresh_images()
            elif action in FULL_REFRESH_EVENTS:
                self.refresh_container(container_id, True)
            elif action not in QUIET_EVENTS:
                self.refresh_container(container_id, False)
