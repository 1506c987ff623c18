#!/usr/bin/env python3
"""The stacks a pull request's preview can run: those with a stack file here that the backend holds. A stack
file whose stack was never created there has no state to preview against (`pulumi preview` fails on it).

    pulumi stack ls --json | python .github/held_stacks.py   a JSON list of stack names, for a job matrix
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]


def stack_files() -> list[str]:
    return sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


def held(listing: list[dict]) -> set[str]:
    """Stack names as `pulumi stack ls --json` gives them: `dev`, or qualified as `org/project/dev`
    (pulumi/pulumi pkg/backend/diy/backend.go, diyBackendReference.String)."""
    return {entry["name"].rpartition("/")[2] for entry in listing}


def main() -> int:
    in_backend = held(json.load(sys.stdin))
    files = stack_files()
    missing = [stack for stack in files if stack not in in_backend]
    if missing:
        print(f"::notice::not in the backend, so not previewed: {', '.join(missing)}", file=sys.stderr)
    print(json.dumps([stack for stack in files if stack in in_backend]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
