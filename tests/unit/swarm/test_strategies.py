"""The stand-in scheduler's spread and binpack strategies and memory reservations against docker/swarm v1.2.8's own
rules; expected values come from swarm's source (cited per test), worked out by hand, never read back from the
stand-in."""

from __future__ import annotations

import re

import pytest

from tests.unit.swarm.standin import GIB, MIB, cluster_of, config, engine, node, swarm


def test_spread_picks_the_node_with_less_memory_reserved():
    # weighted_node.go:59-65, spread.go:28-34: 1 GiB more puts n1 at 50% of its memory and n2 at 25%.
    nodes = [node("n1", used_memory=1 * GIB), node("n2")]
    ranked = swarm.rank_and_sort("spread", config(memory=1 * GIB), nodes)
    assert [n.name for n in ranked] == ["n2", "n1"]


def test_a_recent_failure_outweighs_reservations():
    # weighted_node.go:64 with healthFactor -10 (spread.go:28): 67 health costs 330 points, more than 100% memory.
    nodes = [node("n1", health=67), node("n2", used_memory=3 * GIB)]
    ranked = swarm.rank_and_sort("spread", config(memory=512 * MIB), nodes)
    assert [n.name for n in ranked] == ["n2", "n1"]


def test_equal_weights_go_to_the_node_with_fewer_containers():
    # weighted_node.go:32-35: stopped containers count too.
    nodes = [node("n1", containers=3), node("n2", containers=1)]
    assert [n.name for n in swarm.rank_and_sort("spread", config(), nodes)] == ["n2", "n1"]


def test_complete_ties_are_broken_at_random():
    # cluster/swarm/cluster.go:907: equal nodes come in Go map order; HEAD:docs/scheduler/strategy.md:53-58.
    made = cluster_of(engine("n1", addr="10.0.0.1:2376"), engine("n2", addr="10.0.0.2:2376"))
    firsts = {made.scheduler.select_nodes_for_container(made.list_nodes(), config())[0].name for _ in range(200)}
    assert firsts == {"n1", "n2"}


def test_a_node_smaller_than_the_request_is_skipped():
    # weighted_node.go:46-49 (the score bound at :63 would refuse it too: an equivalent rule, kept as swarm has it)
    ranked = swarm.rank_and_sort("spread", config(memory=3 * GIB), [node("n1", total_memory=2 * GIB), node("n2")])
    assert [n.name for n in ranked] == ["n2"]


def test_more_memory_than_any_node_has_is_refused():
    # weighted_node.go:68-70, strategy.go:34; test/integration/resource_management.bats:14-16
    with pytest.raises(
        swarm.SchedulingError, match="^" + re.escape("no resources available to schedule container") + "$"
    ):
        swarm.rank_and_sort("spread", config(memory=1000 * GIB), [node("n1"), node("n2")])


def test_a_request_that_would_fill_a_node_past_its_memory_is_refused():
    # weighted_node.go:59-63: (1 + 100) * 100 / 100 is 101, over the 100 a node may reach.
    with pytest.raises(swarm.SchedulingError, match="no resources"):
        swarm.rank_and_sort("spread", config(memory=100), [node("n1", total_memory=100, used_memory=1)])


def test_a_request_that_fills_a_node_exactly_is_placed():
    # weighted_node.go:63: a score of exactly 100 is kept.
    assert swarm.rank_and_sort("spread", config(memory=100), [node("n1", total_memory=100)])[0].name == "n1"


def test_a_create_in_flight_reserves_its_memory():
    # scheduler/node/node.go:56-68 via cluster/swarm/cluster.go:909-913
    busy = node("n1")
    busy.add_container(swarm.Container(None, {}, config(memory=3 * GIB)))
    with pytest.raises(swarm.SchedulingError, match="no resources"):
        swarm.rank_and_sort("spread", config(memory=2 * GIB), [busy])


def test_binpack_fills_the_busier_node_first():
    # binpack.go:28-34: healthFactor +10 and the reverse order.
    nodes = [node("n1"), node("n2", used_memory=1 * GIB)]
    assert [n.name for n in swarm.rank_and_sort("binpack", config(memory=GIB), nodes)] == ["n2", "n1"]


def test_reserved_memory_of_nothing_reads_zero_bytes():
    # vendor/github.com/docker/go-units/size.go:38-59; test/integration/resource_management.bats:30
    assert swarm.bytes_size(0) == "0 B"
