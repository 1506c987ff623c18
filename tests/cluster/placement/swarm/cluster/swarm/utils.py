"""Build args between a map and KEY=value strings (cluster/swarm/utils.go)."""

from __future__ import annotations

import random


def convert_map_to_kv_strings(values: dict | None) -> list[str]:
    """cluster/swarm/utils.go:23-35: {"k": "v"} to ["k=v"], a nil value as "k=", in Go's random map order."""
    pairs = [f"{key}={value or ''}" for key, value in (values or {}).items()]
    random.shuffle(pairs)
    return pairs


def convert_kv_strings_to_map(values: list[str] | None) -> dict:
    """cluster/swarm/utils.go:8-20: ["k=v"] to {"k": "v"}, split at the first =; without one, a nil value."""
    result: dict[str, str | None] = {}
    for value in values or []:
        key, equals, rest = value.partition("=")
        result[key] = rest if equals else None
    return result
