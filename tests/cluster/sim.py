"""The simulated hosts the cluster lane runs on (scripts/sim-cluster; a node is scripts/sim/node.py's Node),
and the stand-in engine wired to them."""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from scripts.sim.node import NOTHING_RUNS, Node, nodes_in
from tests.cluster.images import BUSYBOX_IMAGE, WORKSPACE_IMAGE, build_rootfs, import_images, program_images
from tests.engine.command_provider import CommandProvider
from tests.engine.docker_provider import DockerHost, ProviderError
from tests.engine.engine import Backend, Engine
from tests.harness import PROJECT_DIR, site_config

SIM_CLUSTER = PROJECT_DIR / "scripts" / "sim-cluster"


def sim_cluster(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(SIM_CLUSTER), *args], capture_output=True, text=True, timeout=300)


def start_cluster(count: int, spec: Path) -> list[Node]:
    if sim_cluster("status").stdout.strip() != NOTHING_RUNS:
        raise RuntimeError("a simulated cluster is already running; stop it with `scripts/sim-cluster down`")
    started = sim_cluster("up", "--nodes", str(count), "--json", str(spec))
    if started.returncode != 0:
        raise RuntimeError(started.stderr)
    return nodes_in(spec)


def stop_cluster(*, kill: bool = True) -> None:
    """Down, by default without waiting for containers to stop: nothing on the hosts outlives them."""
    stopped = sim_cluster("down", *(["--kill"] if kill else []))
    if stopped.returncode != 0:
        raise RuntimeError(stopped.stderr)


@contextlib.contextmanager
def lane_cluster(count: int, spec: Path, *upgrade_versions: str) -> Iterator[list[Node]]:
    """`count` simulated hosts, each with the lane's images (the stack file's versions and `upgrade_versions`);
    always torn down."""
    try:
        nodes = start_cluster(count, spec)
        images = lane_images(*upgrade_versions)
        build_rootfs()  # once, before the hosts build on it side by side
        # Each host builds on its own engine: side by side, the engines' work overlaps the others' waits.
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            list(pool.map(lambda node: import_images(node.docker_host, images), nodes))
        yield nodes
    finally:
        stop_cluster()


@contextlib.contextmanager
def benchmark_cluster(count: int, *upgrade_versions: str) -> Iterator[tuple[list[Node], SshAgent]]:
    """A benchmark's simulated hosts, each with the lane's images, and an agent holding their key; always torn
    down."""
    with (
        tempfile.TemporaryDirectory() as tmp,
        lane_cluster(count, Path(tmp) / "nodes.json", *upgrade_versions) as nodes,
    ):
        agent = SshAgent(nodes[0].key_file)
        try:
            yield nodes, agent
        finally:
            agent.stop()


def set_link(node: Node, state: str) -> None:
    """The node's only link to the bridge `up` or `down`: while down nothing reaches the host or leaves it, as
    when its network is partitioned or its power is off (its processes keep running, as after a partition)."""
    subprocess.run(["ip", "link", "set", node.host_link, state], check=True)


class SshAgent:
    """An ssh-agent holding the simulated hosts' key: what pulumi-command authenticates with, besides a
    `privateKey` input (remote/connection.go)."""

    def __init__(self, key_file: str) -> None:
        output = subprocess.run(["ssh-agent", "-s"], capture_output=True, text=True, check=True).stdout
        values = dict(part.split("=", 1) for part in output.replace(";", "\n").split() if "=" in part)
        self.socket, self.pid = values["SSH_AUTH_SOCK"], values["SSH_AGENT_PID"]
        env = {**os.environ, "SSH_AUTH_SOCK": self.socket}
        subprocess.run(["ssh-add", "-q", key_file], env=env, check=True, capture_output=True)

    def stop(self) -> None:
        subprocess.run(["kill", self.pid], check=False, capture_output=True)


def lane_images(*upgrade_versions: str) -> dict[str, str]:
    """What each simulated host gets: the images the sim stack's program pulls, Codenvy's own at its version and
    at `upgrade_versions` too, the busybox probe, and the image the lane's workspace machines run."""
    site = site_config("sim")
    versions = (site.version, *upgrade_versions)
    return {**program_images(site.images, versions), BUSYBOX_IMAGE: "busybox", WORKSPACE_IMAGE: "workspace"}


def sim_worker(node: Node) -> dict[str, Any]:
    """The sim stack's workspace-node settings (SSH, restart helper, capacity) for `node`."""
    template = site_config("sim").nodes[0].model_dump(by_alias=True, exclude_none=True)
    return {**template, "name": node.name, "address": node.address}


def docker_hosts_of(nodes: list[Node]):
    """A docker.Provider's `host` (ssh://user@address:port, as the program sets it) to that node's engine.
    The real provider tunnels through `ssh … docker system dial-stdio`; the lane uses the node's socket."""
    by_address = {node.address: node for node in nodes}

    def resolve(provider_inputs: dict[str, Any]) -> DockerHost:
        address = urlparse(provider_inputs.get("host") or "").hostname
        if address not in by_address:
            raise ProviderError(f"no simulated host answers at {provider_inputs.get('host')!r}")
        return DockerHost(by_address[address].docker_host)

    return resolve


def lane_engine(stack: str, nodes: list[Node], backend: Backend, agent: SshAgent, stack_file: str = "sim") -> Engine:
    """An engine for `stack` (evaluating Pulumi.<stack_file>.yaml) whose providers reach the simulated hosts."""
    commands = CommandProvider(log=lambda line: None, agent_socket=agent.socket, local_cwd=PROJECT_DIR)
    return Engine(stack, backend, docker_hosts_of(nodes), commands, stack_file=stack_file)


LOCAL_DOCKER = "unix:///var/run/docker.sock"


def local_engine(stack: str, node: Node, backend: Backend, workdir: Path) -> Engine:
    """An engine for a stack whose every role is on "this machine" (dev, dr): `node` plays that machine.
    Local Commands run inside it (in `workdir`, where relative paths such as .backups land), and the
    local Docker socket is its engine."""

    def docker_host(provider_inputs: dict[str, Any]) -> DockerHost:
        if (provider_inputs.get("host") or LOCAL_DOCKER) != LOCAL_DOCKER:
            raise ProviderError(f"{provider_inputs.get('host')!r} is not this machine's engine")
        return DockerHost(node.docker_host)

    commands = CommandProvider(log=lambda line: None, local_argv=node.enter_argv(), local_cwd=workdir)
    return Engine(stack, backend, docker_host, commands)
