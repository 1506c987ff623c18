"""The places a stack file may point the site's writes at on a host: its own directories, the nftables
service's ruleset, never a system or cron directory or another program's file."""

from __future__ import annotations

import pytest

from components.config import ConfigError
from components.config_loader import load_site_config
from components.deploy_gates import GateError, PrimarySite
from tests.harness import pulumi_values


def refusal(key: str, **values) -> str:
    with pytest.raises(ConfigError) as caught:
        load_site_config(pulumi_values(values))
    ((where, message),) = caught.value.problems
    assert ".".join(map(str, where)) == key, caught.value
    return message


SYSTEM_DIRECTORIES = ["/", "/etc", "/usr", "/tmp", "/var", "/root", "/home/alice", "/usr/local/bin", "/var/log"]  # noqa: S108
CRON_DIRECTORIES = ["/etc/cron.hourly", "/etc/cron.d", "/var/spool/cron/crontabs", "/etc/profile.d"]


@pytest.mark.parametrize("directory", [*SYSTEM_DIRECTORIES, *CRON_DIRECTORIES, "/var/cache", "/usr/lib/codenvy"])
@pytest.mark.parametrize("key", ["directory", "toolsDirectory"])
def test_a_system_or_cron_directory_is_refused_for_the_sites_files(key, directory):
    message = refusal(f"backup.{key}", environment="prod", backup={key: directory})
    assert "directory of its own" in message


@pytest.mark.parametrize("directory", ["/etc/", "/var/backups/", "//", "/etc/./"])
def test_a_system_directory_spelled_another_way_is_refused(directory):
    refusal("backup.directory", backup={"directory": directory})


def test_the_working_directory_itself_is_refused_as_the_backup_directory_in_dev():
    refusal("backup.directory", backup={"directory": "./"})


@pytest.mark.parametrize(
    ("key", "directory"),
    [("directory", "/var/backups/codenvy"), ("directory", "/srv/codenvy/backups"), ("directory", "backups"),
     ("toolsDirectory", "/usr/local/lib/codenvy"), ("toolsDirectory", "/opt/codenvy/bin")],
)  # fmt: skip
def test_a_directory_of_the_sites_own_is_accepted(key, directory):
    assert (
        load_site_config(pulumi_values({"backup": {key: directory}})).backup.model_dump(by_alias=True)[key] == directory
    )


@pytest.mark.parametrize(
    "persist_file",
    ["/etc/passwd", "/etc/shadow", "/etc/crontab", "/root/.bashrc", "/var/lib/nftables.conf", "/srv/x.nft",
     "/etc/cron.d/nftables.conf", "/etc/cron.hourly/rules.nft", "/etc/apt/apt.conf.d/nftables.conf", "/etc/.nft"],
)  # fmt: skip
def test_a_persist_file_that_is_not_an_nftables_ruleset_is_refused(persist_file):
    refusal("firewall.persistFile", firewall={"persistFile": persist_file})


@pytest.mark.parametrize(
    "persist_file",
    ["/etc/nftables.conf", "/etc/sysconfig/nftables.conf", "/etc/nftables/main.nft", "/etc/nftables.d/codenvy.nft",
     "/etc/codenvy/nftables.conf"],
)  # fmt: skip
def test_an_nftables_ruleset_is_accepted_as_the_persist_file(persist_file):
    assert (
        load_site_config(pulumi_values({"firewall": {"persistFile": persist_file}})).firewall.persist_file
        == persist_file
    )


def test_the_standby_refuses_a_primary_backup_directory_that_is_a_system_directory():
    outputs = {"siteName": "codenvy", "version": "5.22.0", "managerAddress": "10.9.0.1", "registry": "r", "nodes": []}
    with pytest.raises(GateError, match="backupDirectory"):
        PrimarySite.from_outputs("o/p/s", {**outputs, "backupDirectory": "/etc"})


@pytest.mark.parametrize("environment", ["staging", "sim", "prod"])
@pytest.mark.parametrize("key", ["directory", "toolsDirectory"])
def test_a_relative_site_directory_is_refused_in_every_environment_but_dev(key, environment):
    """BackupConfig: relative, to the working directory, only in environment dev; any other name is not dev."""
    refusal(f"backup.{key}", environment=environment, backup={key: "codenvy/backups"})


@pytest.mark.parametrize("key", ["directory", "toolsDirectory"])
def test_a_relative_site_directory_is_accepted_in_dev(key):
    site = load_site_config(pulumi_values({"environment": "dev", "backup": {key: "codenvy/backups"}}))
    assert site.backup.model_dump(by_alias=True)[key] == "codenvy/backups"
