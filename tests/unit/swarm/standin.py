"""The placement manager stand-in (tests/cluster/placement/swarm/), and small builders of its nodes, engines,
containers and settings for the tests beside this module."""

from __future__ import annotations

import secrets

from tests.cluster.placement import swarm

GIB, MIB = 1024**3, 1024**2


def node(name: str, total_memory: int = 4 * GIB, used_memory: int = 0, health: int = 100, containers: int = 0):
    return swarm.Node(
        id=f"{name}-id", name=name, labels={}, containers=[object()] * containers, images=[],
        used_memory=used_memory, used_cpus=0, total_memory=total_memory, total_cpus=4, health_indicator=health,
    )  # fmt: skip


def config(env: list[str] | None = None, memory: int = 0, labels: dict | None = None, **host_config):
    body = {"Image": "busybox", "Env": env or [], "Labels": labels or {}}
    return swarm.ContainerConfig.build(body, {"Memory": memory, **host_config}, {})


def engine(name: str, memory: int = 2 * GIB, cpus: int = 4, state: str = "Healthy", addr: str = "10.0.0.1:2376"):
    opts = swarm.EngineOpts(refresh_min=5, refresh_max=10, failure_retry=3)
    made = swarm.Engine(addr, 0.05, opts, None)
    made.id, made.name, made.memory, made.cpus, made.state = f"ID:{name}|{made.addr}", name, memory, cpus, state
    made.version = "20.10.24"
    return made


def container(owner, name: str, memory: int = 0, state: dict | None = None):
    made = swarm.Container(owner, {"Id": secrets.token_hex(32), "Names": [f"/{name}"]}, config(memory=memory))
    made.info = {"State": state if state is not None else {"Running": True}}
    owner.containers[made.id] = made
    return made


def settings(**changes):
    values = {
        "hosts": [], "discovery_path": "/nonexistent/node_list", "heartbeat": 10.0, "strategy": "spread",
        "filters": list(swarm.FILTERS), "refresh_min": 5.0, "refresh_max": 10.0, "failure_retry": 3,
    }  # fmt: skip
    return swarm.Settings(**{**values, **changes})


def cluster_of(*engines):
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), settings())
    made.engines = {e.id: e for e in engines}
    return made


def manage(command: str, environ: dict | None = None):
    flags = swarm.parse_flags(swarm.MANAGE_FLAGS, swarm.command_args(command.split()[1:]), environ or {})
    return swarm.manage_settings(flags, environ or {})


CODENVY_QUERY = (
    "forcerm=1&memory=2147483648&memswap=-1&pull=1&cpuperiod=0&cpuquota=0&t=eclipse-che/ws1_dev-machine"
    "&buildargs=%7B%22constraint%3Acom.codenvy.node-state%21%22%3A%22maintenance%22%7D"
)
