"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: a daemon config change on the master restarts or reloads its
engine without losing what ran."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import evaluate, script_of, site_config, stack_file_config

FAKE_DOCKER = """#!/usr/bin/env bash
# A Docker CLI over a state directory: `running` and `all` list container IDs, newest first.
set -euo pipefail
state=$FAKE_DOCKER_STATE
case "$1" in
  ps) cat "$state/running" ;;
  info) true ;;
  inspect)
    id=${@: -1}
    grep -qx "$id" "$state/all" || exit 1
    if grep -qx "$id" "$state/running"; then echo true; else echo false; fi ;;
  start)
    echo "$2" >> "$state/running"
    echo "$2" >> "$state/started"
    echo "$2" ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""


# The daemon restart stops every container; the fake brings none back by itself, as for workspace machines,
# which have no restart policy.
FAKE_RESTART = """#!/usr/bin/env bash
: > "$FAKE_DOCKER_STATE/running"
"""


def _can_own_etc_docker() -> bool:
    if os.geteuid() != 0 or not Path("/etc/docker").is_dir() or not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "--mount", "true"], capture_output=True, check=False).returncode == 0


def _executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o755)
    return path


RAN = ["c-haproxy", "c-server", "c-postgres"]


@pytest.fixture
def fake_host(tmp_path) -> Path:
    """A fake Docker (three containers running, one stopped by hand), restart and reload helpers that record
    that they ran."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "docker", FAKE_DOCKER)
    _executable(tmp_path / "restart-dockerd", FAKE_RESTART + 'echo restart >> "$FAKE_DOCKER_STATE/helpers"\n')
    _executable(tmp_path / "reload-dockerd", '#!/usr/bin/env bash\necho reload >> "$FAKE_DOCKER_STATE/helpers"\n')
    state = tmp_path / "state"
    state.mkdir()
    (state / "running").write_text("".join(f"{c}\n" for c in RAN))
    (state / "all").write_text("".join(f"{c}\n" for c in [*RAN, "c-stopped-by-hand"]))
    return tmp_path


def master_daemon_config(host: Path, master: dict | None = None, **config):
    """The sim master's daemon-config command, with the fake helpers, `master` settings and stack `config`."""
    settings = {
        **stack_file_config("sim")["codenvy-infra:master"],
        "dockerRestartCommand": str(host / "restart-dockerd"),
        "dockerReloadCommand": str(host / "reload-dockerd"),
        **(master or {}),
    }
    stack = {"codenvy-infra:master": settings, **{f"codenvy-infra:{key}": value for key, value in config.items()}}
    return evaluate("sim", stack).named("codenvy-ws-node1-daemon-config")


def run_on_master(host: Path, *commands) -> subprocess.CompletedProcess:
    """The master's daemon-config scripts one after the other, in a mount namespace of their own with an empty
    /etc/docker."""
    own_etc = 'mount --make-rprivate / && mount -t tmpfs tmpfs /etc/docker && for s in "$@"; do bash -c "$s"; done'
    return subprocess.run(
        ["unshare", "--mount", "bash", "-ec", own_etc, "-", *(script_of(command) for command in commands)],
        env={**os.environ, "PATH": f"{host / 'bin'}:{os.environ['PATH']}", "FAKE_DOCKER_STATE": str(host / "state")},
        capture_output=True,
        text=True,
        check=False,
    )


needs_own_etc = pytest.mark.skipif(
    not _can_own_etc_docker(), reason="needs root and a private mount namespace for /etc/docker"
)


@needs_own_etc
def test_daemon_config_change_leaves_the_containers_that_ran_running(fake_host):
    result = run_on_master(fake_host, master_daemon_config(fake_host))
    assert result.returncode == 0, result.stderr
    assert sorted((fake_host / "state" / "running").read_text().split()) == sorted(RAN)


@needs_own_etc
def test_daemon_config_change_starts_the_database_before_the_server(fake_host):
    run_on_master(fake_host, master_daemon_config(fake_host))
    assert (fake_host / "state" / "started").read_text().split() == list(reversed(RAN))


@needs_own_etc
def test_draining_a_host_reloads_its_daemon_without_a_restart(fake_host):
    drained = master_daemon_config(fake_host, {"drain": True})
    result = run_on_master(fake_host, master_daemon_config(fake_host), drained)
    assert result.returncode == 0, result.stderr
    assert (fake_host / "state" / "helpers").read_text().split() == ["restart", "reload"]


@needs_own_etc
def test_a_daemon_change_a_reload_cannot_apply_restarts(fake_host):
    bigger_logs = master_daemon_config(fake_host, logs={"maxSize": "20m", "maxFile": 3})
    run_on_master(fake_host, master_daemon_config(fake_host), bigger_logs)
    assert (fake_host / "state" / "helpers").read_text().split() == ["restart", "restart"]


def test_every_docker_resource_on_a_managed_master_waits_for_its_daemon_config():
    # The daemon-config Command restarts the master's dockerd when daemon.json changes; a container,
    # network, volume or image created meanwhile fails ("Cannot connect to the Docker daemon").
    evaluation = evaluate("sim")
    master = site_config("sim").master.name
    (daemon_config,) = [r.urn for r in evaluation.resources if r.name.endswith(f"-ws-{master}-daemon-config")]
    master_provider = next(r.urn for r in evaluation.resources if r.name.endswith(f"-{master}-docker"))
    on_master = [
        r for r in evaluation.resources if r.type.startswith("docker:index/") and r.provider.startswith(master_provider)
    ]
    assert on_master
    waiting = {r.name for r in on_master if daemon_config in evaluation.waits_for(r.urn)}
    assert waiting == {r.name for r in on_master}
