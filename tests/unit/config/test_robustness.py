"""Whatever a stack file or a primary's outputs hold, the program gets a site or a ConfigError naming a key:
never another exception, and never a site that writes outside what it owns."""

from __future__ import annotations

import json
import posixpath

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.config import ConfigError
from components.config_loader import load_site_config
from components.deploy_gates import establish
from tests.harness import pulumi_values


def refusal(values: dict[str, str]) -> tuple:
    with pytest.raises(ConfigError) as caught:
        load_site_config(values)
    return caught.value.problems


@pytest.mark.parametrize("key", ["master", "nodes", "limits", "adminPassword", "siteName"])
@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_a_value_nested_deeper_than_the_decoder_recurses_is_refused_by_its_key(key, opening):
    closing = "]" if opening == "[" else "}"
    ((where, message),) = refusal({f"codenvy-infra:{key}": opening * 100_000 + "1" + closing * 100_000})
    assert where == (key,)
    assert "nested" in message


def test_brackets_inside_a_string_are_not_nesting():
    deep_text = json.dumps(["[" * 5000])
    assert load_site_config({"codenvy-infra:adminPassword": deep_text[1:-1]}).admin_password


@pytest.mark.parametrize("key_file", ["~nosuchuser/.ssh/id_ed25519", "/" + "k" * 5000, "/home/x/" + "k" * 300, "a\0b"])
def test_a_key_file_name_the_system_cannot_look_up_is_refused_by_its_key(key_file):
    master = json.dumps({"address": "10.9.0.1", "ssh": {"keyFile": key_file}})
    ((where, _),) = refusal({"codenvy-infra:master": master})
    assert where == ("master", "ssh", "keyFile")


# --- the property ----------------------------------------------------------------------------------------

KEYS = [
    "siteName", "environment", "role", "version", "hostname", "https", "adminPassword", "network", "master",
    "nodes", "registry", "images", "logs", "proxy", "backup", "dr", "limits", "audit", "firewall", "replication",
]  # fmt: skip
HOSTILE_TEXT = [
    "/", "/etc", "/usr", "/tmp", "/etc/cron.hourly", "/etc/passwd", "/var/spool/cron", "~nosuchuser/k", "a" * 300,  # noqa: S108
    "١", "10.0.0.0/8", "0.0.0.0/0", "", "%s%n", "\\", "a:b", "\x1b[2J", "http://proxy:3128", "1m", "0 2 * * *",
]  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | st.sampled_from(HOSTILE_TEXT)
# Objects keyed by the names the sections use, so values reach the validators below the top level too.
FIELD_NAMES = st.sampled_from(
    ["directory", "toolsDirectory", "persistFile", "address", "ssh", "keyFile", "publicCidrs", "sshCidrs",
     "httpProxy", "maxSize", "schedule", "primaryStack", "users", "mode", "name", "standbyAddresses", "x"]
)  # fmt: skip
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(FIELD_NAMES, inner, max_size=3), max_leaves=8
)


def deeply_nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def assert_names_keys(error: ConfigError) -> None:
    assert error.problems, error
    for key, message in error.problems:
        assert key and isinstance(key[0], str), error
        assert message, error


# The test's own list of places no site owns (names, nothing writes there): accepted directories lie outside.
NOT_A_SITES = ("/", "/etc", "/usr", "/tmp", "/var", "/var/spool", "/root", "/home", "/boot", "/proc", "/sys", "/dev")  # noqa: S108


def assert_owned_paths(site) -> None:
    for path in (site.backup.directory, site.backup.tools_directory):
        normal = posixpath.normpath(path)
        assert normal not in NOT_A_SITES and normal != ".", path
        assert not normal.startswith(("/etc/", "/var/spool/", "/proc/", "/sys/", "/dev/", "/boot/")), path
    ruleset = site.firewall.persist_file
    assert ruleset.startswith("/etc/") and "cron" not in ruleset, ruleset
    assert ruleset.endswith((".nft", "/nftables.conf")), ruleset


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example({"master": deeply_nested(5000)})
@example({"backup": {"directory": "/"}})
@example({"firewall": {"persistFile": "/etc/passwd"}})
@given(st.dictionaries(st.sampled_from(KEYS), VALUES | st.integers(1000, 4000).map(deeply_nested), max_size=4))
def test_any_config_is_a_site_that_owns_its_paths_or_an_error_naming_a_key(document):
    try:
        site = load_site_config(pulumi_values(document))
    except ConfigError as error:
        assert_names_keys(error)
        return
    assert_owned_paths(site)


DEPLOYED = {
    "siteName": "codenvy", "version": "5.22.0", "managerAddress": "10.9.0.1", "registry": "10.9.0.1:5000",
    "backupDirectory": "/var/backups/codenvy", "nodes": [{"ramGb": 4.0, "cpus": 2.0}],
    "replicationStandbys": ["10.9.1.1"], "postgresPort": 5432.0, "replicationPassword": "r", "databasePassword": "d",
    "registryCaCert": "-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n",
}  # fmt: skip
STANDBY = pulumi_values(
    {"role": "standby", "siteName": "codenvy-dr", "master": {"address": "10.9.1.1"}, "dr": {"primaryStack": "o/p/s"}}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example({"nodes": [{"ramGb": "x"}]})
@example({"replicationStandbys": 7})
@given(st.dictionaries(st.sampled_from([*DEPLOYED, "licensePresent", "adminPassword"]), VALUES, max_size=4))
def test_any_primary_outputs_give_a_deployment_or_an_error_naming_a_key(changes):
    outputs = {**DEPLOYED, **changes}
    try:
        deployment = establish(load_site_config(STANDBY), lambda stack: outputs if stack == "o/p/s" else {})
    except ConfigError as error:
        assert_names_keys(error)
        return
    assert deployment.primary is not None
    assert posixpath.normpath(deployment.primary.backup_directory) not in NOT_A_SITES
