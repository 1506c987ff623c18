"""Every file or folder of this project that the README and docs/ quote exists, so moving a test or a script
cannot leave a page pointing at its old place."""

from __future__ import annotations

import re

import pytest

from tests.harness import PROJECT_DIR

PAGES = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
TOP_LEVEL = ("tests", "scripts", "components", "policies", "docs", "bench")
# A project path quoted as code: `tests/unit/x.py`, `scripts/sim/`, `components/scripts/backup.sh`. A quote with a
# placeholder in it (`tests/unit/<component>/`) names a pattern, not a path.
QUOTED_PATH = re.compile(r"`((?:" + "|".join(TOP_LEVEL) + r")/[\w./-]*)(?:::[\w\[\]-]+)?`")


def quoted_paths(page) -> list[str]:
    return sorted(set(QUOTED_PATH.findall(page.read_text(encoding="utf-8"))))


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.name)
def test_every_project_path_a_page_quotes_exists(page):
    missing = [path for path in quoted_paths(page) if not (PROJECT_DIR / path).exists()]
    assert missing == [], f"{page.relative_to(PROJECT_DIR)} quotes paths that are not in the project: {missing}"


def test_the_pages_quote_project_paths():
    """The pattern finds what the pages quote (a pattern that matched nothing would pass every page)."""
    assert "tests/unit/project/test_test_layout.py" in quoted_paths(PROJECT_DIR / "docs" / "testing.md")
