#!/usr/bin/env python3
"""Benchmark (not a test): seconds to bring up a simulated cluster, import the program's images, converge
it with the sim stack's program through the stand-in engine (daemon.json, registry CA, firewall, swarm,
joins, the master's containers, backup tools), preview it again (empty), prove the overlay with a
cross-node ping, then start W workspaces through the server's API, CONCURRENCY at a time, and report how
long until all run and how the placement manager spread them over the workspace nodes.

    sudo .venv/bin/python bench/sim_cluster.py [--nodes 3 6] [--workspaces 40]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.sim.node import Node
from tests.cluster.conftest import missing_prerequisite
from tests.cluster.images import BUSYBOX_IMAGE, WORKSPACE_IMAGE, import_images
from tests.cluster.sim import SshAgent, lane_engine, lane_images, sim_worker, start_cluster, stop_cluster
from tests.cluster.site_driver import (
    ADMIN_PASSWORD,
    Member,
    Site,
    add_user,
    config_keys,
    create_workspace,
    healthy,
    push_stack_image,
    start_workspace,
    wait_for,
)
from tests.engine.engine import Backend

CONCURRENCY = 8
# Enough for every workspace of the benchmark; only placement decides where they go.
LIMITS = {"defaults": {"ramMb": 1024 * 1024, "workspaces": 1000, "runtimes": 1000}}


def stack_overrides(nodes: list[Node]) -> dict:
    """The sim stack file, stretched to however many nodes were started: master on node1, workers after."""
    return config_keys(
        {"nodes": [sim_worker(node) for node in nodes[1:]], "adminPassword": ADMIN_PASSWORD, "limits": LIMITS}
    )


def start_workspaces(site: Site, nodes: list[Node], count: int) -> dict[str, float]:
    """`count` workspaces started CONCURRENCY at a time, each by its own user: seconds until all run, and the
    most and fewest each workspace node got."""
    wait_for("the master's services healthy", lambda: healthy(site))
    image = push_stack_image(site, WORKSPACE_IMAGE)
    users = [add_user(site, f"bench{index}") for index in range(CONCURRENCY)]
    workspaces = [(users[i % CONCURRENCY], create_workspace(site, users[i % CONCURRENCY], f"bench-{i}", image))
                  for i in range(count)]  # fmt: skip

    def start(job: tuple[Member, str]) -> int:
        return start_workspace(site, *job)[0]

    started = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        statuses = list(pool.map(start, workspaces))
    seconds = time.monotonic() - started
    placed = Counter(
        node.name
        for node in nodes[1:]
        for _ in node.docker("ps", "-q", "--filter", "label=che:workspace:id").stdout.split()
    )
    per_node = [placed.get(node.name, 0) for node in nodes[1:]]
    return {
        "workspaces_s": seconds,
        "started": statuses.count(200),
        "most": max(per_node),
        "fewest": min(per_node),
    }


def measure(count: int, workspaces: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    images = lane_images()
    with tempfile.TemporaryDirectory() as tmp:
        agent = None
        try:
            started = time.monotonic()
            nodes = start_cluster(count, Path(tmp) / "nodes.json")
            figures["up"] = time.monotonic() - started

            started = time.monotonic()
            for node in nodes:
                import_images(node.docker_host, images)
            figures["images"] = time.monotonic() - started

            agent = SshAgent(nodes[0].key_file)
            engine = lane_engine("sim", nodes, Backend(), agent)
            site = Site(engine, {node.name: node for node in nodes}, stack_overrides(nodes))
            started = time.monotonic()
            result = site.up()
            figures["converge"] = time.monotonic() - started

            started = time.monotonic()
            changes = site.preview().changes()
            figures["preview"] = time.monotonic() - started
            figures["changes"] = len(changes)

            started = time.monotonic()
            (network,) = [
                n for n in result.evaluation.of_type("docker:index/network:Network") if n.inputs["driver"] == "overlay"
            ]
            source, target = nodes[1], nodes[-1]
            target.docker(
                "run", "-d", "--name", "probe", "--network", network.inputs["name"], BUSYBOX_IMAGE, "sleep", "300"
            )
            source.docker("run", "--rm", "--network", network.inputs["name"], BUSYBOX_IMAGE, "ping", "-c", "1", "probe")
            figures["overlay_check"] = time.monotonic() - started
            if workspaces:
                figures.update(start_workspaces(site, nodes, workspaces))
        finally:
            if agent is not None:
                agent.stop()
            stop_cluster()
    timed = ("up", "images", "converge", "preview", "overlay_check", "workspaces_s")
    figures["total"] = sum(value for key, value in figures.items() if key in timed)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 6])
    parser.add_argument("--workspaces", type=int, default=0, help="workspaces to start on each cluster (0: none)")
    args = parser.parse_args()
    reason = missing_prerequisite()
    if reason:
        sys.exit(f"bench/sim_cluster.py: {reason}")
    columns = ("up", "images", "converge", "preview", "overlay_check", "total")
    print(f"{'nodes':>5} " + " ".join(f"{column + '_s':>15}" for column in columns) + f" {'changes':>8}")
    for count in args.nodes:
        f = measure(count, args.workspaces)
        print(
            f"{count:>5} " + " ".join(f"{f[column]:>15.1f}" for column in columns) + f" {f['changes']:>8}", flush=True
        )
        if args.workspaces:
            print(
                f"workspaces={args.workspaces} nodes={count - 1} started={f['started']} "
                f"seconds={f['workspaces_s']:.1f} most_per_node={f['most']} fewest_per_node={f['fewest']}",
                flush=True,
            )


if __name__ == "__main__":
    main()
