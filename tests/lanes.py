"""How `make test` shares the lanes between two pytest-xdist workers (`-p tests.lanes`): the modules on the
simulated hosts go whole, in file order, to one worker, since those hosts are one per machine and their modules
run one after another on them; the modules on a private engine of their own (its own network namespace, data
root and socket) go whole to whichever worker is free, beside them; every other test is a unit of its own.
xdist's own `loadgroup` cannot say this under pytest 9 (it renames the test ids, which pytest 9 no longer reads)."""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

CLUSTER_LANE = "tests/cluster/"
# Modules that never ask for the simulated hosts (tests/cluster/conftest.py refuses one that does).
PRIVATE_ENGINE_MODULES = ("tests/cluster/server_image/", "tests/cluster/test_images.py")


def lane_of(nodeid: str) -> str:
    for private in PRIVATE_ENGINE_MODULES:
        if nodeid.startswith(private):
            return private
    return CLUSTER_LANE if nodeid.startswith(CLUSTER_LANE) else nodeid


class LaneScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return lane_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LaneScheduling:
    return LaneScheduling(config, log)
