"""A re-run of `pulumi up` with unchanged config must change nothing, so every process must register the same
inputs, whatever order its string hashing gives sets and dicts. The program is evaluated in two processes
with different PYTHONHASHSEED values (this module is also what each of them runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from tests.harness import PROJECT_DIR, STACKS, evaluate

# Seeds under which a set of the sim stack's three host addresses iterates in different orders: with the
# firewall's member set left unsorted, the firewall Commands' inputs differ between the two processes.
HASH_SEEDS = ("1", "2")


def registered(stack: str) -> dict[str, Any]:
    """What the engine would receive for `stack`: each resource's inputs, provider and dependencies by
    URN (the order resources register in is not part of it), and the stack's outputs."""
    evaluation = evaluate(stack)
    resources = {
        r.urn: {"inputs": r.inputs, "provider": r.provider, "dependencies": sorted(r.dependencies)}
        for r in evaluation.resources
    }
    return {"resources": resources, "exports": evaluation.exports}


def print_registered(stacks: list[str]) -> None:
    print(json.dumps({stack: registered(stack) for stack in stacks}, sort_keys=True))


@pytest.fixture(scope="module")
def runs() -> list[dict[str, Any]]:
    """Every shipped stack evaluated in one fresh process per hash seed, the processes side by side."""
    command = [sys.executable, "-m", "tests.unit.program.test_determinism", *STACKS]
    processes = [
        subprocess.Popen(
            command,
            cwd=PROJECT_DIR,
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in HASH_SEEDS
    ]
    results = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
        results.append(json.loads(stdout))
    return results


def differing(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    return sorted(key for key in first.keys() | second.keys() if first.get(key) != second.get(key))


@pytest.mark.parametrize("stack", STACKS)
def test_every_process_registers_the_same_resources_with_the_same_inputs(runs, stack):
    first, second = (run[stack]["resources"] for run in runs)
    assert differing(first, second) == []


@pytest.mark.parametrize("stack", STACKS)
def test_every_process_exports_the_same_outputs(runs, stack):
    first, second = (run[stack]["exports"] for run in runs)
    assert differing(first, second) == []


if __name__ == "__main__":
    print_registered(sys.argv[1:])
