"""The stand-in engine's own rules (tests/engine/rules.py), without engines: each as upstream has it."""

from __future__ import annotations

import pytest

from tests.engine.rules import (
    CONTAINER,
    NETWORK,
    REMOTE_IMAGE,
    VOLUME,
    changed_keys,
    deletion_order,
    diff,
    with_container_defaults,
)

REMOTE = "command:remote:Command"
COMMAND = {"create": "bash -c 'echo hi'", "connection": {"host": "10.0.0.1"}}


def test_a_command_with_unchanged_inputs_is_same():
    assert diff(REMOTE, COMMAND, {**COMMAND, "stdout": "hi"}, dict(COMMAND)).kind == "same"


def test_a_changed_command_script_updates_in_place():
    step = diff(REMOTE, COMMAND, COMMAND, {**COMMAND, "create": "bash -c 'echo bye'"})
    assert (step.kind, step.keys) == ("update", ("create",))


def test_a_changed_trigger_replaces_a_command():
    step = diff(REMOTE, {**COMMAND, "triggers": ["a"]}, COMMAND, {**COMMAND, "triggers": ["b"]})
    assert step.kind == "replace"


def test_a_command_replacement_creates_before_it_deletes():
    step = diff(REMOTE, {**COMMAND, "triggers": ["a"]}, COMMAND, {**COMMAND, "triggers": ["b"]})
    assert step.delete_before_replace is False


def test_a_command_diff_reads_old_inputs_not_outputs():
    # The stdout a run produced is not an input: it never makes the next run differ.
    assert diff(REMOTE, COMMAND, {**COMMAND, "stdout": "token"}, dict(COMMAND)).kind == "same"


CONTAINER_INPUTS = {"name": "site-server", "image": "sha256:1", "memory": 512.0, "envs": ["A=1", "B=2"]}
# What the provider stored after create: the configuration with the schema's defaults.
CONTAINER_STATE = with_container_defaults(CONTAINER_INPUTS)


def test_a_container_env_change_replaces_it_deleting_first():
    step = diff(CONTAINER, CONTAINER_INPUTS, CONTAINER_STATE, {**CONTAINER_INPUTS, "envs": ["A=1", "B=3"]})
    assert (step.kind, step.delete_before_replace) == ("replace", True)


def test_a_container_memory_change_updates_in_place():
    step = diff(CONTAINER, CONTAINER_INPUTS, CONTAINER_STATE, {**CONTAINER_INPUTS, "memory": 1024})
    assert (step.kind, step.keys) == ("update", ("memory",))


def test_container_env_order_does_not_matter():
    reordered = {**CONTAINER_INPUTS, "envs": ["B=2", "A=1"]}
    assert diff(CONTAINER, CONTAINER_INPUTS, CONTAINER_STATE, reordered).kind == "same"


def test_memory_swap_the_daemon_doubled_is_a_difference_when_left_out():
    # memory_swap is Optional, not Computed: the 2x the daemon reports differs from an absent input.
    read_back = {**CONTAINER_STATE, "memorySwap": 1024}
    assert diff(CONTAINER, CONTAINER_INPUTS, read_back, dict(CONTAINER_INPUTS)).keys == ("memorySwap",)


def test_a_computed_container_field_left_out_is_no_difference():
    read_back = {**CONTAINER_STATE, "logDriver": "json-file", "user": "root"}
    assert diff(CONTAINER, CONTAINER_INPUTS, read_back, dict(CONTAINER_INPUTS)).kind == "same"


def test_a_stopped_container_read_with_must_run_false_is_started_by_an_update():
    step = diff(CONTAINER, CONTAINER_INPUTS, {**CONTAINER_STATE, "mustRun": False}, dict(CONTAINER_INPUTS))
    assert (step.kind, step.keys) == ("update", ("mustRun",))


def test_ports_read_back_empty_from_a_stopped_container_replace_it():
    inputs = {**CONTAINER_INPUTS, "ports": [{"internal": 443, "external": 443}]}
    step = diff(CONTAINER, inputs, {**with_container_defaults(inputs), "ports": []}, inputs)
    assert (step.kind, step.keys) == ("replace", ("ports",))


def test_ports_compare_with_the_providers_defaults():
    inputs = {**CONTAINER_INPUTS, "ports": [{"internal": 443, "external": 443}]}
    read_back = {**CONTAINER_STATE, "ports": [{"internal": 443, "external": 443, "ip": "0.0.0.0", "protocol": "tcp"}]}  # noqa: S104
    assert diff(CONTAINER, inputs, read_back, inputs).kind == "same"


def test_a_named_network_is_replaced_deleting_first():
    inputs = {"name": "ws", "driver": "overlay"}
    step = diff(NETWORK, inputs, inputs, {**inputs, "driver": "bridge"})
    assert (step.kind, step.delete_before_replace) == ("replace", True)


def test_network_options_the_daemon_added_replace_the_network():
    inputs = {"name": "ws", "driver": "overlay", "options": {"encrypted": "true"}}
    read_back = {**inputs, "options": {"encrypted": "true", "com.docker.network.driver.overlay.vxlanid_list": "4097"}}
    assert diff(NETWORK, inputs, read_back, inputs).kind == "replace"


def test_ignore_changes_hides_a_key_from_the_diff():
    inputs = {"name": "ws", "options": {"encrypted": "true"}}
    read_back = {**inputs, "options": {"encrypted": "true", "vxlanid_list": "4097"}}
    assert diff(NETWORK, inputs, read_back, inputs, ignore_changes=["options"]).kind == "same"


def test_replace_on_changes_turns_an_update_into_a_replacement():
    step = diff(REMOTE, COMMAND, COMMAND, {**COMMAND, "create": "x"}, replace_on_changes=["create"])
    assert step.kind == "replace"


def test_a_volume_is_same_when_only_computed_fields_were_read_back():
    inputs = {"name": "site-fs"}
    assert diff(VOLUME, inputs, {**inputs, "driver": "local", "mountpoint": "/x"}, inputs).kind == "same"


def test_an_image_keep_locally_change_updates_not_replaces():
    inputs = {"name": "postgres:15.8", "keepLocally": True}
    assert diff(REMOTE_IMAGE, inputs, inputs, {**inputs, "keepLocally": False}).kind == "update"


@pytest.mark.parametrize(("old", "new"), [({"a": 5.0}, {"a": 5}), ({"a": []}, {}), ({"a": None}, {"a": ""})])
def test_values_compare_by_meaning(old, new):
    assert changed_keys(old, new) == ()


def test_dependents_are_deleted_before_what_they_depend_on():
    snapshot = ["provider", "network", "container", "command"]
    edges = {"container": ["network", "provider"], "command": ["container"], "network": ["provider"]}
    order = deletion_order(snapshot, edges, {"network", "container", "command"})
    assert order.index("command") < order.index("container") < order.index("network")


def test_deletion_follows_edges_even_against_snapshot_order():
    order = deletion_order(["b", "a"], {"b": ["a"]}, {"a", "b"})
    assert order == ["b", "a"]
