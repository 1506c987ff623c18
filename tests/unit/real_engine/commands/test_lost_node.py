"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: a node that is
gone cannot be dialled: its resources leave the state once the manager confirms it lost."""

from __future__ import annotations

import functools
import inspect

import pulumi_command
import pytest

from components.config import ConfigError
from components.host_access import COMMAND_INPUTS
from tests.harness import Evaluation, evaluate, script_of, script_parameters, site_config, stack_file_config
from tests.unit.real_engine.commands.fake_host import FAKE_DOCKER, run

LOST_ADDRESS = stack_file_config("sim")["codenvy-infra:nodes"][0]["address"]


@functools.cache
def lost_node_run() -> Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    return run("sim", {"codenvy-infra:nodes": [{**nodes[0], "lost": True}, nodes[1]]})


LOST_KINDS = ["daemon-config", "registry-ca", "firewall", "swarm-join"]


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_leave_the_state_without_a_provider_delete(kind):
    # Removed from the program later, each is dropped from the state without contacting the host.
    assert lost_node_run().named(f"codenvy-ws-node2-{kind}").options.retain_on_delete


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_ignore_every_input_that_would_run_something(kind):
    ignored = set(lost_node_run().named(f"codenvy-ws-node2-{kind}").options.ignore_changes)
    assert ignored >= {"create", "update", "delete", "connection", "triggers", "stdin"}


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resource_that_never_existed_is_created_without_running_anything(kind):
    assert "create" not in lost_node_run().named(f"codenvy-ws-node2-{kind}").inputs


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_wait_for_the_managers_confirmation(kind):
    lost = lost_node_run()
    assert lost.named("codenvy-ws-node2-lost").urn in lost.named(f"codenvy-ws-node2-{kind}").dependencies


def test_command_inputs_the_lost_nodes_resources_ignore_are_all_of_them():
    declared = set(inspect.signature(pulumi_command.remote.CommandArgs.__init__).parameters) - {"__self__"}
    camel = {"".join(part.title() if i else part for i, part in enumerate(name.split("_"))) for name in declared}
    assert camel == set(COMMAND_INPUTS)


def test_the_manager_confirms_a_lost_node_before_it_is_forgotten():
    lost = lost_node_run()
    check = lost.named("codenvy-ws-node2-lost")
    assert check.inputs["connection"]["host"] == site_config("sim").master.address
    assert script_parameters(script_of(check))["NODE_ADDR"] == LOST_ADDRESS


def test_a_lost_node_is_removed_from_the_swarm_by_the_manager():
    names = {r.name for r in lost_node_run().resources}
    assert "codenvy-ws-node2-membership" not in names, "its delete drains and removes the node on the manager"
    assert "codenvy-ws-node3-membership" in names


def test_a_lost_node_is_no_member_in_the_other_hosts_firewalls():
    rules = script_parameters(script_of(lost_node_run().named("codenvy-ws-node1-firewall")))["RULESET"]
    assert LOST_ADDRESS not in rules


def test_a_lost_node_leaves_the_node_set():
    assert LOST_ADDRESS not in [node["address"] for node in lost_node_run().exports["nodes"]]


@pytest.mark.parametrize(("state", "refused"), [("ready", True), ("down", False)])
def test_the_lost_check_refuses_a_node_that_is_ready(host, state, refused):
    host.fake("docker", FAKE_DOCKER)
    (host.root / "node-ids").write_text("id1\nid2\n")
    (host.root / "nodes").write_text(f"id1 10.77.0.11 ready\nid2 10.77.0.12 {state}\n")
    check = lost_node_run().named("codenvy-ws-node2-lost")
    result = host.run(script_of(check))
    assert (result.returncode == 1) is refused, result.stderr
    if refused:
        assert "unset nodes[].lost" in result.stderr


def test_the_master_cannot_be_lost():
    master = stack_file_config("sim")["codenvy-infra:master"]
    with pytest.raises(ConfigError, match=r"codenvy-infra:master\.lost: the master cannot be marked lost"):
        evaluate("sim", {"codenvy-infra:master": {**master, "lost": True}})
