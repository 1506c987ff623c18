"""`make mutate`'s sample: every Nth mutant of the whole run, the same mutants on every run."""

from __future__ import annotations

from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import MutationSpec, WorkItem

from scripts.mutate import expand, sample


def session(path: Path, module: str, count: int) -> Path:
    """A cosmic-ray session holding `count` mutants of `module`, one a line, added in reverse order."""
    with use_db(str(path), WorkDB.Mode.create) as db:
        for line in reversed(range(1, count + 1)):
            spec = MutationSpec(module, "core/NumberReplacer", 0, (line, 0), (line, 1))
            db.add_work_item(WorkItem(job_id=f"{module}:{line}", mutations=[spec]))
    return path


def sampled_lines(path: Path) -> list[int]:
    with use_db(str(path), WorkDB.Mode.open) as db:
        return sorted(item.mutations[0].start_pos[0] for item in db.pending_work_items)


def test_the_sample_counts_on_across_modules(tmp_path):
    first = session(tmp_path / "a.sqlite", "components/a.py", 5)
    second = session(tmp_path / "b.sqlite", "components/b.py", 5)
    after_first = sample(first, 3)
    sample(second, 3, after_first)
    assert (sampled_lines(first), sampled_lines(second)) == ([1, 4], [2, 5])


def test_the_sample_keeps_every_nth_mutant_in_line_order(tmp_path):
    one = session(tmp_path / "a.sqlite", "components/a.py", 7)
    sample(one, 3)
    assert sampled_lines(one) == [1, 4, 7]


def test_a_folder_is_mutated_file_by_file_in_order(tmp_path):
    for path in ("components/b.py", "components/config/a.py", "components/a.py", "components/__pycache__/a.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert expand(["components/b.py", "components"], tmp_path) == [
        "components/b.py",
        "components/a.py",
        "components/config/a.py",
    ]
