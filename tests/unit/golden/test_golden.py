"""The firewall rulesets, daemon.json files, haproxy.cfg and the server's environment and properties the program
renders for each shipped stack are the golden files under tests/unit/golden/<stack>/, byte for byte: a change to a
rendering shows up as a diff of those files, reviewed with the change that made it."""

from __future__ import annotations

import difflib
import functools

import pytest

from tests.harness import PROJECT_DIR
from tests.unit.golden.renderings import GOLDEN_DIR, GOLDEN_STACKS, UPDATE_COMMAND, renderings, stored


@functools.cache
def rendered(stack: str) -> dict[str, str]:
    return renderings(stack)


def golden_files(stack: str) -> dict[str, bytes]:
    return {name: path.read_bytes() for name, path in stored(stack).items()}


def difference(stack: str, path: str, golden: bytes, text: str) -> str:
    name = (GOLDEN_DIR / stack / path).relative_to(PROJECT_DIR)
    lines = difflib.unified_diff(
        golden.decode().splitlines(keepends=True),
        text.splitlines(keepends=True),
        fromfile=f"{name} (golden)",
        tofile=f"{name} (rendered)",
    )
    return "".join(lines) or f"{name}: the bytes differ (line endings or a final newline)\n"


@pytest.mark.parametrize("stack", GOLDEN_STACKS)
def test_every_rendering_has_a_golden_file_and_no_golden_file_is_stale(stack):
    missing = sorted(rendered(stack).keys() - golden_files(stack).keys())
    stale = sorted(golden_files(stack).keys() - rendered(stack).keys())
    assert (missing, stale) == ([], []), f"missing {missing}, stale {stale}: run `{UPDATE_COMMAND}` and review the diff"


@pytest.mark.parametrize("stack", GOLDEN_STACKS)
def test_each_rendering_equals_its_golden_file(stack):
    golden = golden_files(stack)
    changed = [
        difference(stack, path, golden[path], text)
        for path, text in rendered(stack).items()
        if path in golden and golden[path] != text.encode()
    ]
    if changed:
        pytest.fail(
            "".join(changed) + f"\nIf the change is meant, run `{UPDATE_COMMAND}` and commit the golden files with it."
        )
