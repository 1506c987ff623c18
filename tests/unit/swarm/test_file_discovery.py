"""The stand-in's file discovery (tests/cluster/placement/swarm/discovery/) against docker/swarm v1.2.8's own
rules; expected values come from swarm's source (cited per test), worked out by hand, never read back from the
stand-in."""

from __future__ import annotations

import pytest

from tests.unit.swarm.standin import cluster_of, swarm


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
