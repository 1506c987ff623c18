"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: checks run once
and run again through their triggers."""

from __future__ import annotations

from tests.harness import site_config
from tests.unit.real_engine.commands.fake_host import run, shipped


def test_the_ready_check_runs_again_when_the_nodes_daemon_config_changes():
    before = shipped("sim").named("codenvy-ws-node2-ready")
    after = run("sim", {"codenvy-infra:logs": {"maxSize": "20m"}}).named("codenvy-ws-node2-ready")
    assert before.inputs["triggers"] != after.inputs["triggers"]


def test_replacing_the_ready_check_undoes_nothing():
    assert "delete" not in shipped("sim").named("codenvy-ws-node2-ready").inputs


def test_the_primary_registry_is_checked_again_when_the_version_changes():
    check = shipped("dr").named("codenvy-dr-dr-primary-registry")
    assert check.inputs["triggers"] == [site_config("dr").version]
