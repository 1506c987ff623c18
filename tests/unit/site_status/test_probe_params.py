"""What `make status` asks each host: only the master is asked about the site's backups."""

from __future__ import annotations

from components.site_status import probe_params
from tests.harness import site_config


def test_the_master_is_asked_about_the_backups_where_the_site_keeps_them():
    site = site_config("sim")
    assert probe_params(site, site.master.name)["backup_dir"] == site.backup.directory


def test_a_workspace_node_is_asked_about_no_backups():
    site = site_config("sim")
    asked = {node.name: probe_params(site, node.name)["backup_dir"] for node in site.nodes}
    assert (bool(asked), set(asked.values())) == (True, {""})
