"""`make mutate`'s sample: about one mutant in N, the same mutants on every run."""

from __future__ import annotations

from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import MutationSpec, WorkItem

from scripts.mutate import expand, sample

MODULE = "components/a.py"
LINES = [f"VALUE_{n} = {n}" for n in range(200)]


def sampled(tmp_path: Path, lines: list[str], every: int) -> set[str]:
    """The lines (by text) whose mutant a sample of `every` keeps, one mutant on each line of MODULE."""
    (tmp_path / MODULE).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / MODULE).write_text("\n".join(lines) + "\n")
    session = tmp_path / "session.sqlite"
    session.unlink(missing_ok=True)
    with use_db(str(session), WorkDB.Mode.create) as db:
        for number, text in enumerate(lines, 1):
            if "=" in text:
                spec = MutationSpec(MODULE, "core/NumberReplacer", 0, (number, 10), (number, 11))
                db.add_work_item(WorkItem(job_id=str(number), mutations=[spec]))
    sample(session, every, tmp_path)
    with use_db(str(session), WorkDB.Mode.open) as db:
        return {lines[item.mutations[0].start_pos[0] - 1] for item in db.pending_work_items}


def test_the_sample_keeps_about_one_mutant_in_n(tmp_path):
    assert 8 <= len(sampled(tmp_path, LINES, 10)) <= 35


def test_code_added_above_keeps_the_same_sample(tmp_path):
    before = sampled(tmp_path, LINES, 10)
    assert sampled(tmp_path, ["LIMIT = 3", "", *LINES], 10) - {"LIMIT = 3"} == before


def test_a_line_marked_equivalent_stays_in_the_sample(tmp_path):
    before = sampled(tmp_path, LINES, 10)
    kept = sorted(before)[0]
    marked = [f"{line}  # pragma: no mutate (why)" if line == kept else line for line in LINES]
    assert f"{kept}  # pragma: no mutate (why)" in sampled(tmp_path, marked, 10)


def test_a_folder_is_mutated_file_by_file_in_order(tmp_path):
    for path in ("components/b.py", "components/config/a.py", "components/a.py", "components/__pycache__/a.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert expand(["components/b.py", "components"], tmp_path) == [
        "components/b.py",
        "components/a.py",
        "components/config/a.py",
    ]
