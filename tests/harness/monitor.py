"""The SDK's mock monitor, recording each registration as the engine would receive it."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import Mocks

from tests.harness import sdk_internals as sdk
from tests.harness.records import Options, Registration


class RecordingMonitor(sdk.MockMonitor):
    """The SDK's mock monitor, keeping each registration's parent, provider and dependencies too."""

    def __init__(self, mocks: Mocks, registrations: list[Registration]) -> None:
        super().__init__(mocks)
        self.registrations = registrations

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(response.urn, request, request.object, response.object)
        return response

    def ReadResource(self, request):  # noqa: N802 - the gRPC method name (StackReference is a read)
        response = super().ReadResource(request)
        self._record(response.urn, request, request.properties, response.properties)
        return response

    def _record(self, urn: str, request, properties, state) -> None:
        inputs = sdk.deserialize(properties)
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                dependencies=tuple(request.dependencies),
                inputs={key: plain(value) for key, value in inputs.items()},
                secret_inputs=frozenset(key for key, value in inputs.items() if holds_secret(value)),
                outputs={key: plain(value) for key, value in sdk.deserialize(state).items()},
                options=_options_of(request),
            )
        )


def _options_of(request) -> Options:
    if not isinstance(request, sdk.RegisterResourceRequest):
        return Options()
    return Options(
        delete_before_replace=request.deleteBeforeReplace,
        ignore_changes=tuple(request.ignoreChanges),
        retain_on_delete=request.retainOnDelete,
        additional_secret_outputs=tuple(request.additionalSecretOutputs),
        aliases=(
            *(_urn_tail(urn) for urn in request.aliasURNs),
            *(_alias_tail(request, alias) for alias in request.aliases),
        ),
    )


def _urn_tail(urn: str) -> str:
    return urn.split("::", 2)[-1]


def _alias_tail(request, alias) -> str:
    """An alias as `types::name`, the tail of the URN it names (spec fields default to the resource's own)."""
    if alias.urn:
        return _urn_tail(alias.urn)
    spec = alias.spec
    parent = spec.parentUrn or request.parent
    parent_types = "" if spec.noParent or not parent else parent.split("::")[2] + "$"
    return f"{parent_types}{spec.type or request.type}::{spec.name or request.name}"


def holds_secret(value: Any) -> bool:
    """Whether a wire value is a secret or holds one anywhere inside."""
    if sdk.is_secret(value):
        return True
    if isinstance(value, dict):
        return any(holds_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(holds_secret(item) for item in value)
    return False


def plain(value: Any) -> Any:
    """The value with every secret envelope opened, so tests can read what the program sent."""
    if sdk.is_secret(value):
        return plain(sdk.unwrap_secret(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
