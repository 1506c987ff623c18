"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: each workspace node's
daemon.json."""

from __future__ import annotations

import json

from tests.harness import Evaluation, script_of, script_parameters
from tests.unit.program.shipped import overlay_evaluation, two_node_overlay


def daemon_config(**overrides) -> dict:
    return overlay_evaluation(["ws1"], **overrides).named("codenvy-ws-ws1-daemon-config").inputs


def test_an_unchanged_daemon_config_keeps_its_trigger():
    assert daemon_config()["triggers"] == daemon_config()["triggers"]


def test_a_changed_daemon_config_changes_its_trigger():
    assert daemon_config()["triggers"] != daemon_config(**{"codenvy-infra:logs": {"maxSize": "20m"}})["triggers"]


def node_daemon_json(evaluation: Evaluation, node: str) -> dict:
    return json.loads(script_parameters(script_of(evaluation.named(f"codenvy-ws-{node}-daemon-config")))["DAEMON_JSON"])


def test_the_daemon_config_carries_the_configured_log_size():
    evaluation = overlay_evaluation(["ws1"], **{"codenvy-infra:logs": {"maxSize": "20m"}})
    assert node_daemon_json(evaluation, "ws1")["log-opts"]["max-size"] == "20m"


def test_no_node_daemon_trusts_an_insecure_registry():
    assert "insecure-registries" not in node_daemon_json(two_node_overlay(), "ws1")


def test_nodes_trust_the_registry_ca_at_the_registry_address():
    params = script_parameters(script_of(two_node_overlay().named("codenvy-ws-ws1-registry-ca")))
    assert params["TARGET"] == "/etc/docker/certs.d/10.8.0.1:5000/ca.crt"


def test_nodes_trust_the_sites_own_ca():
    evaluation = two_node_overlay()
    params = script_parameters(script_of(evaluation.named("codenvy-ws-ws1-registry-ca")))
    assert params["CONTENT"] == evaluation.named("codenvy-ca-cert").outputs["certPem"]
