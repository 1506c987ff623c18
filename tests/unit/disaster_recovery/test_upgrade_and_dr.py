"""Upgrades, backups and the disaster-recovery standby, under mocks, with the previous and the primary
stack's outputs supplied as the engine would read them."""

from __future__ import annotations

import functools
import posixpath
import re

import pytest

from components.config import ConfigError
from components.versioning import UpgradeRefusedError, plan_upgrade, version_key
from tests.harness import (
    Evaluation,
    evaluate,
    full_stack_name,
    script_of,
    script_parameters,
    site_config,
    template_of,
)

DEV = full_stack_name("dev")
DR = full_stack_name("dr")
CONTAINER = "docker:index/container:Container"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def dev_after(previous_version: str | None, **overrides) -> Evaluation:
    outputs = {} if previous_version is None else {DEV: {"version": previous_version}}
    return evaluate("dev", overrides, stack_outputs=outputs)


def refused(stack: str, overrides: dict, outputs: dict) -> tuple[str, Evaluation]:
    attempt = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(stack, overrides, stack_outputs=outputs, into=attempt)
    return str(caught.value), attempt


def parameters(registration, key: str = "create") -> dict[str, str]:
    return script_parameters(script_of(registration, key))


def installed_parameters(tool) -> dict[str, str]:
    """The parameters of the script an install Command puts on the host."""
    return script_parameters(parameters(tool)["CONTENT"])


def cron_words(entry: str) -> tuple[list[str], str]:
    """A crontab line's five schedule fields and the command it runs."""
    words = entry.split()
    return words[:5], words[5]


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


@pytest.mark.parametrize(
    ("deployed", "target", "kind"),
    [(None, "5.1.0", "install"), ("5.1.0", "5.1.0", "same"), ("5.0.0-M8", "5.1.0", "upgrade")],
)
def test_the_plan_names_what_a_deployment_does(deployed, target, kind):
    assert plan_upgrade(deployed, target).kind == kind


def test_downgrade_plan_is_refused_with_both_versions():
    with pytest.raises(UpgradeRefusedError, match=r"downgrade from 5\.1\.0 \(deployed\) to 5\.0\.0"):
        plan_upgrade("5.1.0", "5.0.0")


# Configurations the program refuses, each with the stack outputs it is checked against.
REFUSED = {
    "downgrade": ("dev", {"codenvy-infra:version": "5.21.0"}, {DEV: {"version": "5.22.0"}}),
    "rename": ("dev", {"codenvy-infra:siteName": "renamed"}, {DEV: {"siteName": "codenvy"}}),
    "major-jump": ("dev", {"codenvy-infra:version": "6.0.0"}, {DEV: {"version": "5.22.0"}}),
    "unscheduled-backups": ("sim", {"codenvy-infra:backup": {"schedule": None}}, {}),
}


@functools.cache
def refusal(case: str) -> tuple[str, Evaluation]:
    return refused(*REFUSED[case])


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


# --- backups ---------------------------------------------------------------------------------------


@functools.cache
def sim() -> Evaluation:
    return evaluate("sim")


def test_backups_run_the_backup_tool_on_the_configured_schedule():
    site = site_config("sim")
    schedule, command = cron_words(parameters(sim().named("codenvy-backups-schedule"))["ENTRY"])
    assert (schedule, command) == (
        site.backup.schedule.split(),
        f"{site.backup.tools_directory}/codenvy-backup-codenvy",
    )


def test_removing_the_schedule_removes_its_crontab_line():
    assert parameters(sim().named("codenvy-backups-schedule"), "delete")["ENTRY"] == ""


def test_the_backup_tool_keeps_the_configured_number_of_archives():
    keep = installed_parameters(sim().named("codenvy-backups-backup-tool"))["KEEP"]
    assert int(keep) == site_config("sim").backup.keep


def test_the_backup_tool_is_installed_executable():
    assert parameters(sim().named("codenvy-backups-backup-tool"))["FILE_MODE"] == "0755"


def test_the_backup_tool_is_installed_on_the_master():
    tool = sim().named("codenvy-backups-backup-tool")
    assert tool.inputs["connection"]["host"] == site_config("sim").master.address


def test_backups_must_be_scheduled_outside_dev():
    message = refusal("unscheduled-backups")[0]
    assert "codenvy-infra:backup.schedule: backups must be scheduled outside environment dev" in message


def test_the_restore_tool_is_installed_beside_the_backup_tool():
    restore, backup = (parameters(sim().named(f"codenvy-backups-{kind}-tool")) for kind in ("restore", "backup"))
    assert posixpath.dirname(restore["TARGET"]) == posixpath.dirname(backup["TARGET"])


def test_the_restore_tool_restores_the_database_in_one_transaction():
    assert "pg_restore --single-transaction" in parameters(sim().named("codenvy-backups-restore-tool"))["CONTENT"]


def test_the_restore_tool_analyzes_the_restored_database():
    assert "ANALYZE" in parameters(sim().named("codenvy-backups-restore-tool"))["CONTENT"]


# --- disaster recovery -----------------------------------------------------------------------------


@functools.cache
def dev() -> Evaluation:
    return evaluate("dev")


@functools.cache
def standby_of_dev(**dr) -> Evaluation:
    """The dr stack (with `dr` settings over its file's) reading the dev stack's real outputs."""
    overrides = {"codenvy-infra:dr": {"primaryStack": DEV, **dr}} if dr else {}
    return evaluate("dr", overrides, stack_outputs={DEV: dev().exports})


def test_the_standby_runs_the_primarys_version():
    assert standby_of_dev().exports["version"] == dev().exports["version"]


def test_the_standby_has_the_primarys_node_capacity():
    def capacity(evaluation: Evaluation) -> list[tuple]:
        return [(n["ramGb"], n["cpus"]) for n in evaluation.exports["nodes"]]

    assert capacity(standby_of_dev()) == capacity(dev())


def test_the_standby_checks_the_primarys_registry():
    check = standby_of_dev().named("codenvy-dr-dr-primary-registry")
    assert parameters(check)["REGISTRY"] == dev().exports["registry"]


def test_the_transfer_fetches_from_the_primarys_manager():
    transfer = installed_parameters(standby_of_dev().named("codenvy-dr-dr-transfer-tool"))
    assert transfer["PRIMARY_ADDR"] == dev().exports["managerAddress"]


def test_a_hot_standby_restores_each_transfer():
    assert installed_parameters(standby_of_dev().named("codenvy-dr-dr-transfer-tool"))["MODE"] == "restore"


def primary_outputs(**changes) -> dict:
    return {DEV: {**dev().exports, **changes}}


PARITY = {
    "version": ({"version": "5.23.0"}, "version: standby 5.22.0, primary 5.23.0"),
    "node-count": (
        {"nodes": [{"name": "a", "address": "10.0.0.2", "ramGb": 8, "cpus": 2}] * 2},
        "workspace nodes: standby has 1, primary has 2",
    ),
    "node-capacity": ({"nodes": [{"name": "a", "address": "10.0.0.2", "ramGb": 16, "cpus": 2}]}, "node capacity"),
    "licence": ({"licensePresent": True}, "licence: the primary has one"),
}


@functools.cache
def parity_refusal(case: str) -> tuple[str, Evaluation]:
    return refused("dr", {}, primary_outputs(**PARITY[case][0]))


@pytest.mark.parametrize("case", PARITY)
def test_a_standby_that_differs_from_its_primary_is_refused_naming_the_difference(case):
    message, _ = parity_refusal(case)
    assert "codenvy-infra:dr.primaryStack:" in message and DEV in message
    assert PARITY[case][1] in message


@pytest.mark.parametrize("case", PARITY)
def test_a_standby_that_differs_from_its_primary_registers_nothing(case):
    assert parity_refusal(case)[1].resources == []


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


def test_a_hot_standby_runs_its_services():
    assert containers_started(standby_of_dev()) == {True}


def test_a_hot_standby_reports_itself_an_inactive_hot_standby():
    exports = standby_of_dev().exports
    assert (exports["active"], exports["standby"]) == (False, "hot")


def test_a_hot_standby_does_not_claim_dns():
    assert standby_of_dev().exports["dnsRecord"] is None


def test_a_cold_standby_creates_its_containers_stopped():
    assert containers_started(standby_of_dev(standby="cold")) == {False}


def test_a_cold_standby_stages_transfers_without_restoring_them():
    transfer = installed_parameters(standby_of_dev(standby="cold").named("codenvy-dr-dr-transfer-tool"))
    assert transfer["MODE"] == "stage"


def test_the_transfer_runs_nightly_by_default():
    evaluation = standby_of_dev(standby="cold")
    schedule, command = cron_words(parameters(evaluation.named("codenvy-dr-dr-transfer-schedule"))["ENTRY"])
    tool = parameters(evaluation.named("codenvy-dr-dr-transfer-tool"))["TARGET"]
    assert (schedule, command) == (["30", "2", "*", "*", "*"], tool)


def promoted() -> Evaluation:
    return standby_of_dev(standby="cold", promote=True)


def test_promotion_starts_every_service():
    assert containers_started(promoted()) == {True}


def test_promotion_stops_the_transfer():
    assert not [r for r in promoted().resources if "transfer" in r.name]


def test_a_promoted_standby_reports_itself_the_active_site():
    exports = promoted().exports
    assert (exports["active"], exports["standby"]) == (True, None)


def test_a_promoted_standby_claims_dns():
    site = site_config("dr")
    assert promoted().exports["dnsRecord"] == {"name": site.hostname, "type": "A", "value": site.master.address}


def promotion_restore(evaluation: Evaluation) -> list[dict[str, str]]:
    return [parameters(r) for r in evaluation.resources if r.name.endswith("-promotion-restore")]


def test_promoting_a_cold_standby_restores_its_newest_staged_archive():
    (params,) = promotion_restore(promoted())
    site = site_config("dr")
    assert params["INCOMING_DIR"] == f"{site.backup.directory}/incoming"
    assert params["RESTORE_TOOL"] == f"{site.backup.tools_directory}/codenvy-restore-{site.site_name}"


@pytest.mark.parametrize(
    "dr", [{"standby": "cold"}, {"standby": "hot", "promote": True}], ids=["cold-not-promoted", "hot-promoted"]
)
def test_only_a_promoted_cold_standby_restores_at_promotion(dr):
    # A hot standby restored every transfer already; an unpromoted one keeps its archives staged.
    assert promotion_restore(standby_of_dev(**dr)) == []


def test_a_primary_claims_dns():
    assert dev().exports["dnsRecord"]["name"] == site_config("dev").hostname


def test_a_primary_cannot_have_a_dr_section():
    message, _ = refused("dev", {"codenvy-infra:dr": {"primaryStack": DR}}, {})
    assert "codenvy-infra:dr: only a standby site has a dr section" in message


def test_a_standby_needs_a_primary_stack():
    message, _ = refused("dev", {"codenvy-infra:role": "standby"}, {})
    assert "codenvy-infra:dr: a standby site needs dr.primaryStack" in message
