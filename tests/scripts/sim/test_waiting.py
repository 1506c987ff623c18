"""The one wait helper every lane polls with: expected failures are "not yet", a timeout names what it awaited."""

from __future__ import annotations

import re

import pytest

from scripts.sim.node import NodeCommandError
from scripts.sim.waiting import WaitTimeoutError, wait_until
from tests.cluster.site_driver import wait_for


class Answers:
    """A check that gives the planned answers one call at a time (an exception is raised)."""

    def __init__(self, *answers: object) -> None:
        self.planned, self.calls = list(answers), 0

    def __call__(self) -> object:
        self.calls += 1
        answer = self.planned.pop(0) if len(self.planned) > 1 else self.planned[0]
        if isinstance(answer, BaseException):
            raise answer
        return answer


def test_an_expected_failure_is_retried_until_the_check_passes():
    check = Answers(NodeCommandError("socket not made yet"), NodeCommandError("still not"), "1")
    assert wait_until("the database", check, timeout=5, every=0.01, expected=(NodeCommandError,)) == "1"
    assert check.calls == 3


def test_a_false_answer_is_retried_until_a_true_one():
    check = Answers(False, "", 0, ["row"])
    assert wait_until("a row", check, timeout=5, every=0.01) == ["row"]


def test_a_check_that_keeps_failing_ends_naming_what_was_awaited():
    check = Answers(NodeCommandError("psql: No such file or directory"))
    with pytest.raises(WaitTimeoutError, match=re.escape("the standby's database answering: not within 0.2 s")):
        wait_until("the standby's database answering", check, timeout=0.2, every=0.01, expected=(NodeCommandError,))


def test_the_timeout_message_carries_the_last_expected_failure():
    check = Answers(NodeCommandError("psql: No such file or directory"))
    with pytest.raises(WaitTimeoutError, match="NodeCommandError: psql: No such file or directory"):
        wait_until("the database", check, timeout=0.05, every=0.01, expected=(NodeCommandError,))


def test_the_timeout_message_carries_the_last_answer():
    with pytest.raises(WaitTimeoutError, match="last answer 0"):
        wait_until("the replica caught up", Answers(0), timeout=0.05, every=0.01)


def test_an_unexpected_failure_is_raised_at_once():
    check = Answers(KeyError("State"), "never reached")
    with pytest.raises(KeyError):
        wait_until("a container's state", check, timeout=5, every=0.01, expected=(NodeCommandError,))
    assert check.calls == 1


def test_a_timeout_is_an_assertion_so_pytest_reports_it_as_a_failure():
    assert issubclass(WaitTimeoutError, AssertionError)


def test_the_lanes_wait_retries_a_failed_docker_exec_while_a_site_starts():
    """The race behind a red CI: psql run by `docker exec` before PostgreSQL made its socket."""
    check = Answers(NodeCommandError("docker on node2: exec codenvy-dr-postgres psql failed"), "1")
    assert wait_for("the standby's database answering", check, timeout=5, every=0.01) == "1"
