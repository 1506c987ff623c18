"""The stand-in's engine health and capacity against docker/swarm v1.2.8's own rules; expected values come from swarm's
source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import pytest

from tests.unit.swarm.standin import GIB, engine, swarm


@pytest.mark.parametrize(("failures", "indicator"), [(0, 100), (1, 67), (2, 34), (3, 0)])
def test_health_indicator_falls_with_each_failure(failures, indicator):
    # cluster/engine.go:320-327: 100 - failures*100/FailureRetry (integer), 0 from FailureRetry on.
    counted = engine("n1")
    counted.failure_count = failures
    assert counted.health_indicator() == indicator


def test_the_third_connection_error_makes_an_engine_unhealthy():
    # cluster/engine.go:396-405 with --engine-failure-retry=3
    failing = engine("n1")
    for _ in range(3):
        failing.check_connection_err(swarm.EngineError("connection refused", connection=True))
    assert failing.status() == "Unhealthy"


def test_other_errors_do_not_count_against_health():
    # cluster/engine.go:452: errors other than connection errors change nothing.
    failing = engine("n1")
    for _ in range(5):
        failing.check_connection_err(swarm.EngineError("Error response from daemon: No such container: x"))
    assert (failing.status(), failing.failure_count) == ("Healthy", 0)


def test_a_success_brings_an_unhealthy_engine_back():
    # cluster/engine.go:429-438
    back = engine("n1", state="Unhealthy")
    back.failure_count = 7
    back.check_connection_err(None)
    assert (back.status(), back.failure_count) == ("Healthy", 0)


def test_total_memory_includes_the_default_overcommit():
    # cluster/engine.go:1084-1087 with swarm.overcommit=0.05 (cluster/swarm/cluster.go:88): 2 GiB + 5%.
    assert engine("n1", memory=2 * GIB).total_memory() == 2 * GIB + 2 * GIB * 5 // 100


@pytest.mark.parametrize(("server", "api"), [("20.10.24+dfsg1", "1.30"), ("17.05.0-ce", "1.29"), ("1.12.6", "1.24")])
def test_swarm_speaks_at_most_api_1_30_to_an_engine(server, api):
    # cluster/engine.go:469-500
    assert swarm.client_version_for(server) == api
