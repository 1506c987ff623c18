"""How the stand-in reads a container create (names, old clients' fields, networks) against docker/swarm v1.2.8's own
rules; expected values come from swarm's source (cited per test), worked out by hand, never read back from the
stand-in."""

from __future__ import annotations

import pytest

from tests.unit.swarm.standin import MIB, cluster_of, config, container, engine, swarm


def test_a_taken_name_is_a_conflict_with_swarm_text():
    # cluster/swarm/cluster.go:196-200
    owner = engine("n1")
    container(owner, "web")
    with pytest.raises(swarm.SchedulingError) as refused:
        cluster_of(owner).create_container(config(), "web", None)
    expected = (
        "Conflict: The name web is already assigned. You have to delete (or rename) that container to be able "
        "to assign web to a container again."
    )
    assert str(refused.value) == expected


def test_old_clients_top_level_memory_moves_into_host_config():
    # cluster/config.go:44-47 via api/handlers.go:657-659
    assert swarm.create_config({"Image": "busybox", "Memory": 64 * MIB}).memory == 64 * MIB


def test_cpus_become_real_shares_on_the_engine():
    # cluster/engine.go:1109: ceil(CPUs*1024 / engine CPUs); one CPU of four is 256 shares.
    assert config(CpuShares=1).engine_body(4)["HostConfig"]["CpuShares"] == 256


def test_a_missing_memory_swappiness_is_sent_as_minus_one():
    # api/handlers.go:633-641
    assert swarm.create_config({"Image": "busybox"}).host_config["MemorySwappiness"] == -1


def test_a_local_network_name_shared_by_two_engines_pins_nothing():
    # cluster/network.go:166-176: two IDs for one name find no network.
    first, second = engine("n1"), engine("n2")
    networks = [swarm.Network({"Id": i * 64, "Name": "bridge"}, e) for i, e in (("a", first), ("b", second))]
    assert swarm.find_network(networks, "bridge") is None


def test_a_short_network_id_finds_the_network():
    # cluster/network.go:156-161: an exact or a 12-character ID.
    network = swarm.Network({"Id": "0123456789ab" + "c" * 52, "Name": "ws-net", "Scope": "local"}, engine("n1"))
    assert swarm.find_network([network], "0123456789ab") is network


def test_engine_name_and_network_name_find_the_local_network():
    # cluster/network.go:167
    first = engine("n1")
    network = swarm.Network({"Id": "a" * 64, "Name": "ws-net", "Scope": "local"}, first)
    assert swarm.find_network([network], "n1/ws-net") is network
