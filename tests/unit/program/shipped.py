"""The shipped stack files evaluated under Pulumi mocks, and what the program tests read of them."""

from __future__ import annotations

import functools

from tests.harness import Evaluation, evaluate

NETWORK = "docker:index/network:Network"


COMMANDS = ("command:local:Command", "command:remote:Command")


@functools.cache
def shipped(stack: str) -> Evaluation:
    """A shipped stack file as it is, evaluated once for the tests that only read it."""
    return evaluate(stack)


def commands(evaluation: Evaluation):
    return [r for r in evaluation.resources if r.type in COMMANDS]


def node_address(name: str) -> str:
    """Each test node's own address, whatever nodes are listed with it: ws1 at 10.8.0.2, ws2 at .3, ..."""
    return f"10.8.0.{int(name.removeprefix('ws')) + 1}"


def overlay_evaluation(node_names: list[str], **overrides) -> Evaluation:
    nodes = [
        {"name": n, "address": node_address(n), "ssh": {"user": "root"}, "ramGb": 4, "cpus": 2} for n in node_names
    ]
    return evaluate(
        "dev",
        {
            "codenvy-infra:network": {"mode": "overlay", "encrypted": True},
            "codenvy-infra:master": {"name": "boss", "address": "10.8.0.1", "ssh": {"user": "root"}},
            "codenvy-infra:nodes": nodes,
            **overrides,
        },
    )


@functools.cache
def two_node_overlay() -> Evaluation:
    return overlay_evaluation(["ws1", "ws2"])
