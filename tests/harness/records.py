"""What one evaluation of the program registered and exported, as plain values tests read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Options:
    """The resource options of one registration, as the engine receives them (a read carries none)."""

    delete_before_replace: bool = False
    ignore_changes: tuple[str, ...] = ()
    retain_on_delete: bool = False
    additional_secret_outputs: tuple[str, ...] = ()
    # Each alias as `types::name`, the tail of the URN it names.
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    # The state the engine would hold after the step (the mocks echo inputs plus computed outputs).
    outputs: dict[str, Any]
    options: Options = Options()

    @property
    def parent_type(self) -> str:
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""


@dataclass
class Evaluation:
    resources: list[Registration] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)

    def waits_for(self, urn: str) -> set[str]:
        """Every resource the engine creates before `urn`: its dependencies and theirs."""
        found: set[str] = set()
        pending = [urn]
        while pending:
            for dependency in self.by_urn(pending.pop()).dependencies:
                if dependency not in found:
                    found.add(dependency)
                    pending.append(dependency)
        return found
