"""The codenvy-infra policies, importable without the Pulumi CLI; filled in by the policy-pack issue."""

from __future__ import annotations

from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

POLICIES: list[ResourceValidationPolicy | StackValidationPolicy] = []
