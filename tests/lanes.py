"""How `make test` shares the lanes between two pytest-xdist workers (`-p tests.lanes`): the cluster lane goes
whole, in file order, to one worker, since its simulated hosts are one per machine and its modules run one after
another on them; every other test is a unit of its own for whichever worker is free. xdist's own `loadgroup`
cannot say this under pytest 9 (it renames the test ids, which pytest 9 no longer reads)."""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadScopeScheduling

CLUSTER_LANE = "tests/cluster/"


class LaneScheduling(LoadScopeScheduling):
    def _split_scope(self, nodeid: str) -> str:
        return CLUSTER_LANE if nodeid.startswith(CLUSTER_LANE) else nodeid


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> LaneScheduling:
    return LaneScheduling(config, log)
