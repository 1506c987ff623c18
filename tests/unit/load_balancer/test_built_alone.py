"""The LoadBalancer component built alone from settings made here: it publishes and uploads only what its settings ask
for."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker
import pytest

from components.load_balancer import HAPROXY_CERT_PATH, LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from tests.unit.built_alone import SHARED, built, local_host_and_site_ca


def balancer_settings(https: bool) -> LoadBalancerSettings:
    return LoadBalancerSettings(
        hostname="ide.example.org",
        https=https,
        master_address="10.1.0.1",
        http_port=8081,
        https_port=8443,
        image="haproxy:2.8.5",
        memory_mb=64,
        containers=SHARED,
    )


def make_balancer(settings: LoadBalancerSettings):
    def make(parent):
        host, ca = local_host_and_site_ca(parent)
        internal = docker.ContainerNetworksAdvancedArgs(name="unit-internal", aliases=["haproxy"])
        LoadBalancer(
            "unit-lb",
            LoadBalancerArgs(
                settings=settings,
                host=host,
                ca=ca,
                internal_network=internal,
                moved=pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=parent)]),
                prefix="unit-master",
                after=[],
                container_after=[],
            ),
            pulumi.ResourceOptions(parent=parent),
        )

    return make


@pytest.mark.parametrize(("https", "published"), [(True, [(80, 8081), (443, 8443)]), (False, [(80, 8081)])])
def test_load_balancer_publishes_https_only_when_it_serves_it(https, published):
    evaluation = built(make_balancer(balancer_settings(https)))
    ports = evaluation.named("unit-master-haproxy").inputs["ports"]
    assert [(port["internal"], port["external"]) for port in ports] == published


def test_load_balancer_uploads_a_certificate_only_for_https():
    plain = built(make_balancer(balancer_settings(False))).named("unit-master-haproxy").inputs["uploads"]
    assert HAPROXY_CERT_PATH not in [upload["file"] for upload in plain]


def test_load_balancer_keeps_the_names_its_resources_had_under_the_master():
    evaluation = built(make_balancer(balancer_settings(True)))
    names = {r.name for r in evaluation.resources if r.type != "codenvy:infra:LoadBalancer"}
    assert {"unit-master-haproxy", "unit-master-haproxy-image", "unit-master-https-cert"} <= names
