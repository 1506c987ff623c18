"""The Docker API and daemon settings reached through structured properties and commands (issue 20)."""

from __future__ import annotations

import pytest

from tests.policies.pack import bash, of, resource_args, tripped, violations

PROVIDER = "pulumi:providers:docker"


# --- providers --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("host", [None, "ssh://root@10.77.0.11:22", "unix:///var/run/docker.sock"])
def test_provider_with_a_context_is_caught(host):
    """A context overrides host (terraform-provider-docker internal/provider/provider.go), and its endpoint
    lives in the runner's ~/.docker, out of the pack's sight."""
    props = {"context": "remote", **({"host": host} if host else {})}
    (message,) = tripped(resource_args(PROVIDER, props), "docker-api-over-tls-or-ssh")
    assert "context 'remote'" in message


def test_provider_under_a_docker_context_variable_is_caught(monkeypatch):
    monkeypatch.setenv("DOCKER_CONTEXT", "remote")
    (message,) = tripped(resource_args(PROVIDER, {"host": "ssh://root@10.77.0.11:22"}), "docker-api-over-tls-or-ssh")
    assert "DOCKER_CONTEXT" in message


@pytest.mark.parametrize("docker_host", ["tcp://10.77.0.11:2375", "ssh://root@10.77.0.11:22"])
def test_provider_without_a_host_while_docker_host_is_set_is_caught(monkeypatch, docker_host):
    """An absent host is DOCKER_HOST of whoever runs pulumi: the pack cannot know it for the next run."""
    monkeypatch.setenv("DOCKER_HOST", docker_host)
    (message,) = tripped(resource_args(PROVIDER, {}), "docker-api-over-tls-or-ssh")
    assert "DOCKER_HOST" in message


def test_provider_without_a_host_or_docker_host_uses_the_local_socket():
    assert violations(resource_args(PROVIDER, {})) == {}


def test_provider_naming_its_host_ignores_docker_host(monkeypatch, sim):
    monkeypatch.setenv("DOCKER_HOST", "tcp://10.77.0.11:2375")
    assert violations(of(sim.of_type(PROVIDER)[0])) == {}


# --- daemon listeners without TLS -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        "dockerd -H tcp://0.0.0.0:2376",
        "dockerd -H tcp://0.0.0.0:443 --tls",
        "dockerd -H tcp://0.0.0.0:2376 --tlsverify=false",
        "dockerd -H 0.0.0.0:2376",
        "dockerd --host=10.0.0.5:8080",
        """echo '{"hosts": ["tcp://0.0.0.0:2376"]}' > /etc/docker/daemon.json""",
        """echo '{"hosts": ["0.0.0.0:2376"], "tlsverify": false}' > /etc/docker/daemon.json""",
    ],
)
def test_tcp_listener_without_tls_verification_on_any_port_is_caught(daemon, script):
    (message,) = tripped(of(daemon, create=bash(script)), "daemon-config-secure")
    assert "plaintext Docker API" in message


@pytest.mark.parametrize(
    "script",
    [
        "dockerd -H tcp://0.0.0.0:2376 --tlsverify --tlscacert=/etc/docker/ca.pem",
        """echo '{"hosts": ["unix:///var/run/docker.sock", "tcp://0.0.0.0:2376"], "tlsverify": true}' > d.json""",
        "df -h / && ssh -p 22 host true",
    ],
)
def test_tls_verified_listener_or_no_listener_passes(daemon, script):
    assert violations(of(daemon, create=bash(script))) == {}


# --- registry mirrors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "script",
    [
        """echo '{"registry-mirrors": ["http://10.77.0.11:5000"]}' > /etc/docker/daemon.json""",
        """echo '{"registry-mirrors": ["https://mirror.example", "HTTP://10.77.0.11:5000"]}' > daemon.json""",
        """echo '{"registry\\u002dmirrors": ["http:\\/\\/10.77.0.11:5000"]}' > /etc/docker/daemon.json""",
        "dockerd --registry-mirror=http://10.77.0.11:5000",
        "dockerd --registry-mirror http://10.77.0.11:5000",
    ],
)
def test_registry_mirror_over_http_is_caught(daemon, script):
    (message,) = tripped(of(daemon, create=bash(script)), "daemon-config-secure")
    assert "registry mirror" in message


def test_registry_mirror_over_https_passes(daemon):
    script = """echo '{"registry-mirrors": ["https://mirror.example"], "proxy": "http://proxy:3128"}' > d.json"""
    assert violations(of(daemon, create=bash(script))) == {}
