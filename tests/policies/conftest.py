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


@pytest.fixture(scope="module")
def registry(sim):
    return sim.named("codenvy-registry-container")


@pytest.fixture(scope="module")
def daemon(sim):
    """A workspace node's daemon.json command."""
    return sim.named("codenvy-ws-node2-daemon-config")


@pytest.fixture(autouse=True)
def no_docker_environment(monkeypatch):
    """The pack reads DOCKER_HOST and DOCKER_CONTEXT as the provider does; the lane's verdicts must not depend
    on the shell that runs it."""
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_CONTEXT", raising=False)
