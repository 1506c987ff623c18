"""The files the components render (daemon.json, codenvy.env, haproxy.cfg): what they say follows from
the config."""

from __future__ import annotations

import json

from components.app_server import AppServerSettings, render_codenvy_env
from components.config_loader import load_site_config
from components.docker_daemon import DaemonSettings, render_daemon_json
from components.load_balancer import HAPROXY_CERT_PATH, render_haproxy_cfg
from components.master_layout import SERVER_ALIAS, SERVER_PORT


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


def codenvy_env_of(site) -> dict[str, str]:
    return dict(line.split("=", 1) for line in render_codenvy_env(AppServerSettings.of(site)).splitlines())


def test_codenvy_env_in_overlay_mode_names_the_overlay():
    env = codenvy_env_of(overlay_site())
    assert env["CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"] == "overlay"
    assert env["CODENVY_MACHINE_DOCKER_NETWORK"] == "codenvy-workspaces"


def test_codenvy_env_names_the_registry_on_the_master():
    assert codenvy_env_of(overlay_site())["CODENVY_DOCKER_REGISTRY"] == "10.9.0.1:5000"


def test_codenvy_env_leaves_the_workspace_nodes_out():
    """The text is the server's environment and an upload, both of which replace the server when they
    change; the nodes are written beside it by the server's workspace-nodes command."""
    assert not [value for value in codenvy_env_of(overlay_site()).values() if "10.9.0.2" in value]


def test_codenvy_env_in_bridge_mode():
    env = codenvy_env_of(load_site_config({"codenvy-infra:hostname": "ide.example.org"}))
    assert (env["CODENVY_HOST"], env["CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"]) == ("ide.example.org", "bridge")


def test_codenvy_env_holds_no_secret():
    env = codenvy_env_of(load_site_config({}))
    assert not [key for key in env if "PASSWORD" in key or "SECRET" in key]


def test_haproxy_redirects_http_to_https_when_tls_is_on():
    assert "    http-request redirect scheme https code 301" in render_haproxy_cfg(https=True).splitlines()


def test_haproxy_serves_tls_with_the_uploaded_certificate():
    assert f"    bind :443 ssl crt {HAPROXY_CERT_PATH}" in render_haproxy_cfg(https=True).splitlines()


def test_haproxy_sends_requests_to_the_server():
    server_lines = [
        line.split() for line in render_haproxy_cfg(https=True).splitlines() if line.startswith("    server")
    ]
    assert [words[1:3] for words in server_lines] == [[SERVER_ALIAS, f"{SERVER_ALIAS}:{SERVER_PORT}"]]


def test_haproxy_serves_plain_http_when_tls_is_off():
    cfg = render_haproxy_cfg(https=False)
    assert "redirect" not in cfg and "ssl" not in cfg and "frontend https" not in cfg
