"""scripts/sim-cluster itself: `up` gives answering engines with their own identity, `down` leaves nothing."""

from __future__ import annotations

import subprocess

from scripts.sim.node import BRIDGE, CGROUP_PREFIX, NETNS_PREFIX, NOTHING_RUNS, STATE
from tests.cluster.sim import sim_cluster, start_cluster, stop_cluster


def leftovers() -> list[str]:
    found = []
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    found += [f"netns {line.split()[0]}" for line in namespaces.splitlines() if line.startswith(NETNS_PREFIX)]
    daemons = subprocess.run(["pgrep", "-af", "dockerd"], capture_output=True, text=True).stdout
    found += [f"process {line}" for line in daemons.splitlines() if CGROUP_PREFIX in line]
    if subprocess.run(["ip", "link", "show", BRIDGE], capture_output=True).returncode == 0:
        found.append(f"bridge {BRIDGE}")
    if STATE.exists():
        found.append(f"state {STATE}")
    return found


def test_up_gives_answering_engines_and_down_leaves_nothing(tmp_path):
    try:
        nodes = start_cluster(2, tmp_path / "nodes.json")
        assert [node.name for node in nodes] == ["node1", "node2"]
        assert len({node.address for node in nodes}) == 2
        for node in nodes:
            assert node.docker("info", "--format", "{{.Name}}").stdout.strip() == node.name
            assert node.ssh("hostname").stdout.strip() == node.name
            assert node.ssh("docker info --format '{{.Name}}'").stdout.strip() == node.name
        for own_dir in ("/etc/docker", "/etc/codenvy", "/var/backups", "/usr/local/lib/codenvy"):
            nodes[0].ssh(f"touch {own_dir}/written-on-node1")
            assert "written-on-node1" not in nodes[1].ssh(f"ls {own_dir}").stdout, f"each node has its own {own_dir}"
        assert sim_cluster("up", "--nodes", "2").returncode == 0, "up on a running cluster reports it"
    finally:
        stop_cluster(kill=False)
    assert leftovers() == []
    assert sim_cluster("status").stdout.strip() == NOTHING_RUNS
    assert sim_cluster("down").returncode == 0, "down is safe to repeat"
