"""What a simulated host is, as far as the program's scripts can change it, and running those scripts again.

Idempotence is measured here, not assumed: every Command's script runs a second time on a converged site,
through the same provider path `pulumi up` uses, and each host's state before and after must be equal, down
to a file rewritten with the same bytes or a container restarted into the same configuration."""

from __future__ import annotations

import hashlib
from pathlib import Path

from scripts.sim.node import PER_NODE_DIRS, Node
from tests.engine.engine import Engine
from tests.engine.rules import COMMAND_TYPES

# Docker's own data moves whenever a container runs; the engine's answers below say what matters of it.
IGNORED_DIRS = frozenset({"var-lib-docker"})
CONTAINER_FACTS = "{{.Name}} {{.Id}} {{.State.Status}} {{.State.StartedAt}} {{.RestartCount}} {{.Image}}"


def host_state(node: Node) -> dict[str, str]:
    """The files of the node's own directories (content, mode and modification time), its engine's objects,
    its swarm membership, its dockerd process and its firewall, each as text that compares."""
    return {
        **_files(node),
        "containers": _containers(node),
        "volumes": node.docker("volume", "ls", "-q").stdout,
        "networks": node.docker("network", "ls", "-q", "--no-trunc").stdout,
        "swarm": node.docker("info", "-f", "{{.Swarm.NodeID}} {{.Swarm.LocalNodeState}}").stdout,
        "dockerd": node.ssh("cat /var/run/docker.pid").stdout,
        # Stateless: rule counters move with every packet.
        "firewall": node.ssh("nft -s list ruleset").stdout,
    }


def _files(node: Node) -> dict[str, str]:
    facts = {}
    for own, target in sorted(PER_NODE_DIRS.items()):
        if own not in IGNORED_DIRS:
            facts |= files_under(node.directory / own, target)
    return facts


def files_under(root: Path, shown_as: str) -> dict[str, str]:
    """Each file below `root`, named as the host sees it (`shown_as` for `root`)."""
    files = sorted(path for path in root.rglob("*") if path.is_file() and not path.is_symlink())
    return {f"{shown_as}/{path.relative_to(root)}": _file_fact(path) for path in files}


def _file_fact(path: Path) -> str:
    status = path.stat()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return f"{oct(status.st_mode)} {status.st_mtime_ns} {digest}"


def _containers(node: Node) -> str:
    ids = node.docker("ps", "-a", "-q", "--no-trunc").stdout.split()
    return node.docker("inspect", "-f", CONTAINER_FACTS, *ids).stdout if ids else ""


def run_every_script_again(engine: Engine) -> list[str]:
    """Runs each Command's create (and its update, where it has one) as the provider would, in the state's
    order; returns what each printed, so a failure names the script."""
    printed = []
    for resource in engine.checkpoint.resources:
        if resource.type not in COMMAND_TYPES:
            continue
        for operation in ("create", "update"):
            if resource.inputs.get(operation):
                stdout, stderr = engine.commands.run(resource.urn, resource.type, resource.inputs, operation, {})
                printed.append(f"{resource.urn.rsplit('::', 1)[-1]} {operation}: {stdout}{stderr}")
    return printed


def changed_between(before: dict[str, dict[str, str]], after: dict[str, dict[str, str]]) -> list[str]:
    """Each host fact that differs, named by host and fact."""
    return [
        f"{host} {fact}: {before[host].get(fact)!r} -> {after[host].get(fact)!r}"
        for host in sorted(before)
        for fact in sorted(set(before[host]) | set(after[host]))
        if before[host].get(fact) != after[host].get(fact)
    ]
