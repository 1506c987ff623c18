"""URNs as the engine forms them, and the aliases it tries for a registration: pure functions.

pulumi/pulumi sdk/go/common/resource/urn/urn.go (New), alias.go (CreateURN) and pkg/resource/deploy/
step_generator.go (collapseAliasToUrn, inheritedChildAlias, generateAliases). Facts carried over, no code."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ROOT_STACK = "pulumi:pulumi:Stack"


def qualified_type(urn: str) -> str:
    """Every ancestor's type below the stack and the resource's own, `$`-joined."""
    return urn.split("::")[2]


def name_of(urn: str) -> str:
    return urn.split("::", 3)[3]


def _prefix(stack: str, project: str) -> str:
    return f"urn:pulumi:{stack}::{project}::"


def new_urn(stack: str, project: str, parent_type: str, base_type: str, name: str) -> str:
    """urn.go New: the parent's qualified type before the resource's own, unless it is the root stack."""
    typ = f"{parent_type}${base_type}" if parent_type and parent_type != ROOT_STACK else base_type
    return f"{_prefix(stack, project)}{typ}::{name}"


def registered_urn(stack: str, project: str, parent: str, base_type: str, name: str) -> str:
    """The URN a registration gets: its parent's whole type chain, then its own type (the resource monitor
    builds it with New from the parent's QualifiedType)."""
    return new_urn(stack, project, qualified_type(parent) if parent else "", base_type, name)


def create_urn(name: str, typ: str, parent: str, project: str, stack: str) -> str:
    """alias.go CreateURN: under a parent, everything of the parent's URN before its name, then `$`."""
    if not parent:
        return f"{_prefix(stack, project)}{typ}::{name}"
    return f"{parent[: parent.rindex('::')]}${typ}::{name}"


def collapse_alias(
    alias, name: str, typ: str, parent: str, matched: Mapping[str, str], project: str, stack: str
) -> str:
    """collapseAliasToUrn: a URN alias as it is; a spec fills in what it leaves out from the registration.
    An explicit parent that was itself found under an alias stands for that old URN; no parent, or the root
    stack as parent, means none."""
    if alias.WhichOneof("alias") == "urn":
        return alias.urn
    spec = alias.spec
    chosen = spec.parentUrn if spec.WhichOneof("parent") == "parentUrn" and spec.parentUrn else ""
    alias_parent = matched.get(chosen, chosen) if chosen else parent
    if spec.noParent or (alias_parent and qualified_type(alias_parent) == ROOT_STACK):
        alias_parent = ""
    return create_urn(spec.name or name, spec.type or typ, alias_parent, spec.project or project, spec.stack or stack)


def inherited_child_alias(child_type: str, child_name: str, parent_name: str, parent_alias: str) -> str:
    """inheritedChildAlias: the child under its parent's old URN; a name that starts with the parent's name
    (the `{name}-part` convention) starts with the parent's old name instead."""
    alias_name = child_name
    if child_name.startswith(parent_name):
        alias_name = name_of(parent_alias) + child_name[len(parent_name) :]
    stack, project = parent_alias.removeprefix("urn:pulumi:").split("::")[:2]
    return new_urn(stack, project, qualified_type(parent_alias), child_type, alias_name)


def generate_aliases(own: Iterable[str], typ: str, name: str, parent: str, parent_alias: str | None) -> list[str]:
    """generateAliases: the registration's own aliases, then, when its parent was found under an alias (only
    the one that matched the old state counts), the child and each of its own aliases under that old URN."""
    own = list(own)
    found = list(own)
    if parent and parent_alias:
        parent_name = name_of(parent)
        found.append(inherited_child_alias(typ, name, parent_name, parent_alias))
        for alias in own:
            alias_type = qualified_type(alias).split("$")[-1]
            found.append(inherited_child_alias(alias_type, name_of(alias), parent_name, parent_alias))
    return list(dict.fromkeys(found))
