"""Codenvy versions: ordering, and the upgrade gate the seed's `codenvy upgrade` enforces."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_VERSION = re.compile(r"^([0-9]+)\.([0-9]+)\.([0-9]+)(?:-([0-9A-Za-z.-]+))?$")
_MILESTONE = re.compile(r"^([A-Za-z]+)([0-9]+)$")


class UpgradeRefusedError(Exception):
    """The configured version cannot replace the deployed one; nothing has been changed."""


def version_key(version: str) -> tuple:
    """A sort key: semantic versioning, except that milestone tags such as M8 and M10 compare by number
    (Codenvy's 5.0.0-M2 … 5.0.0-M10 would otherwise sort M10 before M8)."""
    match = _VERSION.match(version)
    if not match:
        raise ValueError(f"not a version: {version!r}")
    major, minor, patch, prerelease = match.groups()
    release = (int(major), int(minor), int(patch))
    if prerelease is None:
        return (*release, 1, ())
    return (*release, 0, tuple(_identifier_key(part) for part in prerelease.split(".")))


def _identifier_key(identifier: str) -> tuple:
    if identifier.isdigit():
        return (0, int(identifier), "")
    milestone = _MILESTONE.match(identifier)
    if milestone:
        return (1, int(milestone.group(2)), milestone.group(1))
    return (2, 0, identifier)


@dataclass(frozen=True)
class UpgradePlan:
    kind: Literal["install", "same", "upgrade"]
    deployed: str | None
    target: str


def plan_upgrade(deployed: str | None, target: str, allow_major: bool = False) -> UpgradePlan:
    """What moving from `deployed` to `target` means; raises UpgradeRefusedError for a downgrade or a jump
    across major versions (unless allowed), naming both versions."""
    if deployed is None:
        return UpgradePlan("install", None, target)
    if version_key(target) == version_key(deployed):
        return UpgradePlan("same", deployed, target)
    if version_key(target) < version_key(deployed):
        raise UpgradeRefusedError(
            f"refusing a downgrade from {deployed} (deployed) to {target}; only newer versions can be installed"
        )
    if version_key(target)[0] != version_key(deployed)[0] and not allow_major:
        raise UpgradeRefusedError(
            f"refusing an incompatible upgrade from {deployed} (deployed) to {target}: the major version changes; "
            "migrate first, then set upgrade.allowMajor"
        )
    return UpgradePlan("upgrade", deployed, target)
