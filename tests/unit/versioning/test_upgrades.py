"""Upgrades as the program registers them, under mocks, with the previous and the primary stack's outputs supplied as
the engine would read them. Versions order as releases do, a downgrade or rename is refused, and the pre-upgrade
backup runs first."""

from __future__ import annotations

import functools

import pytest

from components.versioning import UpgradeRefusedError, plan_upgrade, version_key
from tests.harness import Evaluation, evaluate, script_of, site_config, template_of
from tests.unit.stack_reads import DEV, REFUSED, parameters, refusal, refused

REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def dev_after(previous_version: str | None, **overrides) -> Evaluation:
    outputs = {} if previous_version is None else {DEV: {"version": previous_version}}
    return evaluate("dev", overrides, stack_outputs=outputs)


@pytest.mark.parametrize(
    ("older", "newer"),
    [
        ("5.0.0-M2", "5.0.0-M8"),
        ("5.0.0-M8", "5.0.0-M10"),
        ("5.0.0-M10", "5.0.0"),
        ("5.9.9", "5.10.0"),
        ("4.9.9", "5.0.0"),
    ],
)
def test_versions_order_as_releases_do(older, newer):
    assert version_key(older) < version_key(newer)


@pytest.mark.parametrize(
    ("deployed", "target", "kind"),
    [(None, "5.1.0", "install"), ("5.1.0", "5.1.0", "same"), ("5.0.0-M8", "5.1.0", "upgrade")],
)
def test_the_plan_names_what_a_deployment_does(deployed, target, kind):
    assert plan_upgrade(deployed, target).kind == kind


def test_downgrade_plan_is_refused_with_both_versions():
    with pytest.raises(UpgradeRefusedError, match=r"downgrade from 5\.1\.0 \(deployed\) to 5\.0\.0"):
        plan_upgrade("5.1.0", "5.0.0")


@pytest.mark.parametrize("case", REFUSED)
def test_a_refused_config_registers_nothing(case):
    assert refusal(case)[1].resources == []


def test_a_downgrade_of_the_dev_stack_is_refused_naming_the_key():
    assert refusal("downgrade")[0].startswith("codenvy-infra:version:")


def test_a_downgrade_of_the_dev_stack_is_refused_with_both_versions():
    assert "downgrade from 5.22.0 (deployed) to 5.21.0" in refusal("downgrade")[0]


def test_renaming_a_deployed_site_is_refused_naming_the_key():
    assert refusal("rename")[0].startswith("codenvy-infra:siteName:")


def test_renaming_a_deployed_site_is_refused_naming_the_deployed_name():
    assert "'codenvy'" in refusal("rename")[0]


def test_a_site_keeps_its_deployed_name_without_complaint():
    assert evaluate("dev", stack_outputs={DEV: {"siteName": "codenvy", "version": "5.22.0"}}).resources


def test_downgrade_between_milestones_is_refused():
    message, _ = refused("dev", {"codenvy-infra:version": "5.0.0-M2"}, {DEV: {"version": "5.0.0-M8"}})
    assert "downgrade from 5.0.0-M8 (deployed) to 5.0.0-M2" in message


def test_an_incompatible_major_jump_is_refused_naming_the_switch_that_allows_it():
    message = refusal("major-jump")[0]
    assert "incompatible upgrade from 5.22.0 (deployed) to 6.0.0" in message and "allowMajor" in message


def test_an_allowed_major_jump_goes_ahead():
    allowed = dev_after("5.22.0", **{"codenvy-infra:version": "6.0.0", "codenvy-infra:upgrade": {"allowMajor": True}})
    assert allowed.exports["version"] == "6.0.0"


def test_same_version_gives_the_same_inputs_as_a_first_install():
    fresh = {r.urn: r.inputs for r in dev_after(None).resources}
    rerun = {r.urn: r.inputs for r in dev_after(site_config("dev").version).resources}
    assert fresh == rerun


@functools.cache
def upgrade() -> Evaluation:
    return dev_after("5.21.0")


def test_the_pre_upgrade_backup_runs_before_the_server_is_replaced():
    backup = upgrade().named("codenvy-master-pre-upgrade-backup")
    assert backup.urn in upgrade().named("codenvy-master-server").dependencies


def test_the_pre_upgrade_backup_waits_for_the_database():
    postgres = upgrade().named("codenvy-master-postgres")
    assert postgres.urn in upgrade().named("codenvy-master-pre-upgrade-backup").dependencies


def test_a_new_version_runs_the_pre_upgrade_backup_again():
    assert upgrade().named("codenvy-master-pre-upgrade-backup").inputs["triggers"] == ["5.22.0"]


def test_the_pre_upgrade_backup_is_a_backup_for_the_target_version():
    backup = upgrade().named("codenvy-master-pre-upgrade-backup")
    params = parameters(backup)
    assert (template_of(script_of(backup)), params["REASON"], params["TARGET_VERSION"]) == (
        "backup",
        "pre-upgrade",
        "5.22.0",
    )


def test_the_pre_upgrade_backup_dumps_the_database_in_custom_format():
    assert "pg_dump -Fc" in script_of(upgrade().named("codenvy-master-pre-upgrade-backup"))


def test_an_upgrade_pulls_the_new_server_image():
    assert "codenvy/codenvy:5.22.0" in {i.inputs["name"] for i in upgrade().of_type(REMOTE_IMAGE)}


def test_skip_backup_upgrades_without_a_backup():
    evaluation = dev_after("5.21.0", **{"codenvy-infra:upgrade": {"skipBackup": True}})
    assert not [r for r in evaluation.resources if r.name.endswith("pre-upgrade-backup")]


def test_skip_backup_warns_that_the_upgrade_has_no_backup(caplog):
    dev_after("5.21.0", **{"codenvy-infra:upgrade": {"skipBackup": True}})
    assert any("without a backup" in record.getMessage() for record in caplog.records)
