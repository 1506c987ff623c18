#!/usr/bin/env python3
"""Benchmark (not a test): seconds to bring up a simulated cluster, import the program's images, converge
it with the sim stack's program through the stand-in engine (daemon.json, registry CA, firewall, swarm,
joins, the master's containers, backup tools), preview it again (empty), then prove the overlay with a
cross-node ping.

    sudo .venv/bin/python bench/sim_cluster.py [--nodes 3 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.sim.node import Node
from tests.cluster.conftest import missing_prerequisite
from tests.cluster.images import BUSYBOX_IMAGE, import_images
from tests.cluster.sim import SshAgent, lane_engine, lane_images, sim_worker, start_cluster, stop_cluster
from tests.engine.engine import Backend


def stack_overrides(nodes: list[Node]) -> dict:
    """The sim stack file, stretched to however many nodes were started: master on node1, workers after."""
    return {"codenvy-infra:nodes": [sim_worker(node) for node in nodes[1:]]}


def measure(count: int) -> dict[str, float]:
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
            started = time.monotonic()
            result = engine.up(stack_overrides(nodes))
            figures["converge"] = time.monotonic() - started

            started = time.monotonic()
            changes = engine.preview(stack_overrides(nodes)).changes()
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
        finally:
            if agent is not None:
                agent.stop()
            stop_cluster()
    figures["total"] = sum(value for key, value in figures.items() if key != "changes")
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 6])
    args = parser.parse_args()
    reason = missing_prerequisite()
    if reason:
        sys.exit(f"bench/sim_cluster.py: {reason}")
    columns = ("up", "images", "converge", "preview", "overlay_check", "total")
    print(f"{'nodes':>5} " + " ".join(f"{column + '_s':>15}" for column in columns) + f" {'changes':>8}")
    for count in args.nodes:
        f = measure(count)
        print(
            f"{count:>5} " + " ".join(f"{f[column]:>15.1f}" for column in columns) + f" {f['changes']:>8}", flush=True
        )


if __name__ == "__main__":
    main()
