"""The Pulumi SDK's internals are used through one adapter (tests/harness/sdk_internals.py), and a Pulumi
upgrade that moves one says which, and under which version."""

from __future__ import annotations

import ast
import runpy
from importlib.metadata import version
from pathlib import Path

import pulumi.runtime
import pulumi.runtime.sync_await
import pytest

from tests.harness.stacks import PROJECT_DIR

ADAPTER = PROJECT_DIR / "tests" / "harness" / "sdk_internals.py"
# What the SDK itself declares public; `rpc` is listed as a submodule, whose contents are not.
PUBLIC = frozenset(pulumi.runtime.__all__) - {"rpc"}
# The adapter, and this module, which takes an internal away to see the adapter say so.
EXEMPT = {ADAPTER.resolve(), Path(__file__).resolve()}
SCANNED = [*(PROJECT_DIR / folder for folder in ("tests", "scripts", "bench")), PROJECT_DIR / "__main__.py"]


def python_files() -> list[Path]:
    files = [path for root in SCANNED for path in ([root] if root.is_file() else sorted(root.rglob("*.py")))]
    return [path for path in files if path.resolve() not in EXEMPT]


def reaches_in(node: ast.AST) -> str | None:
    """What an import or attribute reaches for that pulumi.runtime does not publish, if anything."""
    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi"):
        private = [alias.name for alias in node.names if alias.name.startswith("_")]
        if node.module == "pulumi.runtime":
            private += [alias.name for alias in node.names if alias.name not in PUBLIC]
        elif (node.module or "").startswith("pulumi.runtime."):
            private += [alias.name for alias in node.names]
        return f"from {node.module} import {', '.join(private)}" if private else None
    if isinstance(node, ast.Import):
        inner = [alias.name for alias in node.names if alias.name.startswith("pulumi.runtime.")]
        return f"import {', '.join(inner)}" if inner else None
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and (node.value.value.id, node.value.attr) == ("pulumi", "runtime")
        and node.attr not in PUBLIC
    ):
        return f"pulumi.runtime.{node.attr}"
    return None


def test_only_the_adapter_reaches_into_the_sdk():
    found = [
        f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: {what}"
        for path in python_files()
        for node in ast.walk(ast.parse(path.read_text(), str(path)))
        if (what := reaches_in(node))
    ]
    assert not found, "use these through tests/harness/sdk_internals.py:\n" + "\n".join(found)


def test_the_installed_sdk_has_every_internal_the_adapter_uses():
    adapter = runpy.run_path(str(ADAPTER))
    assert set(adapter["__all__"]) <= set(adapter)


def test_a_moved_internal_is_named_with_the_pulumi_version(monkeypatch):
    monkeypatch.delattr(pulumi.runtime.sync_await, "_sync_await")
    with pytest.raises(ImportError) as moved:
        runpy.run_path(str(ADAPTER))
    assert type(moved.value).__name__ == "SdkMovedError"
    assert "_sync_await" in str(moved.value)
    assert f"pulumi {version('pulumi')}" in str(moved.value)
