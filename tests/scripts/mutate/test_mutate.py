"""`make mutate` (scripts/mutate.py): which mutants it skips as equivalent and which tests each mutant runs."""

from __future__ import annotations

import json
from pathlib import Path

from scripts import mutate
from scripts.mutate import LANES, annotation_spans

MODULE = "components/example.py"
SOURCE = "LIMIT = 3\n\n\ndef f(a: int | None, b: int) -> int | None:\n    return a | b\n"


def inside(spans, position: tuple[int, int]) -> bool:
    return any(begin <= position < end for begin, end in spans)


def test_a_union_in_a_signature_is_an_annotation():
    spans = annotation_spans(SOURCE)
    assert (inside(spans, (4, 15)), inside(spans, (4, 36))) == (True, True)


def test_a_union_in_a_body_is_code():
    assert not inside(annotation_spans(SOURCE), (5, 13))


def mutant_on_line(tmp_path: Path, line: int, contexts: dict[str, list[str]]) -> list[str]:
    """The tests chosen for a mutant of `line`, given the recorded contexts of each line."""
    work, root = tmp_path / "work", tmp_path / "project"
    for base in (work / "pristine", root):
        (base / MODULE).parent.mkdir(parents=True)
        (base / MODULE).write_text(SOURCE)
    lines = SOURCE.splitlines()
    lines[line - 1] += "  # mutated"
    (root / MODULE).write_text("\n".join(lines) + "\n")
    (work / "lines.json").write_text(json.dumps({MODULE: contexts}))
    return mutate.tests_for_mutant(work, root, MODULE)


def test_a_mutant_runs_the_tests_that_ran_its_line(tmp_path):
    contexts = {"5": ["tests/unit/test_a.py::test_one", "tests/unit/test_b.py::test_two"], "1": ["import"]}
    assert mutant_on_line(tmp_path, 5, contexts) == ["tests/unit/test_a.py::test_one", "tests/unit/test_b.py::test_two"]


def test_a_mutant_of_a_line_run_only_at_import_runs_both_lanes(tmp_path):
    assert mutant_on_line(tmp_path, 1, {"1": ["import"]}) == sorted(LANES)


def test_a_mutant_of_a_line_no_test_ran_runs_nothing(tmp_path):
    assert mutant_on_line(tmp_path, 5, {"1": ["import"]}) == []


def test_the_coverage_kept_from_a_run_is_for_the_sources_it_was_recorded_on(tmp_path):
    for part in ("components", "policies", "tests"):
        (tmp_path / part).mkdir()
        (tmp_path / part / "a.py").write_text("A = 1\n")
    before = mutate.sources_fingerprint(tmp_path)
    (tmp_path / "tests" / "a.py").write_text("A = 2\n")
    assert mutate.sources_fingerprint(tmp_path) != before
