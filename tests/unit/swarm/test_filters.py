"""The stand-in scheduler's filters (constraints, health, affinity, ports) against docker/swarm v1.2.8's own rules;
expected values come from swarm's source (cited per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

import re

import pytest

from tests.unit.swarm.standin import config, container, engine, node, swarm


def test_a_constraint_from_the_environment_leaves_env_for_a_label():
    # cluster/config.go:97-127
    built = config(env=["constraint:node==n1", "A=1"])
    assert (built.config["Env"], built.labels["com.docker.swarm.constraints"]) == (["A=1"], '["node==n1"]')


def test_an_expression_splits_at_its_operator():
    # scheduler/filter/expr.go:28-66
    (parsed,) = swarm.parse_exprs(["storage!=ssd"])
    assert (parsed.key, parsed.operator, parsed.value, parsed.soft) == ("storage", 1, "ssd", False)


def test_a_tilde_makes_an_expression_soft():
    # expr.go:60,112-117
    (parsed,) = swarm.parse_exprs(["node==~n1"])
    assert (parsed.value, parsed.soft) == ("n1", True)


def test_an_expression_without_an_operator_is_refused():
    # expr.go:69-71
    with pytest.raises(swarm.ExprError, match="^" + re.escape("One of operator ==, != is expected") + "$"):
        swarm.parse_exprs(["node:n1"])


def test_a_one_letter_key_is_refused():
    # expr.go:39: the key regexp needs two characters at least.
    with pytest.raises(swarm.ExprError, match="^" + re.escape("Key 'a' is invalid") + "$"):
        swarm.parse_exprs(["a==b"])


def test_a_glob_is_anchored_at_both_ends():
    # expr.go:86-88: ub*t* becomes ^ub.*t.*$
    (glob,) = swarm.parse_exprs(["image==ub*t*"])
    assert (glob.match("ubuntu"), glob.match("xubuntu")) == (True, False)


def test_slashes_make_a_regular_expression():
    # expr.go:82-84
    (regexp,) = swarm.parse_exprs(["node==/^n[12]$/"])
    assert (regexp.match("n2"), regexp.match("n3")) == (True, False)


def test_no_healthy_node_gives_the_health_filter_own_error():
    # scheduler/filter/health.go:12 and filter.go:73-75
    with pytest.raises(swarm.SchedulingError, match="^" + re.escape("No healthy node available in the cluster") + "$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container([node("n1", health=0)], config())


def test_a_failed_constraint_lists_the_conditions_up_to_it():
    # filter.go:76,83-100: every filter's conditions as "\n[...]"; containerslots always lists its own.
    scheduler = swarm.Scheduler("spread", list(swarm.FILTERS))
    with pytest.raises(swarm.SchedulingError) as refused:
        scheduler.select_nodes_for_container([node("n1")], config(env=["constraint:node==n9"]))
    expected = "Unable to find a node that satisfies the following conditions \n[available container slots]\n[node==n9]"
    assert str(refused.value) == expected


def test_a_constraint_matches_the_node_name():
    # scheduler/filter/constraint.go:36-40
    scheduler = swarm.Scheduler("spread", list(swarm.FILTERS))
    chosen = scheduler.select_nodes_for_container([node("n1"), node("n2")], config(env=["constraint:node==n2"]))
    assert [n.name for n in chosen] == ["n2"]


def test_a_soft_constraint_nobody_meets_is_dropped():
    # scheduler/scheduler.go:36-43: the second pass leaves soft expressions out.
    scheduler = swarm.Scheduler("spread", list(swarm.FILTERS))
    chosen = scheduler.select_nodes_for_container([node("n1")], config(env=["constraint:node==~n9"]))
    assert [n.name for n in chosen] == ["n1"]


def test_an_affinity_follows_a_named_container():
    # scheduler/filter/affinity.go:37-46
    holder = engine("n2")
    container(holder, "redis")
    nodes = [node("n1"), swarm.Node.of(holder)]
    chosen = swarm.filter_affinity(config(env=["affinity:container==redis"]), nodes, True)
    assert [n.name for n in chosen] == ["n2"]


def test_a_host_port_taken_on_a_node_keeps_the_container_off_it():
    # scheduler/filter/port.go:48-64,113-134
    busy = engine("n1")
    taken = container(busy, "web")
    taken.info["HostConfig"] = {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}
    wanted = config(PortBindings={"80/tcp": [{"HostIp": "", "HostPort": "8080"}]})
    chosen = swarm.filter_port(wanted, [swarm.Node.of(busy), node("n2")], True)
    assert [n.name for n in chosen] == ["n2"]


def test_a_host_port_taken_everywhere_is_refused_with_its_number():
    # port.go:58
    busy = engine("n1")
    container(busy, "web").info["HostConfig"] = {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}}
    wanted = config(PortBindings={"80/tcp": [{"HostPort": "8080"}]})
    with pytest.raises(
        swarm.SchedulingError, match="^" + re.escape("unable to find a node with port 8080 available") + "$"
    ):
        swarm.filter_port(wanted, [swarm.Node.of(busy)], True)
