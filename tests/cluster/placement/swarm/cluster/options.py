"""The cluster driver options swarm reads (cluster/options.go, cluster/swarm/cluster.go:93-109)."""

from __future__ import annotations

from ..golang import GoPanicError, go_parse_float, go_parse_int0
from ..logrus import FatalError, log


def driver_option(options: list[str], key: str) -> str | None:
    """cluster/options.go:14-25: the first `key=value`; a matching option without "=" makes swarm panic."""
    for option in options:
        parts = option.split("=", 1)
        if parts[0] == key:
            if len(parts) < 2:
                raise GoPanicError("runtime error: index out of range")
            return parts[1]
    return None


def cluster_options(options: list[str]) -> tuple[float, int]:
    """cluster/swarm/cluster.go:93-109: swarm.overcommit and swarm.createretry."""
    overcommit, create_retry = 0.05, 0
    text = driver_option(options, "swarm.overcommit")
    if text is not None:
        try:
            value = go_parse_float(text)
        except ValueError:
            value = 0.0
        if value <= -1:
            raise FatalError(f"swarm.overcommit should be larger than -1, {value:f} is invalid")
        if value < 0:
            log("warn", "-1 < swarm.overcommit < 0 will make swarm take less resource than docker engine offers")
        overcommit = value
    text = driver_option(options, "swarm.createretry")
    if text is not None:
        try:
            value = go_parse_int0(text)
        except ValueError:
            value = 0
        if value < 0:
            raise FatalError(f"swarm.createretry can not be negative, {value} is invalid")
        create_retry = value
    return overcommit, create_retry
