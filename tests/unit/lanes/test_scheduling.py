"""How `make test` shares the lanes between its two workers (tests/lanes.py)."""

from __future__ import annotations

from tests.lanes import CLUSTER_LANE, PRIVATE_ENGINE_MODULES, lane_of


def test_every_module_on_the_simulated_hosts_goes_to_one_worker_in_one_piece():
    staged = "tests/cluster/lifecycle/test_1_first_up.py::test_first_up_runs_every_master_service_healthy"
    lone = "tests/cluster/test_moves.py::test_the_baseline_program_converges_the_site"
    assert lane_of(staged) == lane_of(lone) == CLUSTER_LANE


def test_a_package_on_a_private_engine_goes_whole_apart_from_the_simulated_hosts():
    first = "tests/cluster/server_image/test_1_entrypoint.py::test_server_waits_for_postgres_by_its_service_name"
    last = "tests/cluster/server_image/test_5_refusals_and_stop.py::test_docker_stop_exits_the_server_cleanly"
    assert lane_of(first) == lane_of(last) == "tests/cluster/server_image/"
    assert {lane_of(f"{module}::test") for module in PRIVATE_ENGINE_MODULES}.isdisjoint({CLUSTER_LANE})


def test_any_other_test_is_a_unit_of_its_own():
    nodeids = ["tests/unit/lanes/test_scheduling.py::test_a", "tests/unit/lanes/test_scheduling.py::test_b"]
    assert [lane_of(nodeid) for nodeid in nodeids] == nodeids
