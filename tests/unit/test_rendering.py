"""Rendered files and scripts: what they contain follows from the config, and every script parses."""

from __future__ import annotations

import json
import shlex
import subprocess

import pytest

from components import rendering
from components.config_loader import load_site_config

SCRIPTS = sorted(path.stem for path in rendering.SCRIPTS_DIR.glob("*.sh"))


def overlay_site(**extra: str):
    raw = {
        "codenvy-infra:network": json.dumps({"mode": "overlay"}),
        "codenvy-infra:master": json.dumps({"name": "boss", "address": "10.9.0.1", "ssh": {}}),
        "codenvy-infra:nodes": json.dumps([{"name": "ws1", "address": "10.9.0.2", "ssh": {}, "ramGb": 6, "cpus": 3}]),
        "codenvy-infra:logs": json.dumps({"maxSize": "7m", "maxFile": 4}),
        **extra,
    }
    return load_site_config(raw)


def sample_params(name: str) -> dict[str, str]:
    return {param.lower(): f"{param} with 'quotes',\n$dollars and `ticks`" for param in rendering.script_params(name)}


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_is_strict_and_parses_with_bash(name):
    script = rendering.render_script(name, **sample_params(name))
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    assert "set -euo pipefail" in lines[:4]
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


@pytest.mark.parametrize("name", SCRIPTS)
def test_parameters_survive_quoting_exactly(name):
    params = sample_params(name)
    script = rendering.render_script(name, **params)
    # Keep the script up to its own `# params:` line: the assignments, and none of the work.
    probe = script[: script.index("# params:")]
    probe += "printf '%s\\0' " + " ".join(f'"${key.upper()}"' for key in params) + "\n"
    printed = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout
    assert printed.split("\0")[:-1] == list(params.values())


def test_script_refuses_missing_or_unknown_parameters():
    with pytest.raises(ValueError, match="NODE_NAME"):
        rendering.render_script("swarm_leave")
    with pytest.raises(ValueError, match="BOGUS"):
        rendering.render_script("swarm_leave", node_name="n", bogus="x")


def test_as_command_runs_the_script_through_bash():
    script = rendering.render_script("swarm_join_token", node_name="it's")
    command = rendering.as_command(script)
    assert shlex.split(command) == ["bash", "-c", script]


def test_daemon_json_labels_capacity_and_limits_logs_without_insecure_registries():
    site = overlay_site()
    document = json.loads(rendering.render_daemon_json(site, site.nodes[0], True))
    assert "codenvy.node=ws1" in document["labels"]
    assert "codenvy.ram-gb=6" in document["labels"] and "codenvy.cpus=3" in document["labels"]
    assert document["log-opts"] == {"max-size": "7m", "max-file": "4"}
    assert "insecure-registries" not in document and "hosts" not in document
    assert "proxies" not in document, "no proxy configured, none rendered"


def test_daemon_json_mirrors_the_proxy():
    site = overlay_site(
        **{"codenvy-infra:proxy": json.dumps({"httpsProxy": "http://proxy:3128", "noProxy": "10.0.0.0/8"})}
    )
    document = json.loads(rendering.render_daemon_json(site, site.nodes[0], True))
    assert document["proxies"] == {"https-proxy": "http://proxy:3128", "no-proxy": "10.0.0.0/8"}


def test_daemon_json_is_stable_text():
    site = overlay_site()
    assert rendering.render_daemon_json(site, site.nodes[0], True) == rendering.render_daemon_json(
        site, site.nodes[0], True
    )


def env_of(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


def test_codenvy_env_in_overlay_mode_names_the_overlay_and_the_registry():
    site = overlay_site()
    env = env_of(rendering.render_codenvy_env(site))
    assert env["CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"] == "overlay"
    assert env["CODENVY_MACHINE_DOCKER_NETWORK"] == rendering.workspace_network_name(site)
    assert env["CODENVY_DOCKER_REGISTRY"] == f"{site.master.address}:{site.registry.port}"


def test_codenvy_env_leaves_the_workspace_nodes_out():
    """The text is the server's environment and an upload, both of which replace the server when they
    change; the nodes are written beside it by the master's workspace-nodes command."""
    env = env_of(rendering.render_codenvy_env(overlay_site()))
    assert not [value for value in env.values() if "10.9.0.2" in value]


def test_codenvy_env_in_bridge_mode_and_without_secrets():
    site = load_site_config({"codenvy-infra:hostname": "ide.example.org"})
    text = rendering.render_codenvy_env(site)
    env = env_of(text)
    assert env["CODENVY_HOST"] == "ide.example.org"
    assert env["CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"] == "bridge"
    assert env["CODENVY_DOCKER_REGISTRY"] == site.registry_address
    assert "PASSWORD" not in text


def test_haproxy_redirects_http_to_https_when_tls_is_on():
    cfg = rendering.render_haproxy_cfg(load_site_config({}))
    assert "redirect scheme https" in cfg
    assert f"ssl crt {rendering.HAPROXY_CERT_PATH}" in cfg
    assert f"{rendering.SERVER_ALIAS}:{rendering.SERVER_PORT}" in cfg


def test_haproxy_serves_plain_http_when_tls_is_off():
    cfg = rendering.render_haproxy_cfg(load_site_config({"codenvy-infra:https": "false"}))
    assert "redirect" not in cfg and "ssl" not in cfg and "frontend https" not in cfg
