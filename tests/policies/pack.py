"""Calling the pack's validators the way the engine does, on the harness's recorded resources."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from codenvy_policies import POLICIES
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from tests.harness import Evaluation, Registration

SERVICE = "docker:index/service:Service"

BY_NAME = {policy.name: policy for policy in POLICIES}


def _options(parent: str | None = None) -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def resource_args(
    resource_type: str, props: Mapping[str, Any], name: str = "subject", config: Mapping[str, Any] | None = None
) -> ResourceValidationArgs:
    urn = f"urn:pulumi:test::codenvy-infra::{resource_type}::{name}"
    return ResourceValidationArgs(resource_type, dict(props), urn, name, _options(), None, config or {})


def of(registration: Registration, **prop_changes: Any) -> ResourceValidationArgs:
    """The engine's view of a registered resource (its inputs), with some props changed."""
    return resource_args(registration.type, {**registration.inputs, **prop_changes}, registration.name)


def stack_args(evaluation: Evaluation, config: Mapping[str, Any] | None = None) -> StackValidationArgs:
    resources = [
        PolicyResource(r.type, r.outputs or r.inputs, r.urn, r.name, _options(r.parent), None, None, [], {})
        for r in evaluation.resources
    ]
    return StackValidationArgs(resources, config)


def violations(args: ResourceValidationArgs | StackValidationArgs, only: str | None = None) -> dict[str, list[str]]:
    """Policy name -> messages, for every policy of the pack (or only one) that the args trip."""
    found: dict[str, list[str]] = {}
    for policy in POLICIES if only is None else [BY_NAME[only]]:
        wanted = ResourceValidationPolicy if isinstance(args, ResourceValidationArgs) else StackValidationPolicy
        if isinstance(policy, wanted):
            messages: list[str] = []
            policy.validate(args, lambda message, urn=None, sink=messages: sink.append(message))
            if messages:
                found[policy.name] = messages
    return found


def all_violations(evaluation: Evaluation) -> dict[str, list[str]]:
    """Every resource policy over every registered resource, then every stack policy."""
    found: dict[str, list[str]] = {}
    for registration in evaluation.resources:
        for name, messages in violations(of(registration)).items():
            found.setdefault(name, []).extend(messages)
    for name, messages in violations(stack_args(evaluation)).items():
        found.setdefault(name, []).extend(messages)
    return found


def bash(script: str) -> str:
    """`script` as a Command's create runs it."""
    return "bash -c " + json.dumps(script)


def tripped(args: ResourceValidationArgs | StackValidationArgs, policy: str) -> list[str]:
    return violations(args, only=policy).get(policy, [])


def hardened_service(**spec_changes: Any) -> dict[str, Any]:
    """A Swarm service as the container rules want it; `spec_changes` replace containerSpec fields."""
    container_spec = {
        "image": "postgres:16.4@sha256:" + "c" * 64,
        "healthcheck": {"tests": ["CMD-SHELL", "pg_isready"]},
        "mounts": [{"source": "codenvy-pgdata", "target": "/var/lib/postgresql/data", "type": "volume"}],
        **spec_changes,
    }
    return {
        "name": "codenvy-postgres",
        "taskSpec": {
            "containerSpec": container_spec,
            "resources": {"limits": {"memoryBytes": 512 * 2**20}},
            "restartPolicy": {"condition": "on-failure", "maxAttempts": 5},
            "logDriver": {"name": "json-file", "options": {"max-size": "10m", "max-file": "3"}},
        },
        "endpointSpec": {"ports": [{"targetPort": 80, "publishedPort": 8080}]},
    }


def service(**changes: Any) -> Any:
    props = hardened_service(**changes.pop("spec", {}))
    props["taskSpec"] = {**props["taskSpec"], **changes.pop("task", {})}
    return resource_args(SERVICE, {**props, **changes}, "codenvy-postgres")
