"""The Pulumi SDK's unpublished parts that the harness and the stand-in engine use, in one place.

None of them is public API (pulumi.runtime's __all__ names none), so any Pulumi release may move one. Every
other module of tests/ and scripts/ uses them from here (tests/unit/harness/test_sdk_internals.py keeps it so), and an
upgrade that moves one fails on import with the name and the installed version, not deep inside a run."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import version
from typing import Any


class SdkMovedError(ImportError):
    """A Pulumi upgrade moved or removed an SDK internal that the harness relies on."""


try:
    # The gRPC messages between a program and the engine's resource monitor.
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.proto.resource_pb2 import RegisterResourceRequest, RegisterResourceResponse

    # The wire format of resource properties, secrets and unknowns (sdk/python/lib/pulumi/runtime/rpc.py).
    from pulumi.runtime.rpc import (
        UNKNOWN,
        deserialize_properties,
        is_rpc_secret,
        serialize_properties,
        unwrap_rpc_secret,
        wrap_rpc_secret,
    )
    from pulumi.runtime.settings import set_root_resource
    from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await
except ImportError as error:
    raise SdkMovedError(
        f"pulumi {version('pulumi')} moved an SDK internal the stand-in engine uses ({error}); find where "
        "sdk/python/lib/pulumi/runtime keeps it now and change tests/harness/sdk_internals.py alone"
    ) from error

__all__ = [
    "UNKNOWN",
    "MockMonitor",
    "RegisterResourceRequest",
    "RegisterResourceResponse",
    "SdkMovedError",
    "deserialize",
    "ensure_event_loop",
    "forget_root_stack",
    "is_secret",
    "serialize",
    "unwrap_secret",
    "wrap_secret",
]

deserialize = deserialize_properties
is_secret = is_rpc_secret
unwrap_secret = unwrap_rpc_secret
wrap_secret = wrap_rpc_secret


def ensure_event_loop() -> None:
    """The SDK calls a monitor's methods on its own worker threads, which have no event loop yet."""
    _ensure_event_loop()


def serialize(properties: Mapping[str, Any]) -> Any:
    """Plain values as the wire carries them (a protobuf Struct), from a monitor's synchronous method."""
    return _sync_await(serialize_properties(dict(properties), {}))


def forget_root_stack() -> None:
    """set_mocks makes the root stack a unit test needs; a language host's run_in_stack makes its own."""
    set_root_resource(None)  # type: ignore[arg-type] - the SDK's own reset value
