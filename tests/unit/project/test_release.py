"""The program's release: declared once, listed in the changelog, exported by every stack."""

from __future__ import annotations

import re

from tests.harness import PROJECT_DIR, evaluate


def latest_release() -> str:
    """The newest version CHANGELOG.md records as released (`## [X.Y.Z] - date`)."""
    return re.findall(
        r"^## \[(\d+\.\d+\.\d+)\] - \d{4}-\d{2}-\d{2}$", (PROJECT_DIR / "CHANGELOG.md").read_text(), re.M
    )[0]


def test_every_stack_exports_the_latest_release_in_the_changelog():
    assert evaluate("dev").exports["programVersion"] == latest_release()


def test_the_changelog_keeps_an_unreleased_section_first():
    assert re.findall(r"^## \[(.+?)\]", (PROJECT_DIR / "CHANGELOG.md").read_text(), re.M)[0] == "Unreleased"
