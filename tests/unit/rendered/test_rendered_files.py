"""The files the components render (daemon.json, haproxy.cfg): what they say follows from the config. The
server's renderings are held against upstream in test_server_contract.py."""

from __future__ import annotations

import json
import re

import pytest

from components.config_loader import load_site_config
from components.docker_daemon import DaemonSettings, render_daemon_json
from components.load_balancer import AGENTS_PATH, HAPROXY_CERT_PATH, render_haproxy_cfg
from components.master_layout import AGENTS_ALIAS, AGENTS_PORT, SERVER_ALIAS, SERVER_PORT
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


def frontend(cfg: str, name: str) -> list[str]:
    """The lines of one frontend section, stripped."""
    section = cfg.split(f"frontend {name}\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in section.splitlines()]


def test_haproxy_redirects_http_to_https_when_tls_is_on():
    assert any(
        line.startswith("http-request redirect scheme https") for line in frontend(render_haproxy_cfg(True), "http")
    )


def test_haproxy_serves_agents_over_plain_http_without_the_redirect():
    """Upstream's haproxy.cfg.erb: workspaces fetch agents over HTTP even on an HTTPS site."""
    lines = frontend(render_haproxy_cfg(https=True), "http")
    assert f"acl agent_binaries path_beg {AGENTS_PATH}" in lines
    assert "http-request redirect scheme https code 301 unless agent_binaries" in lines


@pytest.mark.parametrize(("https", "name"), [(True, "https"), (False, "http")])
def test_haproxy_sends_agent_binaries_to_the_agents_service(https, name):
    assert "use_backend agents if agent_binaries" in frontend(render_haproxy_cfg(https), name)


def test_haproxy_serves_tls_with_the_uploaded_certificate():
    assert f"    bind :443 ssl crt {HAPROXY_CERT_PATH}" in render_haproxy_cfg(https=True).splitlines()


def backend_servers(cfg: str) -> dict[str, list[str]]:
    """Backend name -> its `server NAME ADDRESS` pairs."""
    servers: dict[str, list[str]] = {}
    for section in cfg.split("\n\n"):
        lines = section.splitlines()
        if lines and lines[0].startswith("backend "):
            servers[lines[0].split()[1]] = [
                " ".join(line.split()[1:3]) for line in lines if line.startswith("    server")
            ]
    return servers


def test_haproxy_sends_requests_to_the_server():
    assert backend_servers(render_haproxy_cfg(https=True))["codenvy"] == [
        f"{SERVER_ALIAS} {SERVER_ALIAS}:{SERVER_PORT}"
    ]


def test_haproxy_finds_the_agents_service_by_its_alias():
    servers = backend_servers(render_haproxy_cfg(https=True))
    assert servers["agents"] == [f"{AGENTS_ALIAS} {AGENTS_ALIAS}:{AGENTS_PORT}"]


def test_haproxy_serves_plain_http_when_tls_is_off():
    cfg = render_haproxy_cfg(https=False)
    assert "redirect" not in cfg and "ssl" not in cfg and "frontend https" not in cfg


# HAProxy's time units (configuration.txt, "2.5. Time format"); a bare number is milliseconds.
HAPROXY_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def defaults_timeouts_ms(cfg: str) -> dict[str, float]:
    """The `defaults` section's timeouts, by name, in milliseconds."""
    section = cfg.split("\ndefaults\n", 1)[1].split("\n\n", 1)[0]
    timeouts = {}
    for words in (line.split() for line in section.splitlines()):
        if words[:1] == ["timeout"]:
            number, unit = re.fullmatch(r"(\d+)([a-z]*)", words[2]).groups()
            timeouts[words[1]] = int(number) * HAPROXY_UNITS_MS[unit or "ms"]
    return timeouts


@pytest.mark.parametrize("https", [True, False])
def test_haproxy_keeps_an_idle_ide_websocket_open_for_an_hour(https):
    """Upstream's haproxy.cfg.erb gives websockets, which send no ping frames, an hour idle. Once a connection
    is a tunnel, HAProxy applies `timeout tunnel` instead of the client and server timeouts, and the client or
    the server one, whichever ends first, when it is not set (configuration.txt, "timeout tunnel")."""
    timeouts = defaults_timeouts_ms(render_haproxy_cfg(https))
    idle = timeouts.get("tunnel", min(timeouts["client"], timeouts["server"]))
    assert idle >= HAPROXY_UNITS_MS["h"]
