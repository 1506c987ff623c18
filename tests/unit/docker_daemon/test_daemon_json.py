"""The daemon.json the program renders for each host: what it says follows from the config."""

from __future__ import annotations

import json

import pytest

from components.config_loader import load_site_config
from components.docker_daemon import DaemonSettings, render_daemon_json
from tests.harness import evaluate, script_of, script_parameters, site_config, stack_file_config


def overlay_site(**extra: str):
    raw = {
        "codenvy-infra:network": json.dumps({"mode": "overlay"}),
        "codenvy-infra:master": json.dumps({"name": "boss", "address": "10.9.0.1", "ssh": {}}),
        "codenvy-infra:nodes": json.dumps([{"name": "ws1", "address": "10.9.0.2", "ssh": {}, "ramGb": 6, "cpus": 3}]),
        "codenvy-infra:logs": json.dumps({"maxSize": "7m", "maxFile": 4}),
        **extra,
    }
    return load_site_config(raw)


def daemon_json_of(site) -> dict:
    return json.loads(render_daemon_json(DaemonSettings.of(site), site.nodes[0], True))


def test_daemon_json_labels_the_node_and_its_capacity():
    labels = daemon_json_of(overlay_site())["labels"]
    assert {"codenvy.node=ws1", "codenvy.ram-gb=6", "codenvy.cpus=3"} <= set(labels)


def test_daemon_json_limits_logs():
    assert daemon_json_of(overlay_site())["log-opts"] == {"max-size": "7m", "max-file": "4"}


def test_daemon_json_trusts_no_insecure_registry_and_opens_no_api():
    document = daemon_json_of(overlay_site())
    assert "insecure-registries" not in document and "hosts" not in document


def test_daemon_json_without_a_proxy_renders_none():
    assert "proxies" not in daemon_json_of(overlay_site())


def test_daemon_json_mirrors_the_proxy():
    proxy = json.dumps({"httpsProxy": "http://proxy:3128", "noProxy": "10.0.0.0/8"})
    document = daemon_json_of(overlay_site(**{"codenvy-infra:proxy": proxy}))
    assert document["proxies"] == {"https-proxy": "http://proxy:3128", "no-proxy": "10.0.0.0/8"}


def daemon_labels(evaluation, host: str) -> dict[str, str]:
    """The engine labels the program gives `host`'s daemon (daemon.json `labels`, each `key=value`)."""
    command = evaluation.named(f"codenvy-ws-{host}-daemon-config")
    document = json.loads(script_parameters(script_of(command))["DAEMON_JSON"])
    return dict(label.split("=", 1) for label in document["labels"])


@pytest.mark.parametrize("master_hosts_workspaces", [True, False])
def test_each_daemon_says_whether_its_host_runs_workspaces(master_hosts_workspaces):
    """master.hostWorkspaces: the master runs workspaces only when it says so; a node always does."""
    site = site_config("sim")
    master = {**stack_file_config("sim")["codenvy-infra:master"], "hostWorkspaces": master_hosts_workspaces}
    evaluation = evaluate("sim", {"codenvy-infra:master": master})
    said = {host.name: daemon_labels(evaluation, host.name)["codenvy.workspaces"] for host in site.hosts}
    expected = {host.name: host is not site.master or master_hosts_workspaces for host in site.hosts}
    assert said == {name: json.dumps(runs) for name, runs in expected.items()}
