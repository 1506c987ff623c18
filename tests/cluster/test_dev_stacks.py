"""The shipped dev and dr stacks on one simulated host standing in for "this machine": every role on its
Docker engine, local Commands run on it, the standby beside its primary. Each converges, then previews
empty, as `pulumi up` twice would show."""

from __future__ import annotations

import pytest

from tests.cluster.sim import local_engine
from tests.engine.engine import Backend, Engine, Result

# One host plays the developer's machine.
LANE_NODES = 1
SERVICES = ("postgres", "server", "haproxy", "registry")


@pytest.fixture(scope="module")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="module")
def dev(cluster, backend, tmp_path_factory) -> tuple[Engine, Result]:
    engine = local_engine("dev", cluster[0], backend, tmp_path_factory.mktemp("dev-workdir"))
    return engine, engine.up()


@pytest.fixture(scope="module")
def dr(cluster, backend, dev, tmp_path_factory) -> tuple[Engine, Result]:
    engine = local_engine("dr", cluster[0], backend, tmp_path_factory.mktemp("dr-workdir"))
    return engine, engine.up()


def running(cluster, site_name: str) -> set[str]:
    names = cluster[0].docker("ps", "--format", "{{.Names}}").stdout.split()
    return {service for service in SERVICES if f"{site_name}-{service}" in names}


def test_dev_stack_runs_every_service_on_this_machine(cluster, dev):
    assert running(cluster, "codenvy") == set(SERVICES)


def test_dev_stack_second_preview_is_empty(dev):
    engine, _ = dev
    assert engine.preview().diff() == []


def test_dr_stack_runs_beside_dev_as_a_hot_standby(cluster, dr):
    assert running(cluster, "codenvy-dr") == set(SERVICES)


def test_dr_stack_second_preview_is_empty(dr):
    engine, _ = dr
    assert engine.preview().diff() == []


def test_dev_preview_is_still_empty_beside_its_standby(dev, dr):
    engine, _ = dev
    assert engine.preview().diff() == []
