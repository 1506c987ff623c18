"""The filter chain: names, order, and the message when a filter refuses (scheduler/filter/filter.go)."""

from __future__ import annotations

import typing

from ..errors import SchedulingError
from .affinity import filter_affinity
from .constraint import filter_constraint
from .dependency import filter_dependency, get_dependency
from .expr import ExprError, parse_exprs
from .health import filter_health
from .port import filter_port, get_port
from .slots import filter_slots
from .whitelist import filter_whitelist

if typing.TYPE_CHECKING:
    from ...cluster.config import ContainerConfig
    from ..node import Node

FILTERS = ("health", "port", "containerslots", "dependency", "affinity", "constraint", "whitelist")  # filter.go:30-38


def _with_softness(key: str):
    """affinity.go:81-91 and whitelist.go:61-71 list expressions with "(soft=true|false)"."""
    return lambda config: [f"{e} (soft={str(e.soft).lower()})" for e in parse_exprs(config.expressions(key))]


FILTER_FUNCTIONS = {  # scheduler/filter/filter.go:30-38, each with its GetFilters
    "health": (filter_health, lambda config: []),
    "port": (filter_port, get_port),
    "containerslots": (filter_slots, lambda config: ["available container slots"]),
    "dependency": (filter_dependency, get_dependency),
    "affinity": (filter_affinity, _with_softness("affinities")),
    "constraint": (filter_constraint, lambda config: [str(e) for e in parse_exprs(config.expressions("constraints"))]),
    "whitelist": (filter_whitelist, _with_softness("whitelists")),
}


def list_all_filters(names: list[str], config: ContainerConfig, last: str) -> str:
    """filter.go:83-100: every filter's conditions up to the one that failed, each as "\\n[a b]"."""
    text = ""
    for name in names:
        try:
            found = FILTER_FUNCTIONS[name][1](config)
        except ExprError as error:
            return f"{text}\nerror from {name} filter: {error}"
        if found:
            text += "\n[" + " ".join(found) + "]"
        if name == last:
            return text
    return text


def apply_filters(names: list[str], config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """filter.go:63-80: the health filter's own error; any other failure lists the conditions."""
    for name in names:
        try:
            nodes = FILTER_FUNCTIONS[name][0](config, nodes, soft)
        except (SchedulingError, ExprError) as error:
            if name == "health":
                raise SchedulingError(str(error)) from None
            conditions = list_all_filters(names, config, name)
            raise SchedulingError(
                f"Unable to find a node that satisfies the following conditions {conditions}"
            ) from None
    return nodes
