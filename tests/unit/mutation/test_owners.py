"""Which tests own a module for `make mutate`: a mutant of a line run only at import must fail them."""

from __future__ import annotations

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


def test_a_module_whose_owners_were_all_moved_away_runs_both_lanes(tmp_path, owners_map):
    make(tmp_path, "tests/unit/test_components.py")
    assert owners("components/backups.py", tmp_path) == list(LANES)


def test_a_policy_module_is_owned_by_the_policy_lane(tmp_path):
    make(tmp_path, "tests/policies")
    assert owners("policies/codenvy_policies/mounts.py", tmp_path) == ["tests/policies"]
