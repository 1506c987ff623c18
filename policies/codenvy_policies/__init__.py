"""The codenvy-infra policies, one module per family and one validator per rule; importable with only
pulumi-policy installed. Resource policies read the inputs the engine sees (camelCase); stack policies read
the resources' state. `pulumi policy` runs policies/__main__.py with policies/ on the path (pulumi/pulumi
sdk/python/lib/pulumi/policy/__main__.py runs the pack's directory with runpy), so the package is found there."""

from __future__ import annotations

from pulumi_policy import Policy

from . import containers, daemon, isolation, mounts, registry, site

# Family -> its policies, in the order the docs' table lists them (scripts/policies_reference.py).
FAMILIES: dict[str, list[Policy]] = {
    "containers": containers.POLICIES,
    "isolation": isolation.POLICIES,
    "mounts": mounts.POLICIES,
    "daemon": daemon.POLICIES,
    "registry": registry.POLICIES,
    "site": site.POLICIES,
}
POLICIES: list[Policy] = [policy for family in FAMILIES.values() for policy in family]
