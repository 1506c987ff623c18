"""An upgrade backs up first and replaces the server only; a failed one names its image and keeps the site."""

from __future__ import annotations

import json

from tests.cluster.lifecycle.steps import MISSING_VERSION, UPGRADE_VERSION
from tests.cluster.site_driver import SITE, api, healthy, wait_for


def test_upgrade_plan_is_the_backup_and_the_server_replacement(primary, user_data):
    plan = primary.preview(version=UPGRADE_VERSION).changes()
    assert {(step.urn.rsplit("::", 1)[-1], step.kind) for step in plan} >= {
        (f"{SITE.site_name}-master-pre-upgrade-backup", "replace"),
        (f"{SITE.site_name}-master-server", "replace"),
    }
    others = {step.urn.rsplit("::", 1)[-1] for step in plan} - {
        f"{SITE.site_name}-master-pre-upgrade-backup",
        f"{SITE.site_name}-master-server",
        f"{SITE.site_name}-master-server-image",
    }
    # The version also reaches what reads it: Codenvy's other images of that version (the placement manager,
    # the agents, each host's relay), the tools that record it, and the audit report after an upgrade.
    versioned = ("-placement-", "-agents-", "-relay-", "audit", "backup-tool", "restore-tool")
    assert all(any(part in name for part in versioned) for name in others), others


def test_pre_upgrade_archive_exists_before_the_old_server_stops(primary, upgraded):
    result, _ = upgraded
    order = [step.urn.rsplit("::", 1)[-1] for step in result.steps]
    assert order.index(f"{SITE.site_name}-master-pre-upgrade-backup") < order.index(f"{SITE.site_name}-master-server")
    (archive,) = primary.master.ssh(f"ls -1 {SITE.backup.directory}/codenvy-{SITE.site_name}-*.tar").stdout.split()
    manifest = json.loads(primary.master.ssh(f"tar -xOf {archive} manifest.json").stdout)
    assert (manifest["reason"], manifest["version"]) == ("pre-upgrade", SITE.version)


def test_upgraded_server_runs_the_new_version(primary, upgraded):
    wait_for("healthy after the upgrade", lambda: healthy(primary))
    assert api(primary, "GET", "/stats")[1]["version"] == UPGRADE_VERSION


def test_users_and_files_survive_the_upgrade(primary, upgraded, user_data):
    stats = api(primary, "GET", "/stats")[1]
    assert {key: stats[key] for key in ("users", "workspaces", "files")} == {
        key: user_data["stats"][key] for key in ("users", "workspaces", "files")
    }
    status, content = api(primary, "GET", f"/project/{user_data['workspace']}/src/main.py")
    assert (status, content) == (200, b"print('hello')\n")


def test_upgrade_exports_the_new_version(primary, upgraded):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION


# Codenvy's own images, tagged with the site's version (upstream's CLI pins them per release).
VERSIONED_IMAGES = (SITE.images.server, SITE.images.swarm, SITE.images.socat, SITE.images.agents)


def test_a_failed_upgrade_names_the_image_it_could_not_pull(failed_upgrade):
    assert any(f"{repository}:{MISSING_VERSION}" in failed_upgrade for repository in VERSIONED_IMAGES), failed_upgrade


def test_a_failed_upgrade_keeps_the_deployed_version_exported(primary, failed_upgrade):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION


def test_the_site_keeps_serving_after_a_failed_upgrade(primary, failed_upgrade):
    assert api(primary, "GET", "/stats")[1]["version"] == UPGRADE_VERSION


def test_going_back_after_a_failed_upgrade_is_allowed(primary, upgrade_abandoned):
    assert primary.engine.checkpoint.outputs["version"] == UPGRADE_VERSION
    wait_for("healthy", lambda: healthy(primary))
