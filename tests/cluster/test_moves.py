"""Moving code moves no resource: the sim site deployed by the program as it was at BASELINE, then `up` with the
program as it is now. The engine matches every old URN through the aliases moved components carry; without
them it would create the new URNs and delete the old ones, which for a Command with a delete script means
undoing the host's firewall or swarm membership. Whatever changed on purpose since the baseline is listed
here, so each such change is a decision someone wrote down."""

from __future__ import annotations

import contextlib
import io
import runpy
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

from tests.cluster.sim import lane_engine
from tests.engine.engine import Backend, Engine, Result
from tests.harness import PROJECT_DIR

# The sim stack's three hosts.
LANE_NODES = 3
# The program with the real server contract and workspace placement, before the first structural round:
# the oldest program the lane's stand-ins, which follow the real product, can run.
BASELINE = "bdf7892"
# Types created on purpose since the baseline (a component has no provider: its create makes nothing
# anywhere, only a node in the state's tree).
CREATED_ON_PURPOSE: set[str] = {
    "command:remote:Command",  # the server's database role gets the stack's password
}
# Resources updated, replaced or deleted on purpose since the baseline.
UPDATED_ON_PURPOSE: set[str] = {
    # Every site container restarts always (back after a reboot and a daemon crash), in place.
    *(f"codenvy-{name}" for name in ("registry-container", "master-server", "master-placement-container",
                                     "master-haproxy", "master-agents-container", "master-postgres",
                                     "relay-10-77-0-12-container", "relay-10-77-0-13-container")),
    # The daemon-config script's comment now says why containers come back; the script runs again, idempotent.
    *(f"codenvy-ws-{node}-daemon-config" for node in ("node1", "node2", "node3")),
    # The swarm init now claims a swarm an earlier resource of this stack owns; it runs again, idempotent.
    "codenvy-network-swarm-init",
    # The backup script backs a cold standby up from its staged archive; the pre-upgrade backup runs
    # again and finds the version deployed, the tool is installed again.
    "codenvy-backups-backup-tool", "codenvy-master-pre-upgrade-backup",
    # The restore lists fs.tar and refuses devices, setuid files and entries outside fs/ before docker
    # cp; the tool is installed again.
    "codenvy-backups-restore-tool",
    # The wait for the placement engines prints progress; it runs again, idempotent. (The database
    # password's wait prints it too, but that Command is created since the baseline: CREATED_ON_PURPOSE.)
    "codenvy-master-placement-ready",
    # The backup schedule makes the directory its log goes to, without which cron runs nothing; it runs again,
    # idempotent.
    "codenvy-backups-schedule",
}  # fmt: skip
REPLACED_ON_PURPOSE: set[str] = set()
DELETED_ON_PURPOSE: set[str] = set()


def released_tree(destination: Path) -> Path:
    """The project at BASELINE, from this clone's history."""
    try:
        archive = subprocess.run(
            ["git", "-C", str(PROJECT_DIR), "archive", "--format=tar", BASELINE],
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as error:
        pytest.fail(f"the lane needs git history back to {BASELINE} (a clone, not an export): {error}")
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination


@contextlib.contextmanager
def released_components(tree: Path):
    """The released `components` package in place of the current one, which this process has imported, for
    a whole run: the SDK still resolves the program's annotations and callbacks after its body returns."""

    def ours(name: str) -> bool:
        return name == "components" or name.startswith("components.")

    current = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in current:
        del sys.modules[name]
    sys.path.insert(0, str(tree))
    try:
        yield lambda: runpy.run_path(str(tree / "__main__.py"), run_name="__main__")
    finally:
        sys.path.remove(str(tree))
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(current)


@pytest.fixture(scope="module")
def engine(cluster, ssh_agent) -> Engine:
    return lane_engine("sim", cluster, Backend(), ssh_agent)


@pytest.fixture(scope="module")
def released_up(engine, tmp_path_factory) -> Result:
    tree = released_tree(tmp_path_factory.mktemp("released"))
    config = yaml.safe_load((tree / "Pulumi.sim.yaml").read_text())["config"]
    with released_components(tree) as program:
        engine.program = program
        try:
            return engine.up(config)
        finally:
            engine.program = None


@pytest.fixture(scope="module")
def current_up(engine, released_up) -> Result:
    return engine.up()


def names(steps, *kinds: str) -> set[str]:
    return {step.urn.rsplit("::", 1)[-1] for step in steps if step.kind in kinds}


def test_the_baseline_program_converges_the_site(released_up):
    assert names(released_up.steps, "create") and not names(released_up.steps, "replace", "delete")


def test_the_current_program_creates_only_the_new_components(current_up):
    assert {step.type for step in current_up.steps if step.kind == "create"} == CREATED_ON_PURPOSE


def test_the_current_program_replaces_only_what_changed_on_purpose(current_up):
    assert names(current_up.steps, "replace", "delete-replaced") == REPLACED_ON_PURPOSE


def test_the_current_program_deletes_only_what_changed_on_purpose(current_up):
    assert names(current_up.steps, "delete") == DELETED_ON_PURPOSE


def test_only_what_changed_on_purpose_is_updated(current_up):
    assert names(current_up.steps, "update") == UPDATED_ON_PURPOSE


def test_a_second_up_changes_nothing(engine, current_up):
    assert engine.up().diff() == []
