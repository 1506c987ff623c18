"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: the placement
manager's node list."""

from __future__ import annotations

import json

from tests.harness import script_of, script_parameters, site_config


def test_the_placement_manager_lists_every_workspace_host_at_its_relay(stack):
    name, evaluation = stack
    site = site_config(name)
    params = script_parameters(script_of(evaluation.named(f"{site.site_name}-master-placement-node-list")))
    expected = [f"{'codenvy-socat' if host is site.master else host.address}:2376" for host in site.workspace_hosts]
    assert params["NODE_LIST"].split() == expected


def test_the_node_list_declares_the_sites_capacity(stack):
    name, evaluation = stack
    site = site_config(name)
    params = script_parameters(script_of(evaluation.named(f"{site.site_name}-master-placement-node-list")))
    assert json.loads(params["NODE_SET"]) == site.node_set


def test_the_node_list_is_written_once_the_manager_exists(stack):
    name, evaluation = stack
    site = site_config(name)
    manager = evaluation.named(f"{site.site_name}-master-placement-container")
    assert manager.urn in evaluation.named(f"{site.site_name}-master-placement-node-list").dependencies
