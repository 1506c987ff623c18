"""The disaster-recovery standby as the program registers it, under mocks, with the previous and the primary stack's
outputs supplied as the engine would read them. Parity with the primary, hot and cold standbys, the nightly transfer
and promotion."""

from __future__ import annotations

import functools
import re

import pytest

from tests.harness import Evaluation, evaluate, full_stack_name, site_config
from tests.unit.stack_reads import DEV, cron_words, installed_parameters, parameters, refused

DR = full_stack_name("dr")


CONTAINER = "docker:index/container:Container"


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
