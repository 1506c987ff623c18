"""Waiting for something that happens on its own time: poll a check with a bound, never a fixed sleep.

Standard library only: scripts/sim-cluster, the cluster lane and the benchmarks share it. A check may fail
in an expected way while the thing it asks about starts (a container not created yet, a socket not made
yet, a connection refused): those failures count as "not yet" and are retried. The message on timeout names
what was awaited and the last answer, so a busy machine gives a readable failure, not a stack of retries.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeoutError(AssertionError):
    """What was awaited did not happen within its bound."""


def wait_until(
    what: str,
    check: Callable[[], T],
    *,
    timeout: float,
    every: float = 1.0,
    expected: tuple[type[BaseException], ...] = (),
) -> T:
    """The first truthy answer of `check`, polled every `every` seconds for at most `timeout` seconds.

    An exception of a type in `expected` is "not yet"; any other propagates at once (a check that can
    never pass should fail the wait now, not after the bound)."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            answer = check()
        except expected as error:
            last = f"{type(error).__name__}: {str(error).strip()[-500:]}"
        else:
            if answer:
                return answer
            last = f"last answer {answer!r}"
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(f"{what}: not within {timeout:g} s ({last})")
        time.sleep(every)
