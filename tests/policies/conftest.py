"""The policy pack as the engine would call it, on resources the real program registers under mocks."""

from __future__ import annotations

import sys

import pytest

from tests.harness import PROJECT_DIR, evaluate

sys.path.insert(0, str(PROJECT_DIR / "policies"))


@pytest.fixture(scope="module")
def sim():
    """What the sim stack's real program registers."""
    return evaluate("sim")


@pytest.fixture(scope="module")
def postgres(sim):
    return sim.named("codenvy-master-postgres")
