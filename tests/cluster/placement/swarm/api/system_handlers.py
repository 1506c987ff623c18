"""The ping, version and info routes (api/handlers.go)."""

from __future__ import annotations

import datetime
import os
import socket
import typing

from ..cluster.image import image_listed
from ..vendored import Filters, version_less
from ..version import GITCOMMIT, GO_VERSION, VERSION
from .exchange import Exchange
from .utils import NOT_IN_STAND_IN, ApiError

if typing.TYPE_CHECKING:
    from ..cluster.swarm.cluster import Cluster

API_VERSION = "1.22"  # api/handlers.go:34


def go_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)


def info_document(cluster: Cluster, status, containers: int, running: int, paused: int, images: int, version: str):
    """types.Info as api/handlers.go:43-112 fills it, every field of the struct present."""
    key = "DriverStatus" if version and version_less(version, "1.22") else "SystemStatus"
    document = {"ID": "", "Containers": containers, "ContainersRunning": running, "ContainersPaused": paused}
    document |= {"ContainersStopped": containers - running - paused, "Images": images, "Driver": ""}
    document |= {"DriverStatus": None, "SystemStatus": None, key: status}
    document |= {"Plugins": {"Volume": None, "Network": None, "Authorization": None, "Log": None}}
    for flag in ("MemoryLimit", "SwapLimit", "KernelMemory", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet"):
        document[flag] = flag != "KernelMemory"
    document |= {"IPv4Forwarding": True, "BridgeNfIptables": True, "BridgeNfIp6tables": True, "Debug": False}
    document |= {"NFd": 0, "OomKillDisable": True, "NGoroutines": 0}
    document |= {"SystemTime": datetime.datetime.now().astimezone().isoformat(timespec="microseconds")}
    document |= {"LoggingDriver": "", "CgroupDriver": "", "NEventsListener": 0, "KernelVersion": os.uname().release}
    document |= {"OperatingSystem": "linux", "OSType": "", "Architecture": go_arch(), "IndexServerAddress": ""}
    document |= {"RegistryConfig": None, "NCPU": cluster.total_cpus(), "MemTotal": cluster.total_memory()}
    document |= {"DockerRootDir": "", "HttpProxy": os.environ.get("http_proxy", "")}
    document |= {"HttpsProxy": os.environ.get("https_proxy", ""), "NoProxy": os.environ.get("no_proxy", "")}
    document |= {"Name": socket.gethostname(), "Labels": None, "ExperimentalBuild": False}
    document |= {"ServerVersion": f"swarm/{VERSION}", "ClusterStore": "", "ClusterAdvertise": "", "Runtimes": None}
    swarm = {"NodeID": "", "NodeAddr": "", "LocalNodeState": "", "ControlAvailable": False, "Error": ""}
    document |= {"DefaultRuntime": "", "Swarm": {**swarm, "RemoteManagers": None}, "LiveRestoreEnabled": False}
    commit = {"ID": "", "Expected": ""}
    document |= {"Isolation": "", "InitBinary": "", "ContainerdCommit": commit, "RuncCommit": commit}
    return document | {"InitCommit": commit, "SecurityOptions": None}


class SystemHandlers(Exchange):
    """api/handlers.go: ping, version, info, and the routes the stand-in does not serve."""

    def ping(self) -> None:
        self.send_bytes(200, b"OK", "text/plain; charset=utf-8")

    def not_implemented(self) -> None:
        raise ApiError("Not supported in clustering mode.", 501)  # api/handlers.go:1530-1532

    def not_in_stand_in(self) -> None:
        raise ApiError(NOT_IN_STAND_IN.format(self.command, self.url_path), 501)

    def get_version(self) -> None:
        """api/handlers.go:116-138."""
        document = {"Version": f"swarm/{VERSION}", "ApiVersion": API_VERSION, "GitCommit": GITCOMMIT}
        document |= {"GoVersion": GO_VERSION, "Os": "linux", "Arch": go_arch(), "KernelVersion": os.uname().release}
        self.send_json(200, document)

    def get_info(self) -> None:
        """api/handlers.go:42-113: cluster totals; the status rows in SystemStatus (DriverStatus below API 1.22)."""
        cluster = self.cluster
        status = cluster.status()
        if self.api_version and version_less(self.api_version, "1.22"):
            status = [[key[1:] if key.startswith(" ") else "\b" + key, value] for key, value in status]
        containers = cluster.containers()
        paused = sum(1 for c in containers if c.state.get("Paused"))
        running = sum(1 for c in containers if not c.state.get("Paused") and c.state.get("Running"))
        images = [i for i, _ in cluster.images() if image_listed(i, Filters({}), False)]
        self.send_json(
            200, info_document(cluster, status, len(containers), running, paused, len(images), self.api_version)
        )
