"""A cold standby beside the primary: nightly transfer, its own backup, promotion, and the restore's refusals."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from tests.cluster.lifecycle.steps import scripts_run_again
from tests.cluster.site_driver import MASTER_SERVICES, SITE, Site, api, healthy, wait_for


def test_cold_standby_keeps_its_services_stopped(standby, cold_standby):
    assert not any(standby.container(service)["State"]["Running"] for service in MASTER_SERVICES)


def test_cold_standby_second_preview_is_empty(standby, cold_standby):
    assert standby.preview().diff() == []


def test_every_script_run_again_on_the_cold_standby_changes_nothing(standby, cold_standby):
    scripts_run_again(standby)


def database_sum(site: Site, archive: str) -> str:
    return json.loads(site.master.ssh(f"tar -xOf {archive} manifest.json").stdout)["members"]["database.dump"]


def test_cold_standby_backs_up_the_database_its_promotion_restores(standby, cold_backup):
    staged = standby.master.ssh(f"ls -1t {SITE.backup.directory}/incoming/*.tar | head -n 1").stdout.strip()
    assert database_sum(standby, cold_backup) == database_sum(standby, staged)


def test_cold_standby_backup_starts_no_service(standby, cold_backup):
    assert not any(standby.container(service)["State"]["Running"] for service in MASTER_SERVICES)


def test_promotion_starts_every_service(standby, promoted):
    wait_for("the promoted standby healthy", lambda: healthy(standby))


def test_promotion_removes_the_transfer_tool_and_its_schedule(standby, promoted):
    tools = standby.master.ssh(f"ls {SITE.backup.tools_directory}").stdout
    assert "codenvy-transfer-codenvy-dr" not in tools
    crontab = standby.master.ssh("crontab -l 2> /dev/null || true").stdout
    assert "transfer" not in crontab


def test_promoted_standby_has_the_primarys_data_as_of_the_transfer(standby, primary, promoted, transferred):
    wait_for("the promoted standby healthy", lambda: healthy(standby))
    stats = api(standby, "GET", "/stats", ca=standby.engine.checkpoint.outputs["registryCaCert"])[1]
    assert {k: stats[k] for k in ("users", "workspaces", "files", "limits")} == {
        k: transferred[k] for k in ("users", "workspaces", "files", "limits")
    }


def test_promoted_standby_claims_the_dns_record(standby, promoted):
    assert standby.engine.checkpoint.outputs["dnsRecord"]["value"] == standby.master.address


def test_promoted_standby_second_preview_is_empty(standby, promoted):
    assert standby.preview().diff() == []


def test_every_script_run_again_on_the_promoted_standby_changes_nothing(standby, promoted):
    scripts_run_again(standby)


# --- restore refuses what it must, on the promoted standby -------------------------------------------------


def fingerprint(site: Site) -> dict[str, Any]:
    return api(site, "GET", "/stats", ca=site.engine.checkpoint.outputs["registryCaCert"])[1]


def restore_damaged_copy(standby: Site, damage: str) -> subprocess.CompletedProcess:
    """The standby's restore tool on a damaged copy of the archive it fetched from the primary."""
    node = standby.master
    node.ssh(f"rm -rf /tmp/damaged && mkdir /tmp/damaged && cp \"$(ls -1t {SITE.backup.directory}/incoming/*.tar "
             f"| head -n 1)\" /tmp/damaged/a.tar && cd /tmp/damaged && {damage}")  # fmt: skip
    return node.ssh(f"{SITE.backup.tools_directory}/codenvy-restore-{standby.name} /tmp/damaged/a.tar", check=False)


def test_the_cold_standbys_own_backup_restores_into_the_promoted_site(standby, cold_backup, promoted):
    before = fingerprint(standby)
    restore = f"{SITE.backup.tools_directory}/codenvy-restore-{standby.name} {cold_backup}"
    result = standby.master.ssh(restore, check=False)
    assert result.returncode == 0, result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_truncated_archive_and_changes_nothing(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, "truncate -s 4096 a.tar")
    assert result.returncode != 0 and "corrupt or truncated" in result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_tampered_member(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(
        standby, "mkdir x && tar -xf a.tar -C x && echo junk >> x/fs.tar && tar -C x -cf a.tar ."
    )
    assert result.returncode != 0 and "checksums" in result.stderr
    assert fingerprint(standby) == before


# The primary's fs.tar with a device node and a setuid file added, and the sums made again, as a hostile primary
# would: only the restore's own look at fs.tar stands between them and docker cp.
HOSTILE_FS = ("mkdir x f f/fs && tar -xf a.tar -C x && mknod f/fs/null c 1 3 && cp /bin/true f/fs/suid && "
              "chmod 4755 f/fs/suid && tar -C f -rf x/fs.tar fs/null fs/suid && (cd x && sha256sum database.dump "
              "fs.tar instance.tar manifest.json > SHA256SUMS) && ")  # fmt: skip


def test_restore_refuses_device_and_setuid_entries_naming_them(standby, promoted):
    """About 2 s."""
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, HOSTILE_FS + REPACK)
    assert result.returncode != 0
    assert "fs/null (a device node)" in result.stderr and "fs/suid (setuid)" in result.stderr
    assert fingerprint(standby) == before


NEWER_MANIFEST = 'sed -i \'s/"version": "[^"]*"/"version": "9.0.0"/\' x/manifest.json'
REPACK = "tar -C x -cf a.tar manifest.json SHA256SUMS database.dump fs.tar instance.tar"


def test_restore_refuses_an_edited_manifest(standby, promoted):
    before = fingerprint(standby)
    result = restore_damaged_copy(standby, f"mkdir x && tar -xf a.tar -C x && {NEWER_MANIFEST} && {REPACK}")
    assert result.returncode != 0 and "checksums" in result.stderr
    assert fingerprint(standby) == before


def test_restore_refuses_a_backup_from_a_newer_version(standby, promoted):
    before = fingerprint(standby)
    resum = "(cd x && sha256sum database.dump fs.tar instance.tar manifest.json > SHA256SUMS)"
    result = restore_damaged_copy(standby, f"mkdir x && tar -xf a.tar -C x && {NEWER_MANIFEST} && {resum} && {REPACK}")
    assert result.returncode != 0 and "from 9.0.0, newer than this site's" in result.stderr
    assert fingerprint(standby) == before
