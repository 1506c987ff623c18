"""Docker providers that reach an engine the pack cannot see: a context, or DOCKER_HOST."""

from __future__ import annotations

import pytest

from tests.policies.pack import of, resource_args, tripped, violations

PROVIDER = "pulumi:providers:docker"


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
