#!/usr/bin/env python3
"""`make golden`: render every shipped stack's firewall rulesets, daemon.json files, haproxy.cfg and server files
through the program under mocks, and write them as the golden files tests/unit/golden/test_golden.py compares
against. What changed is then a diff to review (`git diff tests/unit/golden`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.unit.golden.renderings import GOLDEN_DIR, GOLDEN_STACKS, renderings, stored


def update(stack: str) -> list[str]:
    """Write `stack`'s renderings, remove golden files it no longer renders; the paths that changed."""
    directory = GOLDEN_DIR / stack
    files = renderings(stack)
    changed = []
    for name, path in stored(stack).items():
        if name not in files:
            path.unlink()
            changed.append(f"removed {path}")
    for name, text in files.items():
        path = directory / name
        if not path.exists() or path.read_bytes() != text.encode():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode())
            changed.append(f"wrote {path}")
    return changed


def main() -> int:
    changed = [line for stack in GOLDEN_STACKS for line in update(stack)]
    print("\n".join(changed) if changed else "the golden files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
