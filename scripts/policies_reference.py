#!/usr/bin/env python3
"""The policy table of docs/policies.md, generated from the pack's own rules: each one's name, enforcement
level, family (its module in policies/codenvy_policies/) and description.

python scripts/policies_reference.py           print the table
python scripts/policies_reference.py --write   replace it in docs/policies.md (between its markers)
"""

from __future__ import annotations

import sys
from pathlib import Path

# Where `pulumi policy` finds the pack too: it runs policies/ with that directory on the path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "policies"))

from codenvy_policies import FAMILIES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
POLICIES_PAGE = PROJECT_ROOT / "docs" / "policies.md"
START, END = "<!-- policies-table:start -->\n", "<!-- policies-table:end -->"


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def table() -> str:
    header = ["| policy | level | family | what it requires |", "| --- | --- | --- | --- |"]
    rows = [
        f"| `{policy.name}` | {policy.enforcement_level.value} | {family} | {cell(policy.description)} |"
        for family, policies in FAMILIES.items()
        for policy in policies
    ]
    return "\n".join([*header, *rows]) + "\n"


def with_table(page: str) -> str:
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}{table()}{END}{after}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        POLICIES_PAGE.write_text(with_table(POLICIES_PAGE.read_text()))
    else:
        sys.stdout.write(table())
