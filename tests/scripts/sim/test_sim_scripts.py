"""scripts/sim: its bash templates pass the checks the program's scripts pass, and scripts/sim-cluster, the sim
stack and the cluster lane agree on one definition of a node."""

from __future__ import annotations

import json
import os
import runpy
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from components.mirror_access import MIRROR_HOME
from scripts.sim.node import PER_NODE_DIRS, PER_NODE_FILES, RESTART_HELPER, Node, cluster_json
from scripts.sim.templates import SIM_SCRIPTS
from tests.harness import PROJECT_DIR, site_config

# Linux's limit on an interface name (IFNAMSIZ less its terminating NUL).
MAX_INTERFACE_NAME = 15


@pytest.fixture(scope="module")
def sim_cluster() -> dict:
    """scripts/sim-cluster's functions, loaded without running its command line."""
    return runpy.run_path(str(PROJECT_DIR / "scripts" / "sim-cluster"))


def sample_params(name: str) -> dict[str, str]:
    return {param.lower(): f"{param} with 'quotes',\n$dollars and `ticks`" for param in SIM_SCRIPTS.params(name)}


def assigned(script: str, names: list[str]) -> list[str]:
    """What bash holds in `names` once the script's parameter block has run (and none of its work)."""
    block = script[: script.index("# params:")]
    reader = block + "printf '%s\\0' " + " ".join(f'"${name}"' for name in names) + "\n"
    printed = subprocess.run(["bash", "-c", reader], capture_output=True, text=True, check=True).stdout
    return printed.split("\0")[:-1]


def test_there_are_templates_to_check():
    assert set(SIM_SCRIPTS.names()) == {"node_init", "restart_dockerd", "start_dockerd"}


@pytest.mark.parametrize("script", ["start_dockerd_script", "restart_dockerd_script", "node_init_script"])
def test_what_sim_cluster_writes_parses_with_bash(sim_cluster, script):
    writer = sim_cluster[script]
    rendered = writer() if script == "restart_dockerd_script" else writer(Node(3))
    subprocess.run(["bash", "-n"], input=rendered, text=True, check=True)


def test_a_node_mounts_each_of_its_own_directories_over_the_path_it_covers(sim_cluster):
    node = Node(2)
    (bind_mounts,) = assigned(sim_cluster["node_init_script"](node), ["BIND_MOUNTS"])
    pairs = dict(line.split("\t") for line in bind_mounts.splitlines())
    own_paths = {**PER_NODE_DIRS, **PER_NODE_FILES}
    assert pairs == {str(node.directory / own): target for own, target in own_paths.items()}


def test_the_restart_helper_runs_the_start_script_sim_cluster_writes_for_the_node(sim_cluster):
    node = Node(4)
    nodes_dir, start_dockerd = assigned(sim_cluster["restart_dockerd_script"](), ["NODES_DIR", "START_DOCKERD"])
    # The helper finds its node by hostname, and a node's hostname is its name.
    assert Path(nodes_dir) / node.name / start_dockerd == node.start_dockerd


def executable(path: Path, body: str) -> Path:
    path.write_text(f"#!/usr/bin/env bash\n{body}\n")
    path.chmod(0o755)
    return path


def fake_engine(tmp_path: Path, answers: bool) -> dict[str, str]:
    """A PATH where `docker info` answers or not, and `dockerd` only records that it was started."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    executable(bin_dir / "docker", "exit 0" if answers else "exit 1")
    executable(bin_dir / "dockerd", f"touch {tmp_path / 'dockerd-started'}")
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def start_dockerd(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = SIM_SCRIPTS.render(
        "start_dockerd",
        cgroup_parent="codenvy-sim-node7",
        docker_pidfile=tmp_path / "docker.pid",
        docker_socket=tmp_path / "docker.sock",
        log_file=tmp_path / "dockerd.log",
        node_name="node7",
        start_timeout=1,
    )
    return subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def appears(path: Path, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()


def test_start_dockerd_leaves_an_answering_daemon_alone(tmp_path):
    start_dockerd(tmp_path, fake_engine(tmp_path, answers=True))
    # The script starts dockerd in the background: give a wrongly started one the time to show.
    assert not appears(tmp_path / "dockerd-started", within=1.0)


def test_start_dockerd_names_the_node_when_its_daemon_never_answers(tmp_path):
    result = start_dockerd(tmp_path, fake_engine(tmp_path, answers=False))
    assert result.returncode == 1
    assert result.stderr.split(":")[0] == "node7"


def restart(tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """Runs the restart helper against a stand-in daemon; returns that daemon and the file its node's start
    script touches."""
    started = tmp_path / "started"
    nodes_dir = tmp_path / "nodes"
    (nodes_dir / socket.gethostname()).mkdir(parents=True)
    executable(nodes_dir / socket.gethostname() / "start-dockerd", f"touch {started}")
    daemon = subprocess.Popen(["sleep", "60"])
    # Reap it as soon as it ends, so the helper's `kill -0` sees it gone rather than a zombie.
    threading.Thread(target=daemon.wait, daemon=True).start()
    pidfile = tmp_path / "docker.pid"
    pidfile.write_text(f"{daemon.pid}\n")
    script = SIM_SCRIPTS.render(
        "restart_dockerd", docker_pidfile=pidfile, nodes_dir=nodes_dir, start_dockerd="start-dockerd", stop_timeout=10
    )
    try:
        subprocess.run(["bash", "-c", script], check=True, capture_output=True, timeout=30)
    finally:
        daemon.kill()
    return daemon, started


def test_the_restart_helper_stops_the_running_daemon(tmp_path):
    daemon, _ = restart(tmp_path)
    assert daemon.wait(timeout=5) == -signal.SIGTERM


def test_the_restart_helper_starts_the_daemon_again(tmp_path):
    _, started = restart(tmp_path)
    assert started.exists()


def test_a_node_is_read_back_from_what_sim_cluster_prints():
    (entry,) = json.loads(cluster_json([Node(2)]))["nodes"]
    assert Node.described(entry) == Node(2)


def test_a_description_this_layout_would_not_give_is_refused():
    (entry,) = json.loads(cluster_json([Node(2)]))["nodes"]
    with pytest.raises(ValueError, match="node2"):
        Node.described({**entry, "docker_host": "unix:///elsewhere/docker.sock"})


def test_a_namespace_sim_cluster_did_not_make_belongs_to_no_node():
    assert Node.of_namespace("csim-other") is None


def test_a_node_is_found_by_its_namespace():
    assert Node.of_namespace(Node(12).netns) == Node(12)


def test_the_largest_cluster_host_link_names_fit_linux(sim_cluster):
    assert len(Node(sim_cluster["MAX_NODES"]).host_link) <= MAX_INTERFACE_NAME


def test_the_sim_stack_runs_on_the_nodes_sim_cluster_makes():
    site = site_config("sim")
    hosts = [(host.name, host.address) for host in (site.master, *site.nodes)]
    assert hosts == [(Node(index).name, Node(index).address) for index in range(1, len(hosts) + 1)]


def test_the_sim_stack_restarts_docker_with_the_helper_sim_cluster_installs():
    site = site_config("sim")
    assert {host.docker_restart_command for host in (site.master, *site.nodes)} == {str(RESTART_HELPER)}


def test_each_node_has_a_home_of_its_own_for_the_mirror_account():
    """The program puts the standbys' keys there; on a node that shares the machine's, any node would take them."""
    assert PER_NODE_DIRS["mirror-home"] == MIRROR_HOME
