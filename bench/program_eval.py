#!/usr/bin/env python3
"""Benchmark (not a test): the cost of evaluating the real program under Pulumi mocks, in overlay mode
with N workspace nodes, against a floor: a program with no logic that registers the very same resources
(types, names, component nesting and input values, as constants) under the same mocks. program/floor is
what our code adds on top of the SDK. Each evaluation runs in its own process.

    .venv/bin/python bench/program_eval.py [--nodes 1 10 100 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))


def overlay_config(nodes: int) -> dict:
    """The sim stack, stretched to `nodes` workspace nodes on a /16."""
    template = {"ssh": {"user": "root"}, "ramGb": 4, "cpus": 2}
    workers = [
        {**template, "name": f"ws{i}", "address": f"10.78.{i // 250}.{i % 250 + 2}"} for i in range(1, nodes + 1)
    ]
    return {
        "codenvy-infra:network": {"mode": "overlay"},
        "codenvy-infra:master": {"name": "master", "address": "10.78.255.1", "ssh": {"user": "root"}},
        "codenvy-infra:nodes": workers,
    }


def run_program(nodes: int, structure_file: str | None) -> dict:
    from tests.harness import evaluate

    started = time.perf_counter()
    evaluation = evaluate("sim", overlay_config(nodes))
    seconds = time.perf_counter() - started
    if structure_file:
        registrations = [
            {"type": r.type, "name": r.name, "parent": r.parent, "inputs": r.inputs} for r in evaluation.resources
        ]
        Path(structure_file).write_text(json.dumps(registrations))
    return {"seconds": seconds, "resources": len(evaluation.resources)}


def run_floor(structure_file: str) -> dict:
    """Register the recorded resources with no logic: constants, same types and names, and each component's
    children created inside its constructor, so the SDK sees the same nesting and call depth."""
    import pulumi

    from tests.harness import evaluate_function

    recorded = json.loads(Path(structure_file).read_text())
    children: dict[str, list[dict]] = {}
    for entry in recorded:
        children.setdefault(entry["parent"], []).append(entry)

    class FloorComponent(pulumi.ComponentResource):
        def __init__(self, entry: dict, opts: pulumi.ResourceOptions) -> None:
            super().__init__(entry["type"], entry["name"], None, opts)
            build(children.get(_urn_of(entry), []), self)

    classes = sdk_classes()

    def build(entries: list[dict], parent: pulumi.Resource | None) -> None:
        for entry in entries:
            opts = pulumi.ResourceOptions(parent=parent)
            if entry["type"].startswith("codenvy:infra:"):
                FloorComponent(entry, opts)
            else:
                arguments = {_snake(key): value for key, value in entry["inputs"].items()}
                classes[entry["type"]](entry["name"], opts=opts, **arguments)

    recorded_urns = {_urn_of(entry) for entry in recorded}
    roots = [entry for entry in recorded if entry["parent"] not in recorded_urns]
    # The program's interpreter settings are not logic: the floor runs under them too.
    from components.gc_tuning import tune_garbage_collector

    tune_garbage_collector()
    started = time.perf_counter()
    count = evaluate_function(lambda: build(roots, None))
    return {"seconds": time.perf_counter() - started, "resources": count}


def sdk_classes() -> dict:
    """The provider SDKs' typed classes by type token: the floor registers what the program registers."""
    import pulumi_command
    import pulumi_docker
    import pulumi_random
    import pulumi_tls

    classes = [
        pulumi_docker.Container, pulumi_docker.RemoteImage, pulumi_docker.Network, pulumi_docker.Volume,
        pulumi_docker.Provider, pulumi_command.local.Command, pulumi_command.remote.Command, pulumi_tls.PrivateKey,
        pulumi_tls.SelfSignedCert, pulumi_tls.CertRequest, pulumi_tls.LocallySignedCert, pulumi_random.RandomPassword,
    ]  # fmt: skip
    return {_type_token(cls): cls for cls in classes}


def _type_token(cls) -> str:
    return "pulumi:providers:docker" if cls.__name__ == "Provider" else cls.pulumi_type


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _urn_of(entry: dict) -> str:
    parent = entry["parent"]
    qualified = entry["type"]
    if parent:
        parent_type = parent.split("::")[2]
        qualified = f"{parent_type}${entry['type']}"
    return f"urn:pulumi:sim::codenvy-infra::{qualified}::{entry['name']}"


def child(kind: str, nodes: int, structure_file: str) -> None:
    # The provider SDKs' import time is the SDK's cost, not the program's: load them before timing.
    import pulumi_command  # noqa: F401
    import pulumi_docker  # noqa: F401
    import pulumi_random  # noqa: F401
    import pulumi_tls  # noqa: F401

    result = run_program(nodes, structure_file) if kind == "program" else run_floor(structure_file)
    result["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def measure(kind: str, nodes: int, structure_file: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(nodes), structure_file],
        capture_output=True, text=True, check=True, cwd=PROJECT_DIR,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 10, 100, 1000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest counts")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, nodes, structure_file = args.child
        child(kind, int(nodes), structure_file)
        return
    print(f"{'nodes':>6} {'resources':>9} {'seconds':>8} {'floor_s':>8} {'ratio':>6} {'peak_mb':>8}")
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for nodes in args.nodes:
            structure = str(Path(tmp) / f"structure-{nodes}.json")
            programs = [measure("program", nodes, structure) for _ in range(args.repeat)]
            floors = [measure("floor", nodes, structure) for _ in range(args.repeat)]
            best, floor = min(programs, key=lambda r: r["seconds"]), min(floors, key=lambda r: r["seconds"])
            assert best["resources"] == floor["resources"], "the floor registers what the program registers"
            ratio = best["seconds"] / floor["seconds"]
            peak = max(r["peak_mb"] for r in programs)
            rows[nodes] = (best["seconds"], ratio, peak)
            print(
                f"{nodes:>6} {best['resources']:>9} {best['seconds']:>8.2f} {floor['seconds']:>8.2f} "
                f"{ratio:>6.2f} {peak:>8.0f}",
                flush=True,
            )
    largest = max(rows)
    seconds, ratio, peak = rows[largest]
    if 100 in rows and largest == 1000:
        print(f"growth time(1000)/time(100) = {seconds / rows[100][0]:.2f}")
    print(f"overhead={ratio:.2f} n={largest} seconds={seconds:.1f} peak_mb={peak:.0f}")


if __name__ == "__main__":
    main()
