"""Bad stack values are refused before any resource exists, with the stack-file key named: paths, host keys, addresses,
schedules, images and the values YAML turns into other types."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from components.config_loader import load_site_config
from tests.stack_values import KEY, raw
from tests.unit.config.site_values import overlay


def refused(key: str, **values) -> str:
    with pytest.raises(ConfigError) as caught:
        load_site_config(raw(**values))
    message = str(caught.value)
    assert f"codenvy-infra:{key}" in message, message
    return message


@pytest.mark.parametrize("directory", ["/var/backups/x;touch /tmp/owned", "/var/backups/x\n* * * * * id", "/a b"])
@pytest.mark.parametrize("key", ["directory", "toolsDirectory"])
def test_a_backup_path_with_shell_characters_is_refused(key, directory):
    message = refused(f"backup.{key}", backup={key: directory})
    assert "letters, digits" in message


def test_a_relative_backup_path_is_refused_outside_dev():
    refused("backup.directory", environment="prod", backup={"directory": "backups"})


def test_an_ssh_host_without_a_host_key_is_refused_outside_dev():
    refused("master.ssh.hostKey", environment="prod", master={"address": "10.9.0.1", "ssh": {}})


def test_a_standby_without_the_primarys_host_key_is_refused_outside_dev():
    values = {"environment": "prod", "role": "standby", "dr": {"primaryStack": "o/p/s"}}
    refused("dr.primarySsh.hostKey", **values)


@pytest.mark.parametrize("address", ["ws1.example.com", "fd00::2"])
def test_a_host_address_that_is_not_ipv4_is_refused(address):
    message = refused("nodes[0].address", **overlay(nodes=[{"name": "ws1", "address": address, "ssh": {}}]))
    assert "IPv4" in message


LIMITS = {"users": [{"userId": "alice", "resources": [{"type": "workspace", "amount": 3}]}]}


def test_an_http_api_url_is_refused_outside_dev():
    values = {"environment": "prod", "adminPassword": "pw", "limits": {**LIMITS, "apiUrl": "http://x/api"}}
    refused("limits.apiUrl", **values)


def test_a_site_without_https_sending_the_admin_password_is_refused_outside_dev():
    refused("https", environment="prod", adminPassword="pw", https="false", limits=LIMITS)


@pytest.mark.parametrize("ram", [1e308, "Infinity", "NaN"])
def test_an_unbounded_host_ram_is_refused(ram):
    master = json.dumps({"ramGb": ram}) if not isinstance(ram, str) else f'{{"ramGb": {ram}}}'
    with pytest.raises(ConfigError, match=r"codenvy-infra:master\.ramGb"):
        load_site_config({"codenvy-infra:master": master})


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("registry.port", {"registry": {"port": True}}),
        ("master.ramGb", {"master": {"ramGb": True}}),
        ("firewall.publicCidrs", {"firewall": {"publicCidrs": [True]}}),
        ("backup.keep", {"backup": {"keep": False}}),
    ],
)
def test_true_or_false_is_no_number_or_address(key, values):
    # Pydantic reads true as 1: `port: true` was port 1, and a CIDR of true was 0.0.0.1/32.
    refused(key, **values)


def test_a_user_listed_twice_is_refused():
    user = LIMITS["users"][0]
    refused("limits.users", adminPassword="pw", limits={"users": [user, user]})


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("siteName", {"siteName": "codenvy\n"}),
        ("hostname", {"hostname": "example.com\n"}),
        ("version", {"version": "5.22.0\n"}),
        (
            "limits.users[0].userId",
            {"adminPassword": "pw", "limits": {"users": [{**LIMITS["users"][0], "userId": "a\n"}]}},
        ),
        ("dr.primaryStack", {"role": "standby", "dr": {"primaryStack": "o/p/s\n"}}),
        ("master.address", {"master": {"address": "127.0.0.1\n"}}),
    ],
)
def test_a_trailing_newline_is_refused(key, values):
    refused(key, **values)


@pytest.mark.parametrize("schedule", ["0 0 31 2 *", "60 24 32 13 8", "*/0 * * * *", "5-1 * * * *"])
def test_a_cron_schedule_that_never_fires_or_is_out_of_range_is_refused(schedule):
    refused("backup.schedule", backup={"schedule": schedule})


def test_a_cron_schedule_with_day_of_week_may_name_any_day():
    assert load_site_config(raw(backup={"schedule": "0 0 31 2 1"})).backup.schedule == "0 0 31 2 1"


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("registry.port", {"master": {"httpsPort": 443}, "registry": {"port": 443}}),
        ("master.httpPort", {"master": {"httpPort": 22, "ssh": {}}}),
    ],
)
def test_ports_that_collide_on_the_master_are_refused(key, values):
    refused(key, **values)


def test_a_loopback_master_of_remote_overlay_nodes_is_refused():
    refused("master.address", **overlay(master={"address": "127.0.0.1"}))


@pytest.mark.parametrize(
    ("key", "text"), [("adminPassword", "12345678"), ("adminPassword", '"pw"'), ("license", "null!")]
)
def test_secret_scalars_are_taken_as_written(key, text):
    site = load_site_config({f"codenvy-infra:{key}": text})
    value = site.admin_password if key == "adminPassword" else site.license
    assert value.get_secret_value() == text


def test_a_numeric_site_name_is_taken_as_written():
    assert load_site_config({"codenvy-infra:siteName": "123"}).site_name == "123"


@pytest.mark.parametrize("image", ["postgres:15\n", "Postgres:15", "post gres:15", "postgres:-x", "a;b:1"])
def test_an_image_that_is_not_an_image_reference_is_refused(image):
    refused("images.postgres", images={"postgres": image})


def test_a_server_repository_that_is_not_a_repository_is_refused():
    refused("images.server", images={"server": "codenvy/$(id)"})


@pytest.mark.parametrize(
    "options",
    [
        ["-o", "StrictHostKeyChecking=no"],
        ["-oStrictHostKeyChecking accept-new"],
        ["-o", "UserKnownHostsFile=/dev/null"],
    ],
)
def test_ssh_options_that_skip_the_docker_providers_host_check_are_refused_outside_dev(options):
    ssh = {"hostKey": KEY, "options": options}
    refused("master.ssh.options", environment="prod", master={"address": "10.9.0.1", "ssh": ssh})


def test_the_sim_stack_may_skip_the_host_check_of_its_fresh_hosts():
    ssh = {"options": ["-o", "StrictHostKeyChecking=no"]}
    assert load_site_config(raw(environment="sim", master={"address": "10.9.0.1", "ssh": ssh})).master.ssh
