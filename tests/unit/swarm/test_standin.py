"""The placement manager stand-in (tests/cluster/placement/swarm.py) against docker/swarm v1.2.8's own rules: file
discovery, the scheduler's filters and spread strategy, the info rows, the name conflict and the command line.

Expected values come from swarm's source (cited per test), worked out by hand, never read back from the stand-in.
"""

from __future__ import annotations

import base64
import http.server
import importlib.util
import json
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import threading
import typing
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tests.harness import PROJECT_DIR

SWARM_SCRIPT = PROJECT_DIR / "tests" / "cluster" / "placement" / "swarm.py"
SPEC_COMMAND = (
    "manage -H tcp://0.0.0.0:2376 --tlsverify --tlscacert={tls}/ca.pem --tlscert={tls}/cert.pem "
    "--tlskey={tls}/key.pem --strategy=spread --heartbeat=10s --engine-refresh-min-interval=5s "
    "--engine-refresh-max-interval=10s --engine-failure-retry=3 --cluster-opt=swarm.createretry=2 "
    "file:///etc/swarm/nodes/node_list"
)
GIB, MIB = 1024**3, 1024**2


def load_swarm():
    """The stand-in is a script run as /swarm: import it by path."""
    spec = importlib.util.spec_from_file_location("placement_swarm", SWARM_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


swarm = load_swarm()


# ------------------------------------------------------------------------------------------------ helpers
def node(name: str, total_memory: int = 4 * GIB, used_memory: int = 0, health: int = 100, containers: int = 0):
    return swarm.Node(
        id=f"{name}-id", name=name, labels={}, containers=[object()] * containers, images=[],
        used_memory=used_memory, used_cpus=0, total_memory=total_memory, total_cpus=4, health_indicator=health,
    )  # fmt: skip


def config(env: list[str] | None = None, memory: int = 0, labels: dict | None = None, **host_config):
    body = {"Image": "busybox", "Env": env or [], "Labels": labels or {}}
    return swarm.ContainerConfig.build(body, {"Memory": memory, **host_config}, {})


def engine(name: str, memory: int = 2 * GIB, cpus: int = 4, state: str = "Healthy", addr: str = "10.0.0.1:2376"):
    opts = swarm.EngineOpts(refresh_min=5, refresh_max=10, failure_retry=3)
    made = swarm.Engine(addr, 0.05, opts, None)
    made.id, made.name, made.memory, made.cpus, made.state = f"ID:{name}|{made.addr}", name, memory, cpus, state
    made.version = "20.10.24"
    return made


def container(owner, name: str, memory: int = 0, state: dict | None = None):
    made = swarm.Container(owner, {"Id": secrets.token_hex(32), "Names": [f"/{name}"]}, config(memory=memory))
    made.info = {"State": state if state is not None else {"Running": True}}
    owner.containers[made.id] = made
    return made


def settings(**changes):
    values = {
        "hosts": [], "discovery_path": "/nonexistent/node_list", "heartbeat": 10.0, "strategy": "spread",
        "filters": list(swarm.FILTERS), "refresh_min": 5.0, "refresh_max": 10.0, "failure_retry": 3,
    }  # fmt: skip
    return swarm.Settings(**{**values, **changes})


def cluster_of(*engines):
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), settings())
    made.engines = {e.id: e for e in engines}
    return made


def manage(command: str, environ: dict | None = None):
    flags = swarm.parse_flags(swarm.MANAGE_FLAGS, swarm.command_args(command.split()[1:]), environ or {})
    return swarm.manage_settings(flags, environ or {})


def fatal_message(command: str, environ: dict | None = None) -> str:
    with pytest.raises(swarm.FatalError) as refused:
        manage(command, environ)
    return str(refused.value)


# ------------------------------------------------------------------------------------------------ file discovery
def test_a_range_expands_to_every_address_inclusive():
    # vendor/github.com/docker/docker/pkg/discovery/generator.go:10-35, HEAD:docs/discovery.md:102-106
    assert swarm.parse_file_content("10.0.0.[1:3]:2375") == ["10.0.0.1:2375", "10.0.0.2:2375", "10.0.0.3:2375"]


def test_a_range_that_is_not_two_integers_is_kept_as_written():
    # generator.go:17-24: strconv.Atoi fails, the pattern is returned unchanged.
    assert swarm.generate("10.0.0.[a:3]:2375") == ["10.0.0.[a:3]:2375"]


def test_comment_lines_are_skipped():
    # pkg/discovery/file/file.go:39-41
    assert swarm.parse_file_content("# workers\n10.0.0.1:2375\n") == ["10.0.0.1:2375"]


def test_an_inline_comment_is_cut_off():
    # file.go:43-47
    assert swarm.parse_file_content("10.0.0.1:2375   # the first worker") == ["10.0.0.1:2375"]


def test_blank_lines_make_no_entries():
    # pkg/discovery/entry.go:83-86
    assert swarm.create_entries(swarm.parse_file_content("\n10.0.0.1:2375\n\n  \n")) == [("10.0.0.1", "2375")]


def test_one_line_without_a_port_fails_the_whole_read():
    # entry.go:87-90 with net.SplitHostPort's "missing port in address"
    with pytest.raises(swarm.DiscoveryError, match="missing port in address"):
        swarm.create_entries(["10.0.0.1:2375", "10.0.0.2"])


def test_a_file_that_turns_bad_leaves_the_entries_as_they_were(tmp_path):
    # file.go:83-87: a failed read goes to the error channel; nothing is sent on the entries channel.
    node_list = tmp_path / "node_list"
    node_list.write_text("10.0.0.1:2375\n")
    seen, errors = [], []

    class TurnsBadAfterTheFirstRead(Heartbeats):
        def wait(self, timeout: float) -> bool:
            node_list.write_text("10.0.0.1:2375\nnot-an-address\n")
            return super().wait(timeout)

    swarm.FileDiscovery(str(node_list), 1).watch(seen.append, errors.append, TurnsBadAfterTheFirstRead(2))
    assert (seen, len(errors)) == ([[("10.0.0.1", "2375")]], 2)


class Heartbeats:
    """A stop event whose wait lets a given number of heartbeats pass, then stops the watch."""

    def __init__(self, beats: int) -> None:
        self.beats = beats

    def wait(self, _timeout: float) -> bool:
        self.beats -= 1
        return self.beats < 0


def test_an_edit_is_reported_once():
    # file.go:89-93: only a list different from the last one is sent.
    reported = []
    watcher = swarm.FileDiscovery("/unused", 1)
    answers = iter([[("a", "1")], [("a", "1"), ("b", "1")], [("a", "1"), ("b", "1")]])
    watcher.fetch = lambda: next(answers)
    watcher.watch(reported.append, pytest.fail, Heartbeats(2))
    assert reported == [[("a", "1")], [("a", "1"), ("b", "1")]]


def test_removed_engines_are_dropped_before_added_ones_are_made():
    # cluster/swarm/cluster.go:423-434
    made = cluster_of()
    order = []
    made.remove_engine = lambda addr: order.append(("remove", addr))
    made.add_engine = lambda addr: order.append(("add", addr))
    made.current_entries = [("10.0.0.1", "2376")]
    made.on_entries([("10.0.0.2", "2376")])
    assert order == [("remove", "10.0.0.1:2376"), ("add", "10.0.0.2:2376")]


def test_removing_an_engine_whose_name_never_resolved_crashes_like_swarm():
    # cluster/engine.go:283: Disconnect calls Stop on the nil *EventsMonitor of an engine Connect never reached.
    never_connected = swarm.Engine("no-such-host:2376", 0.05, swarm.EngineOpts(5, 10, 3), None)
    with pytest.raises(swarm.GoPanicError):
        never_connected.disconnect()


# ------------------------------------------------------------------------------------------------ engines
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


# ------------------------------------------------------------------------------------------------ expressions
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


# ------------------------------------------------------------------------------------------------ filters
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


# ------------------------------------------------------------------------------------------------ spread
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


# ------------------------------------------------------------------------------------------------ info rows
def test_reserved_memory_of_nothing_reads_zero_bytes():
    # vendor/github.com/docker/go-units/size.go:38-59; test/integration/resource_management.bats:30
    assert swarm.bytes_size(0) == "0 B"


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


# ------------------------------------------------------------------------------------------------ creating
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


# ------------------------------------------------------------------------------------------------ command line
def test_an_unknown_flag_is_refused():
    # vendor/github.com/urfave/cli/command.go:103-117 over Go's flag package
    with pytest.raises(
        swarm.UsageError, match="^" + re.escape("flag provided but not defined: -engine-overcommit") + "$"
    ):
        manage("manage --engine-overcommit=1 file:///x")


def test_both_names_of_one_flag_are_refused():
    # vendor/github.com/urfave/cli/context.go normalizeFlags, the later name first.
    with pytest.raises(swarm.UsageError) as refused:
        manage("manage -H tcp://0.0.0.0:2375 --host tcp://0.0.0.0:2376 file:///x")
    assert str(refused.value) == "Cannot use two forms of the same flag: H host"


def test_a_bad_number_is_refused_with_go_wording():
    # Go flag: invalid value %q for flag -%s: %v, the error of strconv.ParseInt
    expected = 'invalid value "x" for flag -engine-failure-retry: strconv.ParseInt: parsing "x": invalid syntax'
    with pytest.raises(swarm.UsageError) as refused:
        manage("manage --engine-failure-retry=x file:///x")
    assert str(refused.value) == expected


def test_no_failure_retries_is_refused():
    # cli/manage.go:259-262
    assert fatal_message("manage --engine-failure-retry=0 file:///x") == "invalid failure retry count"


def test_a_heartbeat_under_a_second_is_refused():
    # cli/manage.go:106-108
    assert fatal_message("manage --heartbeat=500ms file:///x") == "--heartbeat should be at least one second"


def test_a_max_refresh_below_the_min_is_refused():
    # cli/manage.go:251-253
    message = fatal_message("manage --engine-refresh-min-interval=10s --engine-refresh-max-interval=5s file:///x")
    assert message == "max refresh interval cannot be less than min refresh interval"


def test_a_negative_create_retry_is_refused():
    # cluster/swarm/cluster.go:104-107
    message = fatal_message("manage --cluster-opt=swarm.createretry=-1 file:///x")
    assert message == "swarm.createretry can not be negative, -1 is invalid"


def test_flags_on_both_sides_of_the_discovery_leave_no_discovery():
    # urfave/cli command.go:78-106 moves only arguments before the first flag; Go's flag package stops at the
    # discovery, so two arguments remain and swarm takes neither (cli/flags.go:22-27).
    message = fatal_message("manage --heartbeat=10s file:///x --strategy=spread")
    assert message == "discovery required to manage a cluster. See 'swarm manage --help'."


def test_a_flag_after_the_discovery_alone_still_counts():
    # urfave/cli command.go:90-103: the discovery, before the first flag, is moved behind the flags.
    assert manage("manage file:///x --strategy=binpack").strategy == "binpack"


def test_only_file_discovery_is_implemented():
    assert "only file:// is" in fatal_message("manage nodes://10.0.0.1:2375")


def test_given_filters_replace_the_defaults():
    # cli/manage.go:279-283
    assert manage("manage --filter health --filter=constraint file:///x").filters == ["health", "constraint"]


def test_tlsverify_needs_a_certificate_and_key():
    # cli/manage.go:224-226
    assert fatal_message("manage --tlsverify file:///x") == "--tlscert and --tlskey must be provided when using --tls"


def test_tlsverify_needs_a_ca():
    # cli/manage.go:227-229
    message = fatal_message("manage --tlsverify --tlscert=c.pem --tlskey=k.pem file:///x")
    assert message == "--tlscacert must be provided when using --tlsverify"


def test_certificates_without_tls_are_refused():
    # cli/manage.go:241-243
    message = fatal_message("manage --tlscacert=ca.pem file:///x")
    assert message == "--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify"


# ------------------------------------------------------------------------------------------------ builds
# Codenvy's pullImage (codenvy HostedMachineProviderImpl.java:192-217) through eclipse/che 5.22.0's
# DockerConnector.buildImage (DockerConnector.java:836-876): query parameters appended unencoded, buildargs
# URL-encoded once, forcerm/pull as 1, memswap -1, cpuperiod/cpuquota 0, no rm; the tar as
# application/x-compressed-tar; X-Registry-Config in standard base64.
MAINTENANCE = {"constraint:com.codenvy.node-state!": "maintenance"}  # codenvy MaintenanceConstraintProvider.java
CODENVY_QUERY = (
    "forcerm=1&memory=2147483648&memswap=-1&pull=1&cpuperiod=0&cpuquota=0&t=eclipse-che/ws1_dev-machine"
    "&buildargs=%7B%22constraint%3Acom.codenvy.node-state%21%22%3A%22maintenance%22%7D"
)


def build_form(query: str = CODENVY_QUERY, content_type: str = "application/x-compressed-tar", body: bytes = b""):
    return swarm.parse_form("POST", content_type, query, lambda limit: body[:limit])


def codenvy_build_config(**changes):
    options = {**swarm.build_options(build_form()[0], None), **changes}
    return swarm.build_config(options)


def labelled(name: str, **labels) -> swarm.Node:
    made = node(name)
    made.labels = labels
    return made


def test_codenvys_build_request_reads_into_build_options():
    # api/handlers.go:1399-1425: int64ValueOrZero, boolValue, t as the tags, buildargs as JSON
    options = swarm.build_options(build_form()[0], None)
    seen = {k: options[k] for k in ("Tags", "Memory", "MemorySwap", "ForceRemove", "Remove", "PullParent")}
    assert (seen, options["BuildArgs"]) == (
        {
            "Tags": ["eclipse-che/ws1_dev-machine"],
            "Memory": 2 * GIB,
            "MemorySwap": -1,
            "ForceRemove": True,
            "Remove": False,
            "PullParent": True,
        },
        MAINTENANCE,
    )


def test_a_build_number_that_does_not_parse_reads_as_zero():
    # api/utils.go:347-353: strconv.ParseInt(s, 10, 64), its error giving 0
    assert swarm.build_options(build_form("memory=2g")[0], None)["Memory"] == 0


def test_a_bad_escape_in_the_build_query_is_the_form_error():
    # api/handlers.go:1394-1397 answers ParseForm's error; net/url unescape (Go 1.7) names the escape
    assert build_form("t=a%zz")[1] == 'invalid URL escape "%zz"'


def test_a_form_encoded_build_body_is_read_as_the_form_first():
    # net/http ParseForm (Go 1.7): a x-www-form-urlencoded body is parsed, its values ahead of the query's
    form, error = build_form("t=query", "application/x-www-form-urlencoded", b"t=body")
    assert (form["t"], error) == (["body", "query"], "")


def test_registry_config_in_standard_base64_with_a_slash_is_dropped():
    # api/handlers.go:1442-1448 decodes with base64.URLEncoding; Che encodes with java.util.Base64.getEncoder()
    # (DockerRegistryAuthResolver.java); the engine then gets json.Marshal of a nil map
    standard = base64.b64encode(b'{"https://index.docker.io/v1/":{"username":"u","password":"s3cr3t?"}}').decode()
    assert "/" in standard
    options = swarm.build_options({}, standard)
    assert (options["AuthConfigs"], swarm.registry_config_header(options)) == (None, "bnVsbA==")


def test_the_maintenance_build_arg_becomes_a_constraint():
    # cluster/swarm/cluster.go:1047 (convertMapToKVStrings, utils.go:23-35) then cluster/config.go:97-127
    config, _ = codenvy_build_config()
    assert config.labels["com.docker.swarm.constraints"] == '["com.codenvy.node-state!=maintenance"]'


def test_the_engine_gets_the_build_args_without_the_constraint():
    # cluster.go:1050 convertKVStringsToMap(config.Env): what is left of Env; a nil value went through "k="
    _, forwarded = codenvy_build_config(BuildArgs={**MAINTENANCE, "HTTP_PROXY": "http://p:3128", "EMPTY": None})
    assert forwarded == {"HTTP_PROXY": "http://p:3128", "EMPTY": ""}


def test_codenvys_build_reaches_the_engine_with_rm_0_and_go_encoded_options():
    # vendor/github.com/docker/docker/client/image_build.go:46-129: rm always sent, nil slices and maps as null
    options = swarm.build_options(build_form()[0], None)
    options["BuildArgs"] = codenvy_build_config()[1]
    assert swarm.urlencode(swarm.image_build_query(options, "1.30")) == (
        "buildargs=%7B%7D&cachefrom=null&cgroupparent=&cpuperiod=0&cpuquota=0&cpusetcpus=&cpusetmems=&cpushares=0"
        "&dockerfile=&forcerm=1&labels=null&memory=2147483648&memswap=-1&networkmode=&pull=1&rm=0&shmsize=0"
        "&t=eclipse-che%2Fws1_dev-machine&target=&ulimits=null"
    )


def test_a_build_goes_to_the_node_not_in_maintenance():
    # scheduler/filter/constraint.go:41-45 matches node.Labels[key] (engine.go:579-614: the daemon's labels)
    nodes = [labelled("n1", **{"com.codenvy.node-state": "maintenance"}), labelled("n2")]
    chosen = swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(nodes, codenvy_build_config()[0])
    assert [n.name for n in chosen] == ["n2"]


def test_a_node_without_the_label_satisfies_the_not_equal_constraint():
    # constraint.go:42: a missing label reads as "", and expr.go:102-107 negates ^maintenance$ not matching it
    (constraint,) = swarm.parse_exprs(["com.codenvy.node-state!=maintenance"])
    assert swarm.filter_constraint(codenvy_build_config()[0], [labelled("n1")], True)[0].name == "n1"
    assert constraint.match("") is True


def test_a_build_with_every_node_in_maintenance_is_refused():
    # filter.go:76,83-100 with constraint.go:48
    nodes = [labelled("n1", **{"com.codenvy.node-state": "maintenance"})]
    with pytest.raises(swarm.SchedulingError) as refused:
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(nodes, codenvy_build_config()[0])
    assert str(refused.value) == (
        "Unable to find a node that satisfies the following conditions "
        "\n[available container slots]\n[com.codenvy.node-state!=maintenance]"
    )


def test_a_build_asking_more_memory_than_any_node_has_is_refused():
    # weighted_node.go:46-49,68-70: the build's memory is the config's HostConfig.Memory (cluster.go:1048)
    config, _ = codenvy_build_config(Memory=8 * GIB)
    with pytest.raises(swarm.SchedulingError, match=r"^no resources available to schedule container$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container([node("n1"), node("n2")], config)


def test_build_cpushares_count_as_cpus():
    # cluster.go:1048 puts cpushares in HostConfig.CPUShares, which swarm reads as CPUs (weighted_node.go:46)
    config, _ = codenvy_build_config(CPUShares=1024)
    with pytest.raises(swarm.SchedulingError, match=r"^no resources available to schedule container$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container([node("n1")], config)


def test_no_healthy_node_refuses_a_build():
    # scheduler/filter/health.go:12: the same filters as a container's
    with pytest.raises(swarm.SchedulingError, match=r"^No healthy node available in the cluster$"):
        swarm.Scheduler("spread", list(swarm.FILTERS)).select_nodes_for_container(
            [node("n1", health=0)], codenvy_build_config()[0]
        )


def test_a_progress_message_keeps_go_fields_only():
    # cluster/jsonmessage.go:13-36: progressDetail holds current/total/start; unknown keys are dropped
    message = swarm.decode_json_message(b'{"status":"Downloading","progressDetail":{"current":1,"units":"B"},"x":1}')
    assert swarm.json_message(message) == {"status": "Downloading", "progressDetail": {"current": 1}}


def codenvy_container_config():
    """What Che's MachineProviderImpl.createContainer sends after the build: the built image, the maintenance
    constraint from machine.docker.machine_env (codenvy OnPremisesIdeApiModule.java:400-405), no affinity."""
    body = {"Image": "eclipse-che/ws1", "Env": ["constraint:com.codenvy.node-state!=maintenance"]}
    return swarm.ContainerConfig.build(body, {"Memory": 2 * GIB}, {})


def creating_cluster(pull_error: str, create_retry: int = 0):
    """n1 lacks eclipse-che/ws1 and fails its create with pull_error (engine.go:1113-1128 pulls, then returns the
    pull's error); n2 holds the image and has a container more, so spread tries n1 first. Each create is recorded."""
    empty, holder = engine("n1", addr="10.0.0.1:2376"), engine("n2", addr="10.0.0.2:2376")
    holder.images = [{"Id": "sha256:" + "ab" * 32, "RepoTags": ["eclipse-che/ws1:latest"]}]
    container(holder, "other")
    tried = []

    def create_on(owner, failure):
        def create(config, name, pull_image, auth):
            tried.append(owner.name)
            if failure:
                raise swarm.EngineError(failure)
            return container(owner, name)

        return create

    empty.create_container, holder.create_container = create_on(empty, pull_error), create_on(holder, "")
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), settings(create_retry=create_retry))
    made.engines = {e.id: e for e in (empty, holder)}
    return made, tried


def test_a_create_whose_pull_says_the_repository_does_not_exist_retries_with_image_affinity():
    # cluster/swarm/cluster.go:172-183: Docker Hub's answer for a repository that is not there matches
    hub = "Error response from daemon: pull access denied for eclipse-che/ws1, repository does not exist or may"
    made, tried = creating_cluster(hub + " require 'docker login': denied: requested access to the resource is denied")
    created = made.create_container(codenvy_container_config(), "ws1", None)
    assert (created.engine.name, tried) == ("n2", ["n1", "n2"])


def test_a_create_whose_pull_cannot_reach_the_registry_is_not_retried_with_affinity():
    # cluster.go:172-188: a lookup failure matches none of the three patterns; createretry tries spread's pick again
    unreachable = 'Error response from daemon: Get "https://registry-1.docker.io/v2/": dial tcp: lookup failed'
    made, tried = creating_cluster(unreachable, create_retry=2)
    with pytest.raises(swarm.EngineError, match="^" + re.escape(unreachable) + "$"):
        made.create_container(codenvy_container_config(), "ws1", None)
    assert tried == ["n1", "n1", "n1"]


class FakeEngine(http.server.BaseHTTPRequestHandler):
    """An engine's POST /build answering with the lines given; the request is kept for the test."""

    protocol_version = "HTTP/1.1"
    answer: typing.ClassVar[list[bytes]] = []
    seen: typing.ClassVar[list] = []

    def do_POST(self) -> None:
        body = b""
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        self.seen.append((self.path, dict(self.headers), body))
        payload = b"".join(line + b"\n" for line in self.answer)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_GET(self) -> None:  # the refresh of the images afterwards
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format: str, *args) -> None:
        pass


@pytest.fixture
def building():
    """The API without TLS over one engine, node1, which is a FakeEngine on a loopback port."""
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeEngine)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    FakeEngine.seen.clear()
    owner = engine("node1", addr=f"127.0.0.1:{fake.server_address[1]}")
    owner.client_version = "1.30"
    made = cluster_of(owner)
    server = swarm.listen("tcp://127.0.0.1:0", type("Handler", (swarm.ApiHandler,), {"cluster": made}), None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    for each in (server, fake):
        each.shutdown()
        each.server_close()


def post_build(url: str, query: str = CODENVY_QUERY, body: bytes = b"tar", **headers) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/x-compressed-tar", **headers}
    request = urllib.request.Request(f"{url}/v1.23/build?{query}", data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_each_engine_message_carries_the_engine_name_and_one_more_ends_the_build(building):
    # api/handlers.go:1455-1466 sets msg.ID to the engine name; cluster.go:1069-1081 adds one on success
    FakeEngine.answer = [b'{"stream":"Step 1/1 : FROM busybox"}', b'{"aux":{"ID":"sha256:ab"}}']
    assert post_build(building) == (
        200,
        b'{"stream":"Step 1/1 : FROM busybox","id":"node1"}\n{"id":"node1","aux":{"ID":"sha256:ab"}}\n{"id":"node1"}\n',
    )


def test_the_engine_gets_the_context_and_no_constraint(building):
    # engine.go:1573 streams the body on; image_build.go:26-34 sets the headers; cluster.go:1050 the args
    FakeEngine.answer = []
    post_build(building, body=b"the tar")
    path, headers, body = FakeEngine.seen[0]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    assert (path.split("?")[0], headers["Content-Type"], query["buildargs"], body) == (
        "/v1.30/build",
        "application/x-tar",
        ["{}"],
        b"the tar",
    )


def test_the_registry_config_reaches_the_engine_as_go_re_encodes_it(building):
    # handlers.go:1442-1448 decodes into map[string]types.AuthConfig; image_build.go:26-30 marshals it again:
    # keys sorted, empty fields and unknown keys dropped (api/types/auth.go: every field omitempty)
    FakeEngine.answer = []
    sent = b'{"r2":{"Username":"u","extra":1},"r1":{"password":"p","email":""}}'
    post_build(building, **{"X-Registry-Config": base64.urlsafe_b64encode(sent).decode()})
    forwarded = FakeEngine.seen[0][1]["X-Registry-Config"]
    assert base64.urlsafe_b64decode(forwarded) == b'{"r1":{"password":"p"},"r2":{"username":"u"}}'


def test_an_engine_error_ends_the_build_with_swarms_error_message(building):
    # engine.go:1588-1590 wraps the engine's errorDetail; handlers.go:1471-1474 sends sendErrorJSONMessage
    FakeEngine.answer = [b'{"errorDetail":{"message":"no route"},"error":"no route"}']
    failed = "Failed to build image: no route"
    assert post_build(building) == (
        200,
        b'{"id":"node1"}\n{"error":"%s","errorDetail":{"code":1,"message":"%s"}}\n'
        % (failed.encode(), failed.encode()),
    )


def test_a_build_nothing_can_hold_is_a_plain_text_500(building):
    # handlers.go:1467-1469: httpError with the scheduler's error
    assert post_build(building, "memory=999999999999") == (500, b"no resources available to schedule container\n")


# ------------------------------------------------------------------------------------------------ TLS and HTTP
SITE_CERTIFICATES = {  # what the program makes: the manager's (server and client auth) and a client's
    "cert": "subjectAltName=DNS:codenvy-swarm,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n",
    "client": "extendedKeyUsage=clientAuth\n",
}


@pytest.fixture(scope="module")
def site_ca(tmp_path_factory) -> Path:
    """A CA and the certificates of SITE_CERTIFICATES, from openssl."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    tls = tmp_path_factory.mktemp("tls")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=tls, check=True, capture_output=True)

    authority = ["-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=ca"]
    run("req", *authority, "-keyout", "ca-key.pem", "-out", "ca.pem")
    for name, extensions in SITE_CERTIFICATES.items():
        (tls / f"{name}.ext").write_text(extensions)
        key = "key.pem" if name == "cert" else f"{name}-key.pem"
        run("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", key, "-out", f"{name}.csr")
        signing = ["-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial", "-days", "1"]
        run("x509", "-req", "-in", f"{name}.csr", *signing, "-extfile", f"{name}.ext", "-out", f"{name}.pem")
    return tls


def test_the_site_command_line_reads_as_swarm_would(site_ca):
    parsed = manage(SPEC_COMMAND.format(tls=site_ca))
    seen = (parsed.hosts, parsed.heartbeat, parsed.refresh_min, parsed.refresh_max, parsed.failure_retry)
    assert (*seen, parsed.create_retry, parsed.discovery_path) == (
        ["tcp://0.0.0.0:2376"],
        10.0,
        5.0,
        10.0,
        3,
        2,
        "/etc/swarm/nodes/node_list",
    )


@pytest.fixture
def serving(site_ca):
    """The API on a loopback port with the site's TLS flags, over a cluster of one engine holding "web"."""
    parsed = manage(SPEC_COMMAND.format(tls=site_ca))
    owner = engine("node1")
    container(owner, "web")
    made = swarm.Cluster(swarm.Scheduler("spread", list(swarm.FILTERS)), parsed)
    made.engines = {owner.id: owner}
    handler = type("Handler", (swarm.ApiHandler,), {"cluster": made})
    server = swarm.listen("tcp://127.0.0.1:0", handler, parsed.tls.server)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def client_context(site_ca: Path, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(site_ca / "ca.pem"))
    if with_certificate:
        context.load_cert_chain(site_ca / "client.pem", site_ca / "client-key.pem")
    return context


def test_a_client_with_a_site_certificate_gets_the_ping(serving, site_ca):
    # api/handlers.go:1089-1091
    with urllib.request.urlopen(f"{serving}/_ping", context=client_context(site_ca, True), timeout=5) as answer:  # noqa: S310
        assert answer.read() == b"OK"


def test_a_client_without_a_certificate_is_refused(serving, site_ca):
    # cli/manage.go:90: RequireAndVerifyClientCert
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        urllib.request.urlopen(f"{serving}/_ping", context=client_context(site_ca, False), timeout=5).read()  # noqa: S310


def test_a_conflicting_name_is_answered_409(serving, site_ca):
    # api/handlers.go:676-678
    body = json.dumps({"Image": "busybox"}).encode()
    request = urllib.request.Request(f"{serving}/v1.24/containers/create?name=web", data=body, method="POST")  # noqa: S310
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, context=client_context(site_ca, True), timeout=5)  # noqa: S310
    assert refused.value.code == 409


def test_errors_are_plain_text(serving, site_ca):
    # api/utils.go:23-26: http.Error
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{serving}/containers/nothing/json", context=client_context(site_ca, True), timeout=5)  # noqa: S310
    assert (refused.value.code, refused.value.read()) == (404, b"No such container nothing\n")


def test_info_below_api_1_22_moves_the_rows_to_driver_status(serving, site_ca):
    # api/handlers.go:69-79: indented keys lose one space, the others get a leading backspace.
    with urllib.request.urlopen(f"{serving}/v1.21/info", context=client_context(site_ca, True), timeout=5) as answer:  # noqa: S310
        rows = json.load(answer)["DriverStatus"]
    assert (rows[0], rows[4]) == (["\bRole", "primary"], ["node1", "10.0.0.1:2376"])
