"""A worker gone for good is removed without running anything on it; destroy leaves hosts and state empty."""

from __future__ import annotations

from tests.cluster.site_driver import SITE


def test_removing_an_unreachable_worker_finishes(dead_worker_removed):
    _, removed = dead_worker_removed
    assert any(step.kind == "delete" and "node3" in step.urn for step in removed.steps)


def test_removing_an_unreachable_worker_runs_nothing_on_it(primary, dead_worker_removed):
    node3 = primary.nodes["node3"].address
    logged = primary.engine.log[primary.log_mark :]
    touched = [line.text for line in logged if node3 in line.text and line.severity == "error"]
    assert touched == []


def test_manager_no_longer_lists_the_unreachable_worker(primary, dead_worker_removed):
    assert "node3" not in primary.master.docker("node", "ls", "--format", "{{.Hostname}}").stdout.split()


def test_destroy_keeps_the_data_volumes(primary, destroyed):
    volumes = primary.master.docker("volume", "ls", "--format", "{{.Name}}").stdout.split()
    assert {f"{SITE.site_name}-pgdata", f"{SITE.site_name}-fs", f"{SITE.site_name}-registry-data"} <= set(volumes)


def test_destroy_leaves_hosts_clean(primary, destroyed):
    for name in (SITE.master.name, "node2"):
        node = primary.nodes[name]
        assert node.docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip() == "inactive", name
        assert "codenvy" not in node.ssh("nft list tables").stdout, name
        assert "codenvy" not in node.ssh("crontab -l 2> /dev/null || true").stdout, name
    tools = primary.master.ssh(f"ls {SITE.backup.tools_directory}").stdout
    assert tools.split() == [], tools
    assert primary.master.docker("ps", "-aq").stdout.split() == []


def test_destroy_leaves_an_empty_state(primary, destroyed):
    assert primary.engine.checkpoint.resources == []
