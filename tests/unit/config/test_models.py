"""The config models and the seam: bad values are rejected with the stack-file key named."""

from __future__ import annotations

import json

import pytest

from components.config import SiteConfig
from components.config_loader import ConfigError, foreign_keys, load_site_config, secret_fields

# Remote nodes need a master they can reach: not the default loopback address.
OVERLAY = {
    "codenvy-infra:network": json.dumps({"mode": "overlay"}),
    "codenvy-infra:master": json.dumps({"address": "10.1.0.1"}),
}


def node(name: str, address: str, **extra) -> dict:
    return {"name": name, "address": address, "ssh": {"user": "root"}, **extra}


def nodes(*entries: dict) -> dict[str, str]:
    return {"codenvy-infra:nodes": json.dumps(list(entries))}


def test_empty_config_is_the_local_single_host_site():
    site = load_site_config({})
    assert site.network.mode == "bridge"
    assert site.master.is_local and site.master.docker_endpoint.startswith("unix://")
    assert site.workspace_hosts == (site.master,)
    assert not site.master.manages_docker, "a developer's own engine is not reconfigured by default"


def test_ssh_node_defaults_to_an_ssh_docker_endpoint_and_managed_daemon():
    site = load_site_config({**OVERLAY, **nodes(node("ws1", "10.1.0.2", ssh={"user": "ops", "port": 2222}))})
    (ws1,) = site.nodes
    assert ws1.docker_endpoint == "ssh://ops@10.1.0.2:2222"
    assert ws1.manages_docker


def test_keys_of_other_namespaces_are_ignored():
    assert load_site_config({"docker:host": "unix:///x.sock"}).site_name == "codenvy"


@pytest.mark.parametrize(
    ("raw", "key", "hint"),
    [
        ({"codenvy-infra:network": '{"mode": "mesh"}'}, "codenvy-infra:network.mode", "'bridge' or 'overlay'"),
        ({"codenvy-infra:colour": "blue"}, "codenvy-infra:colour", "allowed here:"),
        ({"codenvy-infra:master": '{"adress": "10.0.0.1"}'}, "codenvy-infra:master.adress", "address"),
        ({"codenvy-infra:version": "five"}, "codenvy-infra:version", "semantic version"),
        ({"codenvy-infra:siteName": "Codenvy_1"}, "codenvy-infra:siteName", "DNS label"),
        ({"codenvy-infra:images": '{"postgres": "postgres:latest"}'}, "codenvy-infra:images.postgres", "latest"),
        ({"codenvy-infra:images": '{"haproxy": "haproxy"}'}, "codenvy-infra:images.haproxy", "tag"),
        ({"codenvy-infra:images": '{"server": "codenvy/codenvy:5.1.0"}'}, "codenvy-infra:images.server", "version"),
        ({"codenvy-infra:registry": '{"port": 2375}'}, "codenvy-infra:registry.port", "internal port"),
        ({"codenvy-infra:master": '{"httpsPort": 5432}'}, "codenvy-infra:master.httpsPort", "internal port"),
        ({"codenvy-infra:master": '{"httpPort": 8443, "httpsPort": 8443}'}, "codenvy-infra:master.httpsPort", "differ"),
        ({"codenvy-infra:master": '{"ramGb": 0}'}, "codenvy-infra:master.ramGb", "greater than 0"),
        ({"codenvy-infra:logs": '{"maxSize": "lots"}'}, "codenvy-infra:logs.maxSize", "pattern"),
        ({"codenvy-infra:role": "backup"}, "codenvy-infra:role", "'primary' or 'standby'"),
        (
            {"codenvy-infra:registry": '{"tls": false}', "codenvy-infra:environment": "prod"},
            "codenvy-infra:registry.tls",
            "only in environment dev",
        ),
        ({"codenvy-infra:network": '{"encrypted": true}'}, "codenvy-infra:network.encrypted", "overlay"),
    ],
)
def test_bad_value_names_its_key_and_what_is_allowed(raw, key, hint):
    with pytest.raises(ConfigError) as caught:
        load_site_config(raw)
    message = str(caught.value)
    assert f"{key}:" in message
    assert hint in message


@pytest.mark.parametrize(
    ("docker_host", "hint"),
    [
        ("tcp://10.1.0.2:2375", "plaintext"),
        ("tcp://10.1.0.2:2376", "dockerCertPath"),
        ("http://10.1.0.2", "unix://, ssh:// or tcp://"),
    ],
)
def test_plaintext_or_unknown_docker_api_is_refused(docker_host, hint):
    raw = {**OVERLAY, **nodes(node("ws1", "10.1.0.2", dockerHost=docker_host))}
    with pytest.raises(ConfigError) as caught:
        load_site_config(raw)
    assert "codenvy-infra:nodes[0].dockerHost:" in str(caught.value)
    assert hint in str(caught.value)


def test_tls_docker_api_with_certificates_is_accepted():
    raw = {**OVERLAY, **nodes(node("ws1", "10.1.0.2", dockerHost="tcp://10.1.0.2:2376", dockerCertPath="/certs"))}
    assert load_site_config(raw).nodes[0].docker_endpoint == "tcp://10.1.0.2:2376"


def test_bridge_mode_refuses_extra_nodes():
    with pytest.raises(ConfigError, match=r"codenvy-infra:nodes: bridge mode runs on one host"):
        load_site_config(nodes(node("ws1", "10.1.0.2")))


def test_overlay_needs_a_host_for_workspaces():
    raw = {**OVERLAY, "codenvy-infra:master": '{"hostWorkspaces": false}'}
    with pytest.raises(ConfigError, match=r"codenvy-infra:nodes: no host runs workspaces"):
        load_site_config(raw)


@pytest.mark.parametrize("field", ["name", "address"])
def test_hosts_must_be_distinct(field):
    first, second = node("ws1", "10.1.0.2"), node("ws2", "10.1.0.3")
    second[field] = first[field]
    with pytest.raises(ConfigError, match=rf"every host needs its own {field}"):
        load_site_config({**OVERLAY, **nodes(first, second)})


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        load_site_config({"codenvy-infra:version": "x", "codenvy-infra:role": "y", "codenvy-infra:z": "1"})
    message = str(caught.value)
    assert "3 problem(s)" in message
    for key in ("codenvy-infra:version:", "codenvy-infra:role:", "codenvy-infra:z:"):
        assert key in message


def test_every_field_is_described():
    """The configuration reference (docs/configuration.md) is only as good as these descriptions."""

    def undocumented(model, prefix=""):
        for name, field in model.model_fields.items():
            if not field.description:
                yield prefix + name
            for argument in (field.annotation, *getattr(field.annotation, "__args__", ())):
                if isinstance(argument, type) and hasattr(argument, "model_fields"):
                    yield from undocumented(argument, f"{prefix}{name}.")

    assert list(undocumented(SiteConfig)) == []


SECRETS_IN_PLAIN_TEXT = {"codenvy-infra:adminPassword": "pw", "codenvy-infra:license": "L1"}


def test_secrets_in_plain_text_are_refused_outside_dev():
    with pytest.raises(ConfigError) as caught:
        load_site_config({**SECRETS_IN_PLAIN_TEXT, "codenvy-infra:environment": "prod"}, secret_keys=())
    assert sorted(key for key, _ in caught.value.problems) == [("adminPassword",), ("license",)]


def test_secrets_held_as_secrets_are_accepted_outside_dev():
    site = load_site_config({**SECRETS_IN_PLAIN_TEXT, "codenvy-infra:environment": "prod"}, SECRETS_IN_PLAIN_TEXT)
    assert site.admin_password.get_secret_value() == "pw"


def test_secrets_in_plain_text_are_accepted_in_dev():
    assert load_site_config(SECRETS_IN_PLAIN_TEXT, secret_keys=()).license.get_secret_value() == "L1"


def test_every_secret_field_is_a_top_level_key():
    # Pulumi marks a whole top-level key secret (PULUMI_CONFIG_SECRET_KEYS), never a part of one.
    assert secret_fields() == ["adminPassword", "license", "sshPrivateKey"]


@pytest.mark.parametrize("key", ["pulumi:tags", "docker:host", "command:dialErrorLimit", "codenvy-infra:version"])
def test_keys_someone_reads_are_not_foreign(key):
    assert foreign_keys([key]) == []


def test_a_key_in_another_namespace_is_foreign():
    assert foreign_keys(["codenvy:version", "codenvy-infra:version"]) == ["codenvy:version"]
