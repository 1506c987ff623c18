"""One name for "the resources this waits for" across components/: `after` (components/ordering.py After), in
every component's args and every helper; `depends_on` only where the engine's own ResourceOptions take it."""

from __future__ import annotations

import ast
from pathlib import Path

COMPONENTS_DIR = Path(__file__).resolve().parents[3] / "components"
# The names a wait list had before it had one.
OTHER_NAMES = {"depends_on", "host_ready", "image_ready", "ready", "wait_for", "prerequisites"}


def modules() -> list[tuple[str, ast.Module]]:
    return [(path.name, ast.parse(path.read_text())) for path in sorted(COMPONENTS_DIR.glob("*.py"))]


MODULES = modules()


def args_fields() -> list[tuple[str, str, str]]:
    """(Args class, field, annotation) for every field of every `<Component>Args` in components/."""
    found = []
    for module_name, module in MODULES:
        for node in module.body:
            if isinstance(node, ast.ClassDef) and node.name.endswith("Args"):
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        found.append((f"{module_name}:{node.name}", item.target.id, ast.unparse(item.annotation)))
    return found


def parameters() -> list[tuple[str, str, str]]:
    """(function, parameter, annotation) for every parameter of every function and method in components/."""
    found = []
    for module_name, module in MODULES:
        for node in ast.walk(module):
            if isinstance(node, ast.FunctionDef):
                arguments = node.args
                for argument in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
                    annotation = "" if argument.annotation is None else ast.unparse(argument.annotation)
                    found.append((f"{module_name}:{node.name}", argument.arg, annotation))
    return found


def named_after(name: str) -> bool:
    return name == "after" or name.endswith("_after")


def is_wait_list(annotation: str) -> bool:
    """A sequence of resources: what the engine would take as depends_on."""
    return annotation == "After" or any(
        annotation.startswith(f"{kind}[") and "Resource]" in annotation for kind in ("list", "Sequence", "tuple")
    )


def test_the_walk_finds_the_args_and_the_helpers():
    fields = {(owner, name) for owner, name, _ in args_fields()}
    helpers = {(owner, name) for owner, name, _ in parameters()}
    assert ("master_node.py:MasterNodeArgs", "after") in fields
    assert ("host_access.py:run", "after") in helpers


def other_names(entries: list[tuple[str, str, str]]) -> list[str]:
    return [f"{owner}: {name}" for owner, name, _ in entries if name in OTHER_NAMES]


def other_wait_lists(entries: list[tuple[str, str, str]]) -> list[str]:
    """The wait lists not written `after: After` (or `<part>_after: After`)."""
    return [
        f"{owner}: {name}: {annotation}"
        for owner, name, annotation in entries
        if is_wait_list(annotation) and not (annotation == "After" and named_after(name))
    ]


def test_no_args_field_has_another_name_for_a_wait_list():
    assert other_names(args_fields()) == [], "name each `after` (components/ordering.py)"


def test_every_args_wait_list_is_an_after():
    assert other_wait_lists(args_fields()) == [], "a list of resources to wait for is `after: After`"


def test_no_helper_parameter_has_another_name_for_a_wait_list():
    assert other_names(parameters()) == [], "name each `after` (components/ordering.py)"


def test_every_helper_wait_list_is_an_after():
    assert other_wait_lists(parameters()) == [], "a list of resources to wait for is `after: After`"


def depends_on_calls() -> list[str]:
    """Each call in components/ that passes depends_on= to anything but the engine's ResourceOptions."""
    found = []
    for module_name, module in MODULES:
        for node in ast.walk(module):
            if isinstance(node, ast.Call) and any(keyword.arg == "depends_on" for keyword in node.keywords):
                callee = ast.unparse(node.func)
                if callee.split(".")[-1] != "ResourceOptions":
                    found.append(f"{module_name}:{node.lineno} {callee}")
    return found


def test_only_the_engines_options_are_given_depends_on():
    assert depends_on_calls() == [], "a helper or args takes `after=`; depends_on= is ResourceOptions' own"
