"""Evaluate the real program (__main__.py) for a stack file, or any program, under Pulumi mocks."""

from __future__ import annotations

import asyncio
import runpy
from collections.abc import Callable, Mapping
from typing import Any
from unittest import mock

import pulumi
from pulumi.runtime import Mocks

from components.config_loader import as_pulumi_value
from tests.harness.mocks import FabricatingMocks
from tests.harness.monitor import RecordingMonitor
from tests.harness.records import Evaluation
from tests.harness.stacks import PROJECT, PROJECT_DIR, project_defaults, shipped_stack_named, stack_file_config

# Each other stack's last outputs, by its full name.
OutputsByStack = Mapping[str, Mapping[str, Any]]


def evaluate(
    stack: str = "dev",
    overrides: Mapping[str, Any] | None = None,
    *,
    secret_keys: tuple[str, ...] = (),
    preview: bool = False,
    into: Evaluation | None = None,
    mocks: Mocks | None = None,
    monitor_class: type[RecordingMonitor] = RecordingMonitor,
    stack_outputs: OutputsByStack | None = None,
    stack_name: str | None = None,
    stack_config: Mapping[str, Any] | None = None,
) -> Evaluation:
    """Run __main__.py for `stack`'s file (or `stack_config`, a stack file's `config:` kept elsewhere, such as
    the docs' examples) plus `overrides`, recording into `into` (a fresh Evaluation by
    default) so a caller still sees what was registered when it raises.

    What the program reads of other stacks comes from one place: a caller's `mocks` answer for them
    themselves; otherwise `stack_outputs` are the stacks' last outputs (this stack's own under its full
    name), and without them a standby reads `primary_as_shipped`. `stack_name` names the stack when it is
    not the file's (a second stack from the same file)."""
    own = stack_file_config(stack) if stack_config is None else stack_config
    config = {**project_defaults(), **own, **(overrides or {})}
    if mocks is None:
        mocks = FabricatingMocks(primary_as_shipped(config) if stack_outputs is None else stack_outputs)
    elif stack_outputs:
        raise TypeError("a caller's mocks answer for the other stacks: pass stack_outputs to them instead")

    def run_main() -> None:
        runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")

    return run_under_mocks(
        run_main,
        stack=stack_name or stack,
        config=config,
        secret_keys=secret_keys,
        preview=preview,
        mocks=mocks,
        monitor_class=monitor_class,
        into=into,
    )


def primary_as_shipped(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The last outputs a standby with `config` reads: those of the primary its `dr.primaryStack` names,
    when that is a shipped stack, found by evaluating that stack's own file as if it had been deployed as
    shipped. A primary (no dr section) or another primary stack reads nothing, as if never deployed."""
    dr = config.get(f"{PROJECT}:dr")
    primary = dr.get("primaryStack") if isinstance(dr, dict) else None
    shipped = shipped_stack_named(primary)
    return {} if shipped is None else {primary: evaluate(shipped).exports}


def run_under_mocks(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: tuple[str, ...] = (),
    preview: bool = False,
    mocks: Mocks | None = None,
    monitor_class: type[RecordingMonitor] = RecordingMonitor,
    into: Evaluation | None = None,
) -> Evaluation:
    """Run `program` as a Pulumi program of this project under `mocks` (made-up outputs, no other stack
    deployed, by default), recording what it registers and exports; `monitor_class` stands in for the
    engine."""
    evaluation = Evaluation() if into is None else into
    mocks = mocks or FabricatingMocks()
    monitor = monitor_class(mocks, evaluation.resources)
    # Where the program's pulumi.log messages go: a mocks' own logger (the engine's log), else Python logging.
    logger = getattr(mocks, "logger", None)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, logger=logger, monitor=monitor)
    pulumi.runtime.set_all_config({k: as_pulumi_value(v) for k, v in config.items()}, list(secret_keys))
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run_program():
        with mock.patch.object(pulumi, "export", exported.__setitem__):
            program()
        outputs = {key: pulumi.Output.from_input(value) for key, value in exported.items()}
        secrets = pulumi.Output.all(*[pulumi.Output.from_input(output.is_secret()) for output in outputs.values()])
        return pulumi.Output.all(pulumi.Output.all(**outputs), secrets).apply(_record(evaluation, list(outputs)))

    _quiet_abandoned_failures()
    run_program()
    return evaluation


def evaluate_function(program: Callable[[], None]) -> int:
    """Run a bare program under the same mocks as `evaluate`; returns how many resources it registered."""
    return len(run_under_mocks(program, stack="sim", config={}).resources)


def _quiet_abandoned_failures() -> None:
    """When a resource fails, the Outputs that waited on it are dropped unread and asyncio would log each
    one at garbage collection; the failure itself is raised to the caller, so that log is only noise."""
    loop = asyncio.get_event_loop()

    def handle(loop, context):
        if "exception was never retrieved" not in context.get("message", ""):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def _record(evaluation: Evaluation, keys: list[str]):
    def record(resolved):
        values, secret_flags = resolved
        evaluation.exports.update(values)
        evaluation.secret_exports.update(key for key, secret in zip(keys, secret_flags, strict=True) if secret)

    return record
