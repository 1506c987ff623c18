"""The tests are filed by what they test and stay small enough to read in one sitting (STYLE.md 11 and 18): no
file under tests/ names a tracker issue, no test module is over 500 lines, no module of the policy pack over 250."""

from __future__ import annotations

import re
from pathlib import Path

from tests.harness import PROJECT_DIR

TESTS_DIR = PROJECT_DIR / "tests"
POLICIES_DIR = PROJECT_DIR / "policies"
TEST_MODULE_MAX_LINES = 500
POLICY_MODULE_MAX_LINES = 250
# A tracker issue named in prose ("issue 12", "Issue 19:", "issues 11 and 12") or by number ("(#20)"). An upstream
# project's issue keeps its project's name in front ("moby#27541") and is a citation, not a tracker reference.
TRACKER_ISSUE = re.compile(r"\bissues?\s*(?:no\.?\s*|#\s*)?\d+|(?<![\w/&#$])#\d+\b", re.IGNORECASE)
# This module spells tracker references out to test its pattern.
SELF = Path(__file__).resolve()


def text_files(root: Path) -> list[Path]:
    """Every file under `root` that reads as UTF-8 text, bytecode caches aside."""
    files = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        try:
            path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        files.append(path)
    return files


def tracker_references(paths: list[Path]) -> list[str]:
    return [
        f"{path.relative_to(PROJECT_DIR)}:{number}: {line.strip()}"
        for path in paths
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if TRACKER_ISSUE.search(line)
    ]


def longer_than(paths: list[Path], limit: int) -> list[str]:
    counted = ((path, len(path.read_text(encoding="utf-8").splitlines())) for path in paths)
    return [f"{path.relative_to(PROJECT_DIR)}: {lines} lines" for path, lines in counted if lines > limit]


def test_the_tracker_pattern_tells_a_tracker_issue_from_an_upstream_citation():
    named = ["Issue 12: bad input", "the items of issue 11", "(issue 20)", "issues 11 and 12", "fixed in #20"]
    cited = ["moby#27541", "a certificate it issued", "issue a certificate", "printf '#%d' 1", "$#1", "#!/bin/sh"]
    assert [line for line in named if not TRACKER_ISSUE.search(line)] == []
    assert [line for line in cited if TRACKER_ISSUE.search(line)] == []


def test_no_file_under_tests_names_a_tracker_issue():
    found = tracker_references([path for path in text_files(TESTS_DIR) if path.resolve() != SELF])
    assert found == [], "say what is tested, not which issue asked for it:\n" + "\n".join(found)


def test_no_test_module_is_over_500_lines():
    too_long = longer_than(sorted(TESTS_DIR.rglob("test_*.py")), TEST_MODULE_MAX_LINES)
    assert too_long == [], "split these along what they test"


def test_no_module_of_the_policy_pack_is_over_250_lines():
    assert longer_than(sorted(POLICIES_DIR.rglob("*.py")), POLICY_MODULE_MAX_LINES) == []
