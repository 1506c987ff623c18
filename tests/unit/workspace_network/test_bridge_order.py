"""Bridge mode on a master whose Docker the program manages: the bridge comes after the daemon's own settings."""

from __future__ import annotations

from tests.harness import evaluate, stack_file_config


def bridge_on_a_managed_master():
    master = stack_file_config("sim")["codenvy-infra:master"]
    return evaluate(
        "sim",
        {
            "codenvy-infra:network": {"mode": "bridge"},
            "codenvy-infra:nodes": [],
            "codenvy-infra:master": {**master, "hostWorkspaces": True},
        },
    )


def test_the_workspace_bridge_is_created_after_the_masters_daemon_is_configured():
    # A network takes its subnet and options from the daemon as it is when the network is made: one made before
    # daemon.json is applied keeps the old daemon's settings until it is made again.
    evaluation = bridge_on_a_managed_master()
    bridge = evaluation.named("codenvy-network-bridge")
    before = {urn.rsplit("::", 1)[-1] for urn in evaluation.waits_for(bridge.urn)}
    assert any(name.endswith("-daemon-config") for name in before), sorted(before)
