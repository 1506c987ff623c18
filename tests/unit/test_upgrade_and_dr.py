"""Upgrades, backups and the disaster-recovery standby, under mocks, with the previous and the primary
stack's outputs supplied as the engine would read them."""

from __future__ import annotations

import re

import pytest

from components.config import ConfigError
from components.versioning import UpgradeRefusedError, plan_upgrade, version_key
from tests.harness import Evaluation, evaluate, full_stack_name, script_of, site_config

DEV = full_stack_name("dev")
DR = full_stack_name("dr")
CONTAINER = "docker:index/container:Container"


def dev_after(previous_version: str | None, **overrides) -> Evaluation:
    outputs = {} if previous_version is None else {DEV: {"version": previous_version}}
    return evaluate("dev", overrides, stack_outputs=outputs)


def refused(stack: str, overrides: dict, outputs: dict) -> tuple[str, Evaluation]:
    attempt = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(stack, overrides, stack_outputs=outputs, into=attempt)
    return str(caught.value), attempt


# --- versions ------------------------------------------------------------------------------------


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


def test_plan_names_install_same_and_upgrade():
    assert plan_upgrade(None, "5.1.0").kind == "install"
    assert plan_upgrade("5.1.0", "5.1.0").kind == "same"
    assert plan_upgrade("5.0.0-M8", "5.1.0").kind == "upgrade"


def test_downgrade_plan_is_refused_with_both_versions():
    with pytest.raises(UpgradeRefusedError, match=r"downgrade from 5\.1\.0 \(deployed\) to 5\.0\.0"):
        plan_upgrade("5.1.0", "5.0.0")


def test_downgrade_of_the_dev_stack_registers_nothing():
    message, attempt = refused("dev", {"codenvy-infra:version": "5.21.0"}, {DEV: {"version": "5.22.0"}})
    assert "codenvy-infra:version:" in message
    assert "downgrade from 5.22.0 (deployed) to 5.21.0" in message
    assert attempt.resources == []


def test_renaming_a_deployed_site_is_refused_naming_the_key():
    message, attempt = refused("dev", {"codenvy-infra:siteName": "renamed"}, {DEV: {"siteName": "codenvy"}})
    assert message.startswith("codenvy-infra:siteName:") and "'codenvy'" in message
    assert attempt.resources == []


def test_a_site_keeps_its_deployed_name_without_complaint():
    assert evaluate("dev", stack_outputs={DEV: {"siteName": "codenvy", "version": "5.22.0"}}).resources


def test_downgrade_between_milestones_is_refused():
    message, _ = refused("dev", {"codenvy-infra:version": "5.0.0-M2"}, {DEV: {"version": "5.0.0-M8"}})
    assert "downgrade from 5.0.0-M8 (deployed) to 5.0.0-M2" in message


def test_incompatible_major_jump_is_refused_unless_allowed():
    message, attempt = refused("dev", {"codenvy-infra:version": "6.0.0"}, {DEV: {"version": "5.22.0"}})
    assert "incompatible upgrade from 5.22.0 (deployed) to 6.0.0" in message and "allowMajor" in message
    assert attempt.resources == []
    allowed = dev_after("5.22.0", **{"codenvy-infra:version": "6.0.0", "codenvy-infra:upgrade": {"allowMajor": True}})
    assert allowed.exports["version"] == "6.0.0"


def test_same_version_gives_the_same_inputs_as_a_first_install():
    fresh = {r.urn: r.inputs for r in dev_after(None).resources}
    rerun = {r.urn: r.inputs for r in dev_after(site_config("dev").version).resources}
    assert fresh == rerun


def test_upgrade_backs_up_before_the_server_is_replaced():
    evaluation = dev_after("5.21.0")
    backup = evaluation.named("codenvy-master-pre-upgrade-backup")
    server = evaluation.named("codenvy-master-server")
    assert backup.urn in server.dependencies
    assert evaluation.named("codenvy-master-postgres").urn in backup.dependencies
    assert backup.inputs["triggers"] == ["5.22.0"], "a new version re-runs the backup"
    assert "REASON=pre-upgrade" in backup.inputs["create"] and "TARGET_VERSION=5.22.0" in backup.inputs["create"]
    assert "pg_dump -Fc" in backup.inputs["create"]
    assert "codenvy/codenvy:5.22.0" in {
        i.inputs["name"] for i in evaluation.of_type("docker:index/remoteImage:RemoteImage")
    }


def test_skip_backup_upgrades_without_the_backup_and_warns(caplog):
    evaluation = dev_after("5.21.0", **{"codenvy-infra:upgrade": {"skipBackup": True}})
    assert not [r for r in evaluation.resources if r.name.endswith("pre-upgrade-backup")]
    assert any("without a backup" in record.getMessage() for record in caplog.records)


# --- backups ---------------------------------------------------------------------------------------


def test_non_dev_stacks_schedule_backups_with_retention():
    evaluation = evaluate("sim")
    site = site_config("sim")
    schedule = evaluation.named("codenvy-backups-schedule")
    assert f"ENTRY='{site.backup.schedule} {site.backup.tools_directory}/codenvy-backup-codenvy " in script_of(schedule)
    assert "ENTRY=''" in script_of(schedule, "delete"), "removing the schedule removes the crontab line"
    tool = evaluation.named("codenvy-backups-backup-tool")
    assert f"KEEP={site.backup.keep}" in tool.inputs["create"] and "FILE_MODE=0755" in tool.inputs["create"]
    assert tool.inputs["connection"]["host"] == site.master.address


def test_backups_must_be_scheduled_outside_dev():
    message, attempt = refused("sim", {"codenvy-infra:backup": {"schedule": None}}, {})
    assert "codenvy-infra:backup.schedule: backups must be scheduled outside environment dev" in message
    assert attempt.resources == []


def test_restore_tool_is_installed_beside_the_backup_tool():
    tool = evaluate("sim").named("codenvy-backups-restore-tool")
    assert "pg_restore --single-transaction" in tool.inputs["create"]
    assert "ANALYZE" in tool.inputs["create"]


# --- disaster recovery -----------------------------------------------------------------------------


def test_dr_stack_evaluates_against_the_dev_stacks_real_outputs():
    dev = evaluate("dev")
    standby = evaluate("dr")
    assert standby.exports["version"] == dev.exports["version"]
    assert [(n["ramGb"], n["cpus"]) for n in standby.exports["nodes"]] == [
        (n["ramGb"], n["cpus"]) for n in dev.exports["nodes"]
    ]
    check = standby.named("codenvy-dr-dr-primary-registry")
    assert f"REGISTRY={dev.exports['registry']}" in check.inputs["create"]
    transfer = standby.named("codenvy-dr-dr-transfer-tool")
    assert f"PRIMARY_ADDR={dev.exports['managerAddress']}" in transfer.inputs["create"]
    assert "MODE=hot" in transfer.inputs["create"]


def primary_outputs(**changes) -> dict:
    return {DEV: {**evaluate("dev").exports, **changes}}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"version": "5.23.0"}, "version: standby 5.22.0, primary 5.23.0"),
        (
            {"nodes": [{"name": "a", "address": "10.0.0.2", "ramGb": 8, "cpus": 2}] * 2},
            "workspace nodes: standby has 1, primary has 2",
        ),
        ({"nodes": [{"name": "a", "address": "10.0.0.2", "ramGb": 16, "cpus": 2}]}, "node capacity"),
        ({"licensePresent": True}, "licence: the primary has one"),
    ],
)
def test_standby_that_differs_from_its_primary_is_refused_before_any_change(changes, expected):
    message, attempt = refused("dr", {}, primary_outputs(**changes))
    assert "codenvy-infra:dr.primaryStack:" in message and DEV in message
    assert expected in message
    assert attempt.resources == []


def test_standby_of_an_undeployed_primary_says_so():
    message, _ = refused("dr", {}, {})
    assert re.search(r"has no output .*run `pulumi up` on the primary first", message)


def test_licensed_primary_needs_a_licensed_standby():
    outputs = primary_outputs(licensePresent=True)
    evaluation = evaluate(
        "dr", {"codenvy-infra:license": "LICENSE-KEY"}, stack_outputs=outputs, secret_keys=("codenvy-infra:license",)
    )
    assert evaluation.exports["licensePresent"] is True


def containers_started(evaluation: Evaluation) -> set[bool]:
    return {c.inputs["start"] for c in evaluation.of_type(CONTAINER)}


def test_hot_standby_runs_its_services_and_does_not_claim_dns():
    evaluation = evaluate("dr")
    assert containers_started(evaluation) == {True}
    assert evaluation.exports["active"] is False and evaluation.exports["dnsRecord"] is None
    assert evaluation.exports["standby"] == "hot"


def test_cold_standby_creates_containers_stopped_and_stages_backups():
    evaluation = evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, "standby": "cold"}})
    assert containers_started(evaluation) == {False}
    assert "MODE=cold" in evaluation.named("codenvy-dr-dr-transfer-tool").inputs["create"]
    assert evaluation.named("codenvy-dr-dr-transfer-schedule").inputs["create"].count("30 2 * * *") == 1


def test_promote_starts_services_stops_the_transfer_and_claims_dns():
    promoted = evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, "standby": "cold", "promote": True}})
    assert containers_started(promoted) == {True}
    assert not [r for r in promoted.resources if "transfer" in r.name]
    site = site_config("dr")
    assert promoted.exports["active"] is True and promoted.exports["standby"] is None
    assert promoted.exports["dnsRecord"] == {"name": site.hostname, "type": "A", "value": site.master.address}


def promotion_restore(evaluation: Evaluation) -> list[str]:
    return [script_of(r) for r in evaluation.resources if r.name.endswith("-promotion-restore")]


def test_promoting_a_cold_standby_restores_its_newest_staged_archive():
    promoted = evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, "standby": "cold", "promote": True}})
    (script,) = promotion_restore(promoted)
    site = site_config("dr")
    assert f"INCOMING_DIR={site.backup.directory}/incoming" in script.splitlines()
    assert f"RESTORE_TOOL={site.backup.tools_directory}/codenvy-restore-{site.site_name}" in script.splitlines()


@pytest.mark.parametrize(
    "dr", [{"standby": "cold"}, {"standby": "hot", "promote": True}], ids=["cold-not-promoted", "hot-promoted"]
)
def test_only_a_promoted_cold_standby_restores_at_promotion(dr):
    # A hot standby restored every transfer already; an unpromoted one keeps its archives staged.
    assert promotion_restore(evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, **dr}})) == []


def test_primary_claims_dns_and_a_primary_cannot_have_a_dr_section():
    assert evaluate("dev").exports["dnsRecord"]["name"] == site_config("dev").hostname
    message, _ = refused("dev", {"codenvy-infra:dr": {"primaryStack": DR}}, {})
    assert "codenvy-infra:dr: only a standby site has a dr section" in message
    message, _ = refused("dev", {"codenvy-infra:role": "standby"}, {})
    assert "codenvy-infra:dr: a standby site needs dr.primaryStack" in message
