"""Workspace nodes added, removed and renamed, and a daemon.json change: each touches only what it must."""

from __future__ import annotations

import pytest

from tests.cluster.lifecycle.steps import node_state
from tests.cluster.sim import Node
from tests.cluster.site_driver import MASTER_SERVICES, SITE, api, healthy, wait_for
from tests.engine.engine import EngineError


def test_a_join_that_cannot_reach_the_manager_fails_naming_the_node(join_refused):
    assert "node4" in join_refused


def member_firewalls(steps) -> set[str]:
    """The other members' firewalls: their swarm ports admit exactly the members, so they follow the set."""
    return {step.urn.rsplit("::", 1)[-1] for step in steps if step.urn.endswith("-firewall") and step.kind == "update"}


def placement_of(node: Node) -> tuple[str, ...]:
    """What placing workspaces on `node` adds on the master and on the node: the manager's node list, the wait
    for its engines, and the node's relay (named for its address)."""
    return ("-placement-node-list", "-placement-ready", f"-relay-{node.address.replace('.', '-')}")


def test_adding_a_node_touches_only_that_node(primary, node_added):
    changes = node_added.changes()
    touched = {step.urn.rsplit("::", 1)[-1] for step in changes} - member_firewalls(changes)
    placement = placement_of(primary.nodes["node4"])
    assert touched and all("node4" in name or any(p in name for p in placement) for name in touched), touched


def test_adding_a_node_replaces_nothing(node_added):
    assert [str(step) for step in node_added.changes() if step.kind != "create" and step.kind != "update"] == []


def test_added_node_joins_and_is_ready(primary, node_added):
    status = primary.master.docker("node", "ls", "--filter", "name=node4", "--format", "{{.Status}}").stdout
    assert status.split() == ["Ready"]


def test_removed_node_deletes_run_after_every_create(node_removed):
    kinds = [step.kind for step in node_removed.steps]
    first_delete = kinds.index("delete")
    assert all(kind in ("delete", "delete-replaced") for kind in kinds[first_delete:])


def test_removed_node_is_gone_from_the_swarm(primary, node_removed):
    listing = primary.master.docker("node", "ls", "--format", "{{.Hostname}}").stdout.split()
    assert "node4" not in listing
    assert primary.nodes["node4"].docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "inactive"


def test_removing_a_node_changes_nothing_else(primary, node_removed):
    changes = node_removed.changes()
    changed = {step.urn.rsplit("::", 1)[-1] for step in changes} - member_firewalls(changes)
    placement = placement_of(primary.nodes["node4"])
    assert all("node4" in name or any(p in name for p in placement) for name in changed), changed


def test_a_daemon_json_change_restarts_only_the_daemon(daemon_changed):
    result, _, _ = daemon_changed
    changed = {step.urn.rsplit("::", 1)[-1] for step in result.changes()}
    assert f"{SITE.site_name}-ws-{SITE.master.name}-daemon-config" in changed
    touched_docker = [str(step) for step in result.changes() if step.type.startswith("docker:")]
    assert touched_docker == []


def test_the_same_containers_run_again_after_the_daemon_restart(primary, daemon_changed):
    _, _, containers = daemon_changed
    wait_for("healthy after the daemon restart", lambda: healthy(primary))
    assert {service: primary.container(service)["Id"] for service in MASTER_SERVICES} == containers


def test_data_intact_after_a_daemon_restart(primary, daemon_changed):
    _, before, _ = daemon_changed
    wait_for("healthy", lambda: healthy(primary))
    assert api(primary, "GET", "/stats")[1] == before


def test_a_renamed_node_stays_a_ready_member(primary, node_renamed):
    assert node_state(primary, "node2") == "Ready"


def test_a_renamed_node_keeps_its_firewall(primary, node_renamed):
    assert "codenvy" in primary.nodes["node2"].ssh("nft list tables").stdout


def test_a_renamed_node_renamed_back_stays_a_member_with_its_firewall(primary, node_renamed):
    primary.up()
    assert node_state(primary, "node2") == "Ready"
    assert "codenvy" in primary.nodes["node2"].ssh("nft list tables").stdout


def test_a_new_site_name_is_refused_naming_the_key(primary, node_renamed):
    before = [(r.urn, r.id) for r in primary.engine.checkpoint.resources]
    with pytest.raises(EngineError, match="codenvy-infra:siteName"):
        primary.up(siteName="codenvy2")
    assert [(r.urn, r.id) for r in primary.engine.checkpoint.resources] == before
