"""The stand-in's /info rows against docker/swarm v1.2.8's own rules; expected values come from swarm's source (cited
per test), worked out by hand, never read back from the stand-in."""

from __future__ import annotations

from tests.unit.swarm.standin import GIB, MIB, cluster_of, container, engine, swarm


def test_a_healthy_engine_has_its_rows_in_swarm_order():
    # cluster/swarm/cluster.go:976-1016; 2 GiB + 5% is 2.1 GiB at "%.4g"; 4 CPUs + 5% stays 4 in integers.
    shown = engine("node1", memory=2 * GIB)
    shown.labels = {"storagedriver": "overlay2", "ostype": "linux"}
    shown.updated_at = 1_500_000_000
    container(shown, "a", memory=20 * MIB)
    container(shown, "b", state={"Running": True, "Paused": True})
    container(shown, "c", state={"Running": False})
    assert swarm.engine_rows(shown) == [
        [" node1", shown.addr],
        ["  └ ID", shown.id],
        ["  └ Status", "Healthy"],
        ["  └ Containers", "3 (1 Running, 1 Paused, 1 Stopped)"],
        ["  └ Reserved CPUs", "0 / 4"],
        ["  └ Reserved Memory", "20 MiB / 2.1 GiB"],
        ["  └ Labels", "ostype=linux, storagedriver=overlay2"],
        ["  └ UpdatedAt", "2017-07-14T02:40:00Z"],
        ["  └ ServerVersion", "20.10.24"],
    ]


def test_an_unhealthy_engine_shows_a_bare_count_and_its_error():
    # cluster/swarm/cluster.go:998-1013
    down = engine("node1", state="Unhealthy")
    down.last_error = "Cannot connect to the Docker daemon"
    container(down, "a")
    rows = dict(swarm.engine_rows(down))
    assert (rows["  └ Containers"], rows["  └ Error"]) == ("1", "Cannot connect to the Docker daemon")


def test_a_pending_engine_is_unknown_by_name():
    # cluster/swarm/cluster.go:977-980
    pending = swarm.Engine("10.0.0.9:2376", 0.05, swarm.EngineOpts(5, 10, 3), None)
    assert swarm.engine_rows(pending)[:3] == [
        [" (unknown)", "10.0.0.9:2376"],
        ["  └ ID", ""],
        ["  └ Status", "Pending"],
    ]


def test_status_starts_with_role_strategy_filters_and_the_node_count():
    # cli/manage.go:60-65 and cluster/swarm/cluster.go:967-971, pending engines counted.
    made = cluster_of(engine("n1"))
    made.pending_engines = {"10.0.0.9:2376": swarm.Engine("10.0.0.9:2376", 0.05, swarm.EngineOpts(5, 10, 3), None)}
    filters = "health, port, containerslots, dependency, affinity, constraint, whitelist"
    assert made.status()[:4] == [["Role", "primary"], ["Strategy", "spread"], ["Filters", filters], ["Nodes", "2"]]


def test_engines_are_listed_in_natural_order():
    # cluster/engine_sorter.go:21-25 with skarademir/naturalsort: node2 before node10.
    made = cluster_of(engine("node10", addr="10.0.0.10:2376"), engine("node2", addr="10.0.0.2:2376"))
    assert [row[0] for row in made.status() if row[0].startswith(" node")] == [" node2", " node10"]
