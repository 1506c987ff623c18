"""What a simulated host is, as far as the program's scripts can change it, and running those scripts again.

Idempotence is measured here, not assumed: every Command's script runs a second time on a converged site,
through the same provider path `pulumi up` uses, and each host's state before and after must be equal, down
to a file of the host's own directories rewritten with the same bytes or a container restarted into the
same configuration. Docker's data root is read through the engine only (its objects, not their files)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
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
        "networks": _networks(node),
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
    """Each file and directory below `root`, named as the host sees it (`shown_as` for `root`)."""
    paths = sorted(path for path in root.rglob("*") if not path.is_symlink())
    return {f"{shown_as}/{path.relative_to(root)}": _path_fact(path) for path in paths}


def _path_fact(path: Path) -> str:
    status = path.stat()
    owner = f"{oct(status.st_mode)} {status.st_uid}:{status.st_gid}"
    if path.is_dir():
        return owner
    return f"{owner} {status.st_mtime_ns} {hashlib.sha256(path.read_bytes()).hexdigest()}"


def _networks(node: Node) -> str:
    """The engine's own networks, and the swarm's where the node is a manager: a worker lists a swarm
    network only while a container of its uses it, and drops it some time after, on its own."""
    scopes = ["local"]
    if node.docker("info", "-f", "{{.Swarm.ControlAvailable}}").stdout.strip() == "true":
        scopes.append("swarm")
    listed = [node.docker("network", "ls", "-q", "--no-trunc", "--filter", f"scope={scope}").stdout for scope in scopes]
    return "".join(listed)


def _containers(node: Node) -> str:
    ids = node.docker("ps", "-a", "-q", "--no-trunc").stdout.split()
    return node.docker("inspect", "-f", CONTAINER_FACTS, *ids).stdout if ids else ""


# Each host's (or place's) facts, by name.
State = dict[str, dict[str, str]]


def changes_when_run_again(state: Callable[[], State], *engines: Engine) -> tuple[list[str], str]:
    """Each fact of `state` that differs after every script of `engines` ran once more, and what the scripts
    printed to the engines' logs (as their `logging` lets through, so no secret output), to explain them."""
    before = state()
    logged = [len(engine.log) for engine in engines]
    for engine in engines:
        _run_every_script_again(engine)
    after = state()
    printed = [f"{line.urn.rsplit('::', 1)[-1]}: {line.text}" for engine, start in zip(engines, logged, strict=True)
               for line in engine.log[start:]]  # fmt: skip
    changed = [
        f"{host} {fact}: {before[host].get(fact)!r} -> {after[host].get(fact)!r}"
        for host in sorted(before)
        for fact in sorted(set(before[host]) | set(after[host]))
        if before[host].get(fact) != after[host].get(fact)
    ]
    return changed, "\n".join(printed)


def _run_every_script_again(engine: Engine) -> None:
    """Each Command's create (its update too, where it has one), in the state's order, as the provider runs
    it on an update: with the previous outputs in reach."""
    for resource in engine.checkpoint.resources:
        if resource.type in COMMAND_TYPES:
            for operation in ("create", "update"):
                if resource.inputs.get(operation):
                    engine.commands.run(resource.urn, resource.type, resource.inputs, operation, resource.outputs)
