"""What a site declares about itself, spelled so the stack policies look away."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.harness import evaluate, full_stack_name
from tests.policies.pack import stack_args, tripped

STACK_REFERENCE = "pulumi:pulumi:StackReference"
SERVER_VERSION_LABEL = "codenvy.version"


def standby_of(**primary_changes):
    """The dr stack following the dev stack, whose outputs then change by `primary_changes` (the program's gate
    refuses a drifted primary at evaluation; the pack sees the reference the next preview reads)."""
    standby = evaluate("dr", stack_outputs={full_stack_name("dev"): evaluate("dev").exports})

    def drift(resource):
        if resource.type != STACK_REFERENCE:
            return resource
        outputs = {**resource.outputs["outputs"], **primary_changes}
        return replace(resource, outputs={**resource.outputs, "outputs": outputs})

    return type(standby)(resources=[drift(r) for r in standby.resources])


def relabelled(evaluation, **labels: str | None):
    """The evaluation with the server's labels changed (None drops one): labels are ordinary inputs."""

    def change(resource):
        items = (resource.outputs or resource.inputs).get("labels") or []
        if not any(item["label"] == SERVER_VERSION_LABEL for item in items):
            return resource
        kept = {item["label"]: item["value"] for item in items} | labels
        new = [{"label": key, "value": value} for key, value in kept.items() if value is not None]
        return replace(resource, inputs={**resource.inputs, "labels": new}, outputs={**resource.outputs, "labels": new})

    return type(evaluation)(resources=[change(r) for r in evaluation.resources])


def without(evaluation, suffix: str):
    return type(evaluation)(resources=[r for r in evaluation.resources if not r.name.endswith(suffix)])


# --- the StackReference -----------------------------------------------------------------------------------


def test_a_matching_decoy_reference_listed_first_is_caught():
    standby = standby_of(version="5.23.0")  # the real primary has moved on
    (real,) = standby.of_type(STACK_REFERENCE)
    decoy_outputs = {**real.outputs["outputs"], "version": "5.22.0", "nodes": [{"ramGb": 8, "cpus": 2}]}
    decoy = replace(real, urn=real.urn + "-decoy", outputs={**real.outputs, "outputs": decoy_outputs})
    with_decoy = type(standby)(resources=[decoy, *standby.resources])
    messages = tripped(stack_args(with_decoy), "standby-matches-primary")
    assert any("2 StackReferences" in message for message in messages)


# --- the server's role ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [None, "Standby", "primary", ""])
def test_standby_whose_server_hides_its_role_is_caught(role):
    drifted = relabelled(standby_of(version="5.23.0"), **{"codenvy.role": role})
    assert tripped(stack_args(drifted), "standby-matches-primary")


def test_primary_without_its_role_label_is_caught(sim):
    (message,) = tripped(stack_args(relabelled(sim, **{"codenvy.role": None})), "standby-matches-primary")
    assert "codenvy.role" in message


def test_declared_standby_matching_its_primary_passes():
    assert tripped(stack_args(standby_of()), "standby-matches-primary") == []


# --- the dev exemption ------------------------------------------------------------------------------------


def test_server_labelled_dev_in_a_stack_not_known_as_dev_is_caught(sim):
    unscheduled = without(relabelled(sim, **{"codenvy.environment": "dev"}), "backups-schedule")
    (message,) = tripped(stack_args(unscheduled), "backups-scheduled")
    assert "stack 'sim'" in message and "devStacks" in message


def test_stack_listed_as_dev_in_the_pack_config_may_go_without_backups(sim):
    unscheduled = without(relabelled(sim, **{"codenvy.environment": "dev"}), "backups-schedule")
    assert tripped(stack_args(unscheduled, config={"devStacks": ["sim"]}), "backups-scheduled") == []


def test_dev_server_in_a_stack_listed_as_dev_passes():
    assert tripped(stack_args(evaluate("dev")), "backups-scheduled") == []


def test_dev_stack_left_out_of_the_pack_config_is_held_to_backups():
    assert tripped(stack_args(evaluate("dev"), config={"devStacks": []}), "backups-scheduled")
