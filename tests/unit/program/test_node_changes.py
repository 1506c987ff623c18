"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: what adding or
removing a node changes, and how long a converge's longest chain is."""

from __future__ import annotations

import functools
import re

from tests.harness import Evaluation
from tests.unit.program.shipped import node_address, overlay_evaluation, two_node_overlay


def urn_inputs(evaluation: Evaluation) -> dict[str, dict]:
    return {r.urn: r.inputs for r in evaluation.resources}


@functools.cache
def adding_a_node() -> tuple[dict[str, dict], dict[str, dict]]:
    """Every resource's inputs by URN, before and after a third node is added."""
    return urn_inputs(two_node_overlay()), urn_inputs(overlay_evaluation(["ws1", "ws2", "ws3"]))


def test_adding_a_node_keeps_every_resource():
    before, after = adding_a_node()
    assert set(before) <= set(after)


def test_adding_a_node_adds_only_that_nodes_resources():
    before, after = adding_a_node()
    added = set(after) - set(before)
    relay = f"codenvy-relay-{node_address('ws3').replace('.', '-')}"
    assert added and all(re.search(rf"codenvy-ws-ws3|-ws3-docker|{relay}", urn) for urn in added)


def test_adding_a_node_changes_only_the_placement_managers_node_list_commands():
    before, after = adding_a_node()
    changed = {urn.rsplit("::", 1)[-1] for urn in before if before[urn] != after[urn]}
    assert changed == {"codenvy-master-placement-node-list", "codenvy-master-placement-ready"}, "no service"


def test_removing_a_node_removes_only_that_nodes_resources():
    before = {r.urn for r in overlay_evaluation(["ws1", "ws2", "ws3"]).resources}
    after = {r.urn for r in overlay_evaluation(["ws1", "ws3"]).resources}
    removed = before - after
    assert after <= before
    relay = f"codenvy-relay-{node_address('ws2').replace('.', '-')}"
    assert removed and all("ws2" in urn or relay in urn for urn in removed)


def test_no_node_waits_on_another_node():
    evaluation = overlay_evaluation(["ws1", "ws2", "ws3"])
    for resource in evaluation.resources:
        own = resource.name.split("-")[2] if resource.name.startswith("codenvy-ws-") else None
        for dependency in resource.dependencies:
            other = dependency.rsplit("::", 1)[-1]
            if own and other.startswith("codenvy-ws-"):
                assert other.split("-")[2] == own, f"{resource.name} waits on {other}"


def critical_path(evaluation: Evaluation) -> int:
    """The longest chain of resources each waiting on the one before (explicit and input dependencies)."""
    by_urn = {r.urn: r for r in evaluation.resources}
    depth: dict[str, int] = {}

    def chain(urn: str) -> int:
        if urn not in depth:
            waits_on = [d for d in by_urn[urn].dependencies if d in by_urn]
            depth[urn] = 1 + max((chain(d) for d in waits_on), default=0)
        return depth[urn]

    return max(chain(urn) for urn in by_urn)


def test_converge_critical_path_does_not_grow_with_the_number_of_nodes():
    assert critical_path(overlay_evaluation(["ws1", "ws2"])) == critical_path(
        overlay_evaluation([f"ws{i}" for i in range(1, 9)])
    )
