"""The SDK's mock monitor, recording each registration as the engine would receive it."""

from __future__ import annotations

from typing import Any

from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks

from tests.harness.records import Registration


class RecordingMonitor(MockMonitor):
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
        inputs = rpc.deserialize_properties(properties)
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                dependencies=tuple(request.dependencies),
                inputs={key: plain(value) for key, value in inputs.items()},
                secret_inputs=frozenset(key for key, value in inputs.items() if _holds_secret(value)),
                outputs={key: plain(value) for key, value in rpc.deserialize_properties(state).items()},
            )
        )


def _holds_secret(value: Any) -> bool:
    if rpc.is_rpc_secret(value):
        return True
    if isinstance(value, dict):
        return any(_holds_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_secret(item) for item in value)
    return False


def plain(value: Any) -> Any:
    """The value with every secret envelope opened, so tests can read what the program sent."""
    if rpc.is_rpc_secret(value):
        return plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
