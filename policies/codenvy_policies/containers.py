"""How a container (or a Swarm service's task) is run: a pinned image, bounded memory, bounded restarts, a
healthcheck, and bounded logs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import EnforcementLevel, Policy, ResourceValidationArgs

from .common import CONTAINER_LIKE, REMOTE_IMAGE, as_port, container_props, resource_policy
from .program_facts import _unpinned

LOG_SIZE = re.compile(r"([0-9.]+) ?(?:b|([kmgtp])(?:b|ib)?)?", re.IGNORECASE)
# (max-size bytes, max-file) a driver keeps when logOpts leave them out: json-file one file that grows without
# bound (moby daemon/logger/jsonfilelog/jsonfilelog.go), local five of 20 MB (daemon/logger/local/local.go).
# Another driver is held to an explicit max-size, as before.
LOG_DEFAULTS = {"json-file": (None, 1), "local": (20 * 10**6, 5)}
# What one container's logs may hold on the host: a host runs a dozen site containers and many workspaces, so a
# gigabyte each keeps logs a small share of its disk; the program's 10m x 3 is far under it.
MAX_LOG_BYTES = 10**9


def _check_image_pinned(args: ResourceValidationArgs) -> str | None:
    image = args.props.get("name") if args.resource_type == REMOTE_IMAGE else container_props(args).get("image")
    if _unpinned(image):
        return (
            f"image '{image}' is not pinned; name a version tag (not latest, stable or another channel without a "
            "version number) or a digest (@sha256:…)"
        )
    return None


def _check_memory_limit(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    if not props.get("memory"):
        return "no memory limit; set memory (MiB) so one service cannot starve the host"
    # Docker reads a memory-swap of -1 as unlimited swap on top of the memory limit.
    if (as_port(props.get("memorySwap")) or 0) < 0:
        return "memorySwap -1 swaps without limit past the memory limit; set memorySwap to memory or drop it"
    return None


def _check_restart_policy(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    restart = props.get("restart") or "no"
    if restart in ("always", "unless-stopped"):
        return None
    if restart == "on-failure" and (props.get("maxRetryCount") or 0) > 0:
        return None
    if restart == "on-failure":
        return "restart on-failure without a bound; set maxRetryCount (e.g. 5)"
    return f"restart policy '{restart}'; use always, unless-stopped, or on-failure with maxRetryCount"


def _check_healthcheck(args: ResourceValidationArgs) -> str | None:
    tests = (container_props(args).get("healthcheck") or {}).get("tests") or []
    if not tests:
        return "no healthcheck; add one so restarts and dashboards know when the service is unwell"
    if str(tests[0]).strip().upper() == "NONE":
        return "healthcheck NONE switches the image's check off; add a CMD or CMD-SHELL test instead"
    return None


def _size(text: Any) -> int | None:
    """A log size as go-units FromHumanSize reads it (moby vendor/github.com/docker/go-units/size.go): decimal
    units, any case, an optional b or ib; None for what it refuses."""
    match = LOG_SIZE.fullmatch(str(text).strip())
    if not match:
        return None
    number, unit = match.groups()
    try:
        return int(float(number) * 1000 ** ("kmgtp".index(unit.lower()) + 1 if unit else 0))
    except ValueError:
        return None


def _log_bound(driver: Any, options: Mapping[str, Any]) -> int | None:
    """The most bytes a container's log files hold, None when unbounded or unreadable."""
    defaults = LOG_DEFAULTS.get(str(driver or "json-file").strip().lower(), (None, 1))
    size = _size(options["max-size"]) if "max-size" in options else defaults[0]
    try:
        files = int(options["max-file"]) if "max-file" in options else defaults[1]
    except (TypeError, ValueError):
        return None
    return size * max(files, 1) if size is not None and size >= 0 else None


def _check_log_limits(args: ResourceValidationArgs) -> str | None:
    props = container_props(args)
    bound = _log_bound(props.get("logDriver"), props.get("logOpts") or {})
    if bound is None or bound > MAX_LOG_BYTES:
        return (
            f"logs not bounded to {MAX_LOG_BYTES // 10**6} MB; set logOpts max-size and max-file so their product "
            "stays under it and logs cannot fill the disk"
        )
    return None


POLICIES: list[Policy] = [
    resource_policy(
        "container-image-pinned",
        "Images are pinned to a version tag (one with a digit: not latest, LATEST or stable) or to a digest.",
        (*CONTAINER_LIKE, REMOTE_IMAGE),
        _check_image_pinned,
    ),
    resource_policy(
        "container-memory-limit",
        "Containers have a memory limit, and no unlimited swap (memorySwap -1).",
        CONTAINER_LIKE,
        _check_memory_limit,
    ),
    resource_policy(
        "container-restart-bounded",
        "Containers restart always, unless-stopped, or on-failure with a retry bound (maxRetryCount); never 'no'.",
        CONTAINER_LIKE,
        _check_restart_policy,
    ),
    resource_policy(
        "container-healthcheck",
        "Containers have a healthcheck, not NONE (advisory).",
        CONTAINER_LIKE,
        _check_healthcheck,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
    resource_policy(
        "container-log-limits",
        "Container logs are bounded: max-size times max-file, with the driver's defaults, at most "
        f"{MAX_LOG_BYTES // 10**9} GB (advisory).",
        CONTAINER_LIKE,
        _check_log_limits,
        enforcement_level=EnforcementLevel.ADVISORY,
    ),
]
