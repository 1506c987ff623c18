"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: the registry's
certificate and what the site exports of it."""

from __future__ import annotations

from tests.harness import container_env, site_config


def test_the_registry_serves_its_own_certificate(stack):
    name, evaluation = stack
    site = site_config(name)
    registry = evaluation.named(f"{site.site_name}-registry-container")
    uploads = {u["file"]: u["content"] for u in registry.inputs["uploads"]}
    served = uploads[container_env(registry)["REGISTRY_HTTP_TLS_CERTIFICATE"]]
    assert served == evaluation.named(f"{site.site_name}-registry-tls-cert").outputs["certPem"]


def test_the_registry_certificate_names_the_master_address(stack):
    name, evaluation = stack
    site = site_config(name)
    csr = evaluation.named(f"{site.site_name}-registry-tls-csr")
    assert site.master.address in csr.inputs.get("ipAddresses", []) + csr.inputs.get("dnsNames", [])


def test_the_registry_is_exported_at_the_masters_address(stack):
    name, evaluation = stack
    site = site_config(name)
    assert evaluation.exports["registry"] == f"{site.master.address}:{site.registry.port}"


def test_the_exported_registry_ca_is_the_sites_ca_certificate(stack):
    name, evaluation = stack
    ca = evaluation.named(f"{site_config(name).site_name}-ca-cert")
    assert evaluation.exports["registryCaCert"] == ca.outputs["certPem"]
