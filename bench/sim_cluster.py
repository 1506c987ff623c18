#!/usr/bin/env python3
"""Benchmark (not a test): seconds to bring up a simulated cluster and converge it with the sim stack's
program (daemon.json, registry CA, firewall, swarm init, joins, Ready checks, backup tools), then prove
the overlay with a cross-node ping.

    sudo .venv/bin/python bench/sim_cluster.py [--nodes 3 6]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.conftest import missing_prerequisite, start_cluster, stop_cluster
from tests.cluster.images import BUSYBOX_IMAGE, import_images
from tests.cluster.live import LiveMocks, Node
from tests.harness import evaluate, site_config


def stack_overrides(nodes: list[Node]) -> dict:
    """The sim stack file, stretched to however many nodes were started: master on node1, workers after."""
    template = site_config("sim").nodes[0].model_dump(by_alias=True, exclude_none=True)
    workers = [{**template, "name": node.name, "address": node.address} for node in nodes[1:]]
    return {"codenvy-infra:nodes": workers}


def measure(count: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            started = time.monotonic()
            described = start_cluster(count, Path(tmp) / "nodes.json")
            figures["up"] = time.monotonic() - started
            nodes = [Node(n["name"], n["address"], n["docker_host"], n["ssh"]["key_file"]) for n in described]

            started = time.monotonic()
            evaluation = evaluate("sim", stack_overrides(nodes), mocks=LiveMocks(nodes, {}))
            figures["converge"] = time.monotonic() - started

            started = time.monotonic()
            (network,) = [
                n for n in evaluation.of_type("docker:index/network:Network") if n.inputs["driver"] == "overlay"
            ]
            nodes[0].docker("network", "create", "--driver", "overlay", "--attachable", network.inputs["name"])
            source, target = nodes[1], nodes[-1]
            for node in (source, target):
                import_images(node.docker_host)
            target.docker(
                "run", "-d", "--name", "probe", "--network", network.inputs["name"], BUSYBOX_IMAGE, "sleep", "300"
            )
            source.docker("run", "--rm", "--network", network.inputs["name"], BUSYBOX_IMAGE, "ping", "-c", "1", "probe")
            figures["overlay_check"] = time.monotonic() - started
        finally:
            stop_cluster()
    figures["total"] = sum(figures.values())
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 6])
    args = parser.parse_args()
    reason = missing_prerequisite()
    if reason:
        sys.exit(f"bench/sim_cluster.py: {reason}")
    print(f"{'nodes':>5} {'up_s':>7} {'converge_s':>11} {'overlay_check_s':>16} {'total_s':>8}")
    for count in args.nodes:
        f = measure(count)
        print(
            f"{count:>5} {f['up']:>7.1f} {f['converge']:>11.1f} {f['overlay_check']:>16.1f} {f['total']:>8.1f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
