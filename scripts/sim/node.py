"""One simulated node, defined once: its identity, where it lives on this machine, and how to reach it.

scripts/sim-cluster makes nodes from this, the cluster lane and the benchmark read them back from the JSON it
prints. Standard library only: sim-cluster runs under whatever python3 root has.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STATE = Path(os.environ.get("CODENVY_SIM_STATE", "/var/lib/codenvy-sim"))
KEY_FILE = STATE / "ssh" / "id_ed25519"
MANIFEST = STATE / "cluster.json"
# Installed once for every node: nodes have no systemd, so the sim stack's dockerRestartCommand names this.
RESTART_HELPER = STATE / "bin" / "restart-dockerd"
NODES_DIR = STATE / "nodes"
START_DOCKERD = "start-dockerd"
# What `sim-cluster status` says when no node runs and none was left behind.
NOTHING_RUNS = "sim-cluster: nothing runs"

BRIDGE = "csim0"
SUBNET = "10.77.0"
PREFIX = 24
GATEWAY = f"{SUBNET}.1"
# Node N answers at .10+N, so the gateway and the first addresses stay free.
FIRST_HOST_OCTET = 10
# The namespace, its host-side link and the Docker cgroup of a node all carry its name behind a prefix,
# so `down` finds them after a crash without any record.
NETNS_PREFIX = "csim-"
CGROUP_PREFIX = "codenvy-sim-"
NAME = re.compile(r"node([1-9][0-9]*)")

SSH_PORT = 22
SSH_USER = "root"
SSHD = "/usr/sbin/sshd"
DOCKER_PIDFILE = "/var/run/docker.pid"
NODE_TOOLS = ("bash", "ip", "nsenter", "unshare", "dockerd", "docker", "ssh", "ssh-keygen", "iptables")
# What each node has of its own (its directory's entry → the path it covers); everything else (binaries,
# /tmp, the state directory) is the host's.
PER_NODE_DIRS = {
    "etc-docker": "/etc/docker",
    "etc-codenvy": "/etc/codenvy",
    "var-lib-docker": "/var/lib/docker",
    "root-ssh": "/root/.ssh",
    "var-backups": "/var/backups",
    "codenvy-tools": "/usr/local/lib/codenvy",
    "crontabs": "/var/spool/cron/crontabs",
    # The home of the account a primary makes for its standbys (components/mirror_access.py MIRROR_HOME): the
    # nodes share this machine's /etc/passwd, so the account is one for all, but its keys are each node's.
    "mirror-home": "/var/lib/codenvy-mirror",
    # Where that account's sudoers line goes: each node's own, so none is left in this machine's /etc.
    "sudoers-d": "/etc/sudoers.d",
}
# Files each node has of its own, likewise. /etc/hosts names the node, as a Debian host's does: sudo (the mirror
# account's) resolves the host name, and a name no file knows goes to DNS, which a node waits seconds for.
PER_NODE_FILES = {"hosts": "/etc/hosts"}
SSH_OPTIONS = ("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
               "-o", "BatchMode=yes", "-o", "ConnectTimeout=5")  # fmt: skip
SSH_TIMEOUT = 240
DOCKER_TIMEOUT = 300


class NodeCommandError(RuntimeError):
    """A command run on a node (over ssh or against its engine) failed."""


@dataclass(frozen=True)
class Node:
    """Simulated host number `index`; every other fact about it follows from that number."""

    index: int

    @classmethod
    def named(cls, name: str) -> Node:
        match = NAME.fullmatch(name)
        if match is None:
            raise ValueError(f"{name!r} is not a simulated node's name (node1, node2, …)")
        return cls(int(match.group(1)))

    @classmethod
    def of_namespace(cls, netns: str) -> Node | None:
        """The node a network namespace belongs to, or None for one sim-cluster did not make."""
        if not netns.startswith(NETNS_PREFIX) or NAME.fullmatch(netns.removeprefix(NETNS_PREFIX)) is None:
            return None
        return cls.named(netns.removeprefix(NETNS_PREFIX))

    @classmethod
    def described(cls, entry: dict[str, Any]) -> Node:
        """The node a `sim-cluster up` JSON entry describes; refuses one this machine's layout would not give."""
        node = cls.named(entry["name"])
        if node.description() != entry:
            raise ValueError(f"{entry} is not what sim-cluster describes for {node.name} (state in {STATE})")
        return node

    @property
    def name(self) -> str:
        return f"node{self.index}"

    @property
    def address(self) -> str:
        return f"{SUBNET}.{FIRST_HOST_OCTET + self.index}"

    @property
    def netns(self) -> str:
        return f"{NETNS_PREFIX}{self.name}"

    @property
    def host_link(self) -> str:
        """The host end of the node's veth pair, on the bridge (the node's end is its eth0)."""
        return self.netns

    @property
    def cgroup_parent(self) -> str:
        return f"{CGROUP_PREFIX}{self.name}"

    @property
    def directory(self) -> Path:
        return NODES_DIR / self.name

    @property
    def docker_socket(self) -> Path:
        """A second socket of the node's dockerd, in the host's view, so the host can drive that engine."""
        return self.directory / "docker.sock"

    @property
    def docker_host(self) -> str:
        return f"unix://{self.docker_socket}"

    @property
    def start_dockerd(self) -> Path:
        return self.directory / START_DOCKERD

    @property
    def init_pid_file(self) -> Path:
        return self.directory / "init.pid"

    @property
    def key_file(self) -> str:
        return str(KEY_FILE)

    def description(self) -> dict[str, Any]:
        """The node as `sim-cluster up` prints it (docs/testing.md: name, address, docker_host, ssh)."""
        ssh = {"host": self.address, "port": SSH_PORT, "user": SSH_USER, "key_file": self.key_file}
        return {"name": self.name, "address": self.address, "docker_host": self.docker_host, "ssh": ssh}

    def ssh_argv(self, command: str) -> list[str]:
        return ["ssh", "-i", self.key_file, "-p", str(SSH_PORT), *SSH_OPTIONS, f"{SSH_USER}@{self.address}", command]

    def enter_argv(self) -> tuple[str, ...]:
        """Runs a command inside this node (its network, mount and UTS namespaces), as if on that host."""
        pid = self.init_pid_file.read_text().strip()
        return ("nsenter", "-t", pid, "-n", "-m", "-u", "--")

    def ssh(self, command: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.ssh_argv(command), input=stdin, capture_output=True, text=True, timeout=SSH_TIMEOUT
        )
        if check and result.returncode != 0:
            raise NodeCommandError(f"on {self.name}: {command[:120]!r} failed: {result.stderr.strip()}")
        return result

    def docker(self, *args: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        argv = ["docker", "-H", self.docker_host, *args]
        result = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=DOCKER_TIMEOUT)
        if check and result.returncode != 0:
            raise NodeCommandError(f"docker on {self.name}: {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def inspect(self, container: str) -> dict[str, Any]:
        return json.loads(self.docker("inspect", container).stdout)[0]


def cluster_json(nodes: list[Node]) -> str:
    """What `sim-cluster up` prints and records: {"nodes": [description, …]}."""
    return json.dumps({"nodes": [node.description() for node in nodes]}, indent=2) + "\n"


def nodes_in(cluster_file: Path) -> list[Node]:
    """The nodes a `sim-cluster up` JSON file lists."""
    return [Node.described(entry) for entry in json.loads(cluster_file.read_text())["nodes"]]
