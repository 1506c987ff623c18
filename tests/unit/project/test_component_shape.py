"""Every component in components/ is built as `Name(name, args, opts=None)`: a reader never counts positions,
and a move is an alias its caller gives, not a `former_*` parameter (STYLE.md 16)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

COMPONENTS_DIR = Path(__file__).resolve().parents[3] / "components"
SHAPE = ["self", "name", "args", "opts"]


def component_inits() -> list[tuple[str, ast.FunctionDef]]:
    """Each ComponentResource subclass's __init__ in components/, as `file:Class` and its definition."""
    found = []
    for path in sorted(COMPONENTS_DIR.glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                ast.unparse(base).endswith("ComponentResource") for base in node.bases
            ):
                init = next(f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__")
                found.append((f"{path.name}:{node.name}", init))
    return found


INITS = component_inits()


def parameter_names(init: ast.FunctionDef) -> list[str]:
    arguments = init.args
    return [a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]]


def test_the_walk_finds_the_components():
    assert {"master_node.py:MasterNode", "site.py:Site", "app_server.py:AppServer"} <= {name for name, _ in INITS}


@pytest.mark.parametrize(("component", "init"), INITS, ids=[name for name, _ in INITS])
def test_constructor_is_name_args_opts(component, init):
    arguments = init.args
    assert parameter_names(init) == SHAPE and not arguments.vararg and not arguments.kwarg, (
        f"{component} takes {parameter_names(init)}: build it as (name, args, opts=None)"
    )
    (opts_default,) = arguments.defaults
    assert isinstance(opts_default, ast.Constant) and opts_default.value is None, f"{component}: opts defaults to None"


@pytest.mark.parametrize(("component", "init"), INITS, ids=[name for name, _ in INITS])
def test_no_former_parameters(component, init):
    former = [name for name in parameter_names(init) if name.startswith("former_")]
    assert former == [], f"{component} takes {former}: a move is an alias in opts, given by the caller that moved it"


@pytest.mark.parametrize(("component", "init"), INITS, ids=[name for name, _ in INITS])
def test_args_is_a_keyword_only_model_in_the_components_own_file(component, init):
    """The `args` annotation names `<Component>Args`, defined in the same module as a keyword-only frozen
    dataclass whose fields carry no `former_*` either."""
    module_file, class_name = component.split(":")
    module = ast.parse((COMPONENTS_DIR / module_file).read_text())
    args_name = f"{class_name}Args"
    annotation = init.args.args[2].annotation
    assert annotation is not None and ast.unparse(annotation) == args_name, f"{component}: args is {args_name}"
    definition = next((n for n in module.body if isinstance(n, ast.ClassDef) and n.name == args_name), None)
    assert definition is not None, f"{component}: {args_name} belongs in {module_file}"
    decorator = next(ast.unparse(d) for d in definition.decorator_list if "dataclass" in ast.unparse(d))
    assert "kw_only=True" in decorator and "frozen=True" in decorator, f"{args_name}: @dataclass(frozen, kw_only)"
    fields = [n.target.id for n in definition.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)]
    assert not [f for f in fields if f.startswith("former_")], f"{args_name} has a former_* field"
