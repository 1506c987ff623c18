"""Stack policies on a whole site: an odd number of swarm managers, a standby that matches its primary, and
scheduled backups."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    StackValidationArgs,
)

from .common import COMMANDS, CONTAINER, STACK_REFERENCE, stack_policy
from .program_facts import (
    BACKUP_SCHEDULE_KEY,
    DEV_STACKS,
    ENTRY_PARAM,
    ENVIRONMENT_LABEL,
    MANAGER_ROLE,
    MARKER_PARAM,
    NODE_SET_PARAM,
    PRIMARY_NODES_OUTPUT,
    PRIMARY_STACK_KEY,
    PRIMARY_VERSION_OUTPUT,
    ROLE_LABEL,
    ROLES,
    SITE_LABEL,
    SITE_PARAM,
    STANDBY_ROLE,
    SWARM_ROLE_PARAM,
    UNSCHEDULED_ENVIRONMENT,
    VERSION_LABEL,
    _backup_marker,
    _capacities,
    _script_params,
)

DEV_STACKS_SCHEMA = PolicyConfigSchema(
    properties={"devStacks": {"type": "array", "items": {"type": "string"}, "default": list(DEV_STACKS)}},
)


def _servers(args: StackValidationArgs) -> list[tuple[str, dict[str, str], str]]:
    """(URN, labels, container name) of each site's server: the container that declares a version."""
    servers = []
    for resource in args.resources:
        if resource.resource_type == CONTAINER:
            labels = {item["label"]: item["value"] for item in resource.props.get("labels") or []}
            if VERSION_LABEL in labels:
                servers.append((resource.urn, labels, str(resource.props.get("name") or "")))
    return servers


def _declared_node_sets(args: StackValidationArgs) -> dict[str, list[Mapping[str, Any]]]:
    """Site name -> the workspace hosts it declares."""
    declared = {}
    for resource in args.resources:
        if resource.resource_type in COMMANDS:
            params = _script_params(resource.props)
            if NODE_SET_PARAM in params and SITE_PARAM in params:
                try:
                    declared[params[SITE_PARAM]] = json.loads(params[NODE_SET_PARAM])
                except ValueError:
                    declared[params[SITE_PARAM]] = []  # unreadable: reported as declaring no nodes
    return declared


def _validate_odd_managers(args: StackValidationArgs, report: ReportViolation) -> None:
    managers = sum(
        1
        for r in args.resources
        if r.resource_type in COMMANDS and _script_params(r.props).get(SWARM_ROLE_PARAM) == MANAGER_ROLE
    )
    if managers and managers % 2 == 0:
        report(f"{managers} swarm managers: Raft needs an odd number (1, 3, 5) to keep a majority", None)


def _undeclared_role(labels: Mapping[str, str], references: list[Any]) -> str | None:
    """Why a server's role label cannot be trusted: absent, not a role, or primary beside a StackReference
    (the program references a primary only from a standby)."""
    role = labels.get(ROLE_LABEL)
    if role not in ROLES:
        return f"the server's {ROLE_LABEL} is {role!r}; label it {' or '.join(ROLES)}"
    if references and role != STANDBY_ROLE:
        return f"a StackReference to a primary, but the server's {ROLE_LABEL} is {role}; label it {STANDBY_ROLE}"
    return None


def _validate_standby_matches_primary(args: StackValidationArgs, report: ReportViolation) -> None:
    references = [r for r in args.resources if r.resource_type == STACK_REFERENCE]
    node_sets = _declared_node_sets(args)
    for urn, labels, _ in _servers(args):
        problem = _undeclared_role(labels, references)
        if problem:
            report(problem, urn)
            continue
        if labels[ROLE_LABEL] != STANDBY_ROLE:
            continue
        if not references:
            report(f"a standby without a StackReference to its primary; set {PRIMARY_STACK_KEY}", urn)
            continue
        if len(references) > 1:
            # Which one is the primary is the program's word; a second could be a decoy that matches.
            report(f"{len(references)} StackReferences; a standby references exactly one primary", urn)
            continue
        primary = references[0].props.get("outputs") or {}
        if labels[VERSION_LABEL] != primary.get(PRIMARY_VERSION_OUTPUT):
            report(
                f"standby runs {labels[VERSION_LABEL]}, its primary {primary.get(PRIMARY_VERSION_OUTPUT)}; "
                "upgrade both to the same version",
                urn,
            )
        standby_nodes = _capacities(node_sets.get(labels.get(SITE_LABEL, ""), []))
        primary_nodes = _capacities(primary.get(PRIMARY_NODES_OUTPUT) or [])
        if standby_nodes != primary_nodes:
            report(
                f"standby nodes {standby_nodes} differ from the primary's {primary_nodes} (RAM GiB, CPUs); "
                "make the same change on both",
                urn,
            )


def _scheduled_markers(args: StackValidationArgs) -> set[str]:
    """The markers that schedule commands keep a crontab line under (a command with an empty entry removes it)."""
    markers = set()
    for resource in args.resources:
        if resource.resource_type in COMMANDS:
            params = _script_params(resource.props)
            if params.get(ENTRY_PARAM) and MARKER_PARAM in params:
                markers.add(params[MARKER_PARAM])
    return markers


def _stack_of(urn: str) -> str:
    """The stack a URN (urn:pulumi:<stack>::<project>::…) was registered in."""
    return urn.split("::", 1)[0].removeprefix("urn:pulumi:")


def _validate_backups_scheduled(args: StackValidationArgs, report: ReportViolation) -> None:
    scheduled = _scheduled_markers(args)
    dev_stacks = args.get_config().get("devStacks", DEV_STACKS)
    for urn, labels, _ in _servers(args):
        site = labels.get(SITE_LABEL, "")
        if _backup_marker(site) in scheduled:
            continue
        if labels.get(ENVIRONMENT_LABEL) != UNSCHEDULED_ENVIRONMENT:
            report(f"site {site} has no scheduled backup; set {BACKUP_SCHEDULE_KEY}", urn)
        elif _stack_of(urn) not in dev_stacks:
            report(
                f"site {site} is labelled {UNSCHEDULED_ENVIRONMENT} in stack '{_stack_of(urn)}', which the pack "
                f"does not know as a dev stack, and has no scheduled backup; set {BACKUP_SCHEDULE_KEY}, or list "
                "the stack in the backups-scheduled pack config devStacks",
                urn,
            )


POLICIES: list[Policy] = [
    stack_policy(
        "swarm-managers-odd",
        "A swarm has an odd number of managers.",
        _validate_odd_managers,
    ),
    stack_policy(
        "standby-matches-primary",
        f"The server declares its role, {' or '.join(ROLES)} ({STANDBY_ROLE} beside a StackReference); a "
        "standby references exactly one primary and declares its version and node set.",
        _validate_standby_matches_primary,
    ),
    stack_policy(
        "backups-scheduled",
        f"Every site schedules backups, but one labelled {UNSCHEDULED_ENVIRONMENT} in a stack the pack "
        f"config devStacks lists (default {', '.join(DEV_STACKS)}).",
        _validate_backups_scheduled,
        config_schema=DEV_STACKS_SCHEMA,
    ),
]
