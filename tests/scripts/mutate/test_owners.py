"""Which tests own a module for `make mutate`: a mutant of a line run only at import must fail them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import mutate
from scripts.mutate import LANES, owners


def make(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        if path.endswith(".py"):
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("")
        else:
            target.mkdir(parents=True, exist_ok=True)


@pytest.fixture
def owners_map(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        mutate,
        "OWNERS",
        {"components/backups.py": ("tests/unit/test_backup_scripts.py", "tests/unit/test_hardening.py")},
    )


def test_a_module_is_owned_by_its_listed_test_files_that_exist(tmp_path, owners_map):
    make(tmp_path, "tests/unit/test_backup_scripts.py")
    assert owners("components/backups.py", tmp_path) == ["tests/unit/test_backup_scripts.py"]


def test_a_module_is_owned_by_its_folder_under_the_layout_by_component(tmp_path, owners_map):
    make(tmp_path, "tests/unit/backups")
    assert owners("components/backups.py", tmp_path) == ["tests/unit/backups"]


def test_a_package_file_is_owned_by_the_package_folder(tmp_path):
    make(tmp_path, "tests/unit/config", "tests/unit/site")
    assert owners("components/config/site.py", tmp_path) == ["tests/unit/config"]


def test_a_module_whose_owners_were_all_moved_away_has_none(tmp_path, owners_map):
    make(tmp_path, "tests/unit/test_components.py")
    assert owners("components/backups.py", tmp_path) == []


def import_only_mutant(tmp_path: Path, contexts: dict[str, list[str]]) -> list[str]:
    """The tests chosen for a mutant of line 1 of components/backups.py, a line run only at import."""
    work, root = tmp_path / "work", tmp_path / "project"
    for base, first in ((work / "pristine", "LIMIT = 3"), (root, "LIMIT = 4")):
        make(base, "components/backups.py")
        (base / "components/backups.py").write_text(f"{first}\n\n\ndef f():\n    return LIMIT\n")
    (work / "lines.json").write_text(json.dumps({"components/backups.py": contexts}))
    return mutate.tests_for_mutant(work, root, "components/backups.py")


def test_a_line_run_at_import_runs_the_tests_that_ran_the_module(tmp_path, owners_map):
    contexts = {"1": ["import"], "5": ["tests/unit/test_a.py::test_f"]}
    assert import_only_mutant(tmp_path, contexts) == ["tests/unit/test_a.py::test_f"]


def test_a_line_run_at_import_in_a_module_no_test_ran_runs_both_lanes(tmp_path, owners_map):
    assert import_only_mutant(tmp_path, {"1": ["import"]}) == sorted(LANES)


def test_a_policy_module_is_owned_by_the_policy_lane(tmp_path):
    make(tmp_path, "tests/policies")
    assert owners("policies/codenvy_policies/mounts.py", tmp_path) == ["tests/policies"]


def test_a_line_no_test_ran_in_process_runs_the_modules_owners(tmp_path, owners_map):
    # A script the tests run as a command: coverage does not follow it into that process.
    make(tmp_path / "project", "tests/unit/test_backup_scripts.py")
    assert import_only_mutant(tmp_path, {"5": ["tests/unit/test_a.py::test_f"]}) == [
        "tests/unit/test_backup_scripts.py"
    ]
