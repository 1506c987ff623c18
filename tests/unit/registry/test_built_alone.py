"""The Registry component built alone from settings made here: it registers what its settings ask for and nothing
else."""

from __future__ import annotations

from ipaddress import ip_address

import pulumi
import pytest

from components.config import RegistryConfig
from components.registry import Registry, RegistryArgs, RegistrySettings
from tests.harness import Evaluation
from tests.unit.built_alone import SHARED, built, local_host_and_site_ca


def registry_settings(**config) -> RegistrySettings:
    return RegistrySettings(
        config=RegistryConfig(**config),
        address="10.1.0.1:5000",
        image="registry:2.8.3",
        memory_mb=256,
        master_name="boss",
        master_address="10.1.0.1",
        hostname="ide.example.org",
        containers=SHARED,
    )


def make_registry(settings: RegistrySettings):
    def make(parent):
        host, ca = local_host_and_site_ca(parent)
        Registry(
            "unit-registry", RegistryArgs(settings=settings, master=host, ca=ca), pulumi.ResourceOptions(parent=parent)
        )

    return make


def envs_of(evaluation: Evaluation, name: str) -> dict[str, str]:
    return dict(entry.split("=", 1) for entry in evaluation.named(name).inputs["envs"])


def test_registry_alone_publishes_its_configured_port():
    evaluation = built(make_registry(registry_settings(port=5443)))
    (port,) = evaluation.named("unit-registry-container").inputs["ports"]
    assert (port["internal"], port["external"]) == (5000, 5443)


def test_registry_without_tls_issues_no_certificate():
    evaluation = built(make_registry(registry_settings(tls=False)))
    assert not [r for r in evaluation.resources if r.name.startswith("unit-registry-tls")]
    assert "REGISTRY_HTTP_TLS_CERTIFICATE" not in envs_of(evaluation, "unit-registry-container")


def test_registry_without_auth_creates_no_password():
    evaluation = built(make_registry(registry_settings(auth="none")))
    assert not [r for r in evaluation.resources if r.name == "unit-registry-password"]
    assert "REGISTRY_AUTH" not in envs_of(evaluation, "unit-registry-container")


@pytest.mark.parametrize("tls", [True, False])
def test_registry_serves_its_debug_endpoints_inside_its_container_only(tls):
    """distribution's debug server (REGISTRY_HTTP_DEBUG_ADDR; registry/registry.go) answers /debug/vars and
    /debug/pprof to anyone who reaches it, with no TLS and no auth: a loopback address keeps it in the container."""
    evaluation = built(make_registry(registry_settings(tls=tls)))
    host, _, port = envs_of(evaluation, "unit-registry-container")["REGISTRY_HTTP_DEBUG_ADDR"].rpartition(":")
    assert ip_address(host).is_loopback and port.isdigit()
