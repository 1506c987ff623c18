"""A stack's state as the engine keeps it: resources, steps, checkpoints and the backend that holds every stack's
(pulumi/pulumi pkg/resource/state.go, pkg/backend)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from components.deploy_gates import READ_STACK_OUTPUTS
from tests.harness import (
    Evaluation,
)


class EngineError(Exception):
    """`pulumi up` failed; `str()` is what the engine would print."""


@dataclass
class ResourceState:
    """One resource of a checkpoint, as pkg/resource/state.go keeps it."""

    urn: str
    type: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    dependencies: tuple[str, ...] = ()
    # Which resources each input's value came from (the SDK's propertyDependencies).
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    secret_inputs: frozenset[str] = frozenset()
    retain_on_delete: bool = False
    delete: bool = False  # an old copy waiting for its delete after a create-before-delete replacement
    # Why the provider's create or update half failed (step.go: a partial failure's InitError reasons): the
    # resource exists and is in the state, and the next update steps it even when nothing changed.
    init_errors: tuple[str, ...] = ()

    @property
    def edges(self) -> tuple[str, ...]:
        provider = (self.provider.rsplit("::", 1)[0],) if self.provider else ()
        return (*self.dependencies, *((self.parent,) if self.parent else ()), *provider)


@dataclass
class Step:
    urn: str
    kind: str
    keys: tuple[str, ...] = ()
    # What `pulumi preview --diff` shows for each changed key: (the state's value, the program's).
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.urn.rsplit('::', 1)[-1]}" + (f" [{', '.join(self.keys)}]" if self.keys else "")

    def diff(self) -> str:
        return "\n".join(f"{self}: {key}: {old!r} => {new!r}" for key, (old, new) in self.values.items())

    @property
    def type(self) -> str:
        """The resource's type token, the last part of the URN's type path."""
        return self.urn.split("::")[2].split("$")[-1]


@dataclass
class Checkpoint:
    """A stack's state: resources in dependency order, and its outputs."""

    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, ResourceState]:
        return {resource.urn: resource for resource in self.resources}


@dataclass
class Result:
    steps: list[Step]
    evaluation: Evaluation
    # The refresh that ran first (`--refresh`, or the project's `options.refresh: always`), kept apart.
    refreshed: list[Step] = field(default_factory=list)

    def changes(self) -> list[Step]:
        return [step for step in self.steps if step.kind != "same"]

    def diff(self) -> list[str]:
        """Each change with its values, as `pulumi preview --diff` lists them; empty when nothing changes."""
        return [step.diff() or str(step) for step in self.changes()]


@dataclass
class Backend:
    """Every stack's checkpoint, as a file backend keeps them; answers readStackOutputs."""

    stacks: dict[str, Checkpoint] = field(default_factory=dict)

    def read_stack_outputs(self, name: str) -> dict[str, Any]:
        # pkg/backend/backend.go GetStackOutputs: a stack without a checkpoint is an error.
        if name not in self.stacks:
            raise EngineError(f'invocation of {READ_STACK_OUTPUTS} returned an error: unknown stack "{name}"')
        return dict(self.stacks[name].outputs)
