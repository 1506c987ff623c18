"""The README stays true: its configuration reference is the one the models generate."""

from __future__ import annotations

import runpy

from tests.harness import PROJECT_DIR


def test_readme_configuration_reference_matches_the_models():
    generator = runpy.run_path(str(PROJECT_DIR / "scripts" / "config_reference.py"))
    readme = (PROJECT_DIR / "README.md").read_text()
    assert generator["reference"]() in readme
    assert generator["with_reference"](readme) == readme, "regenerate: python scripts/config_reference.py --write"


def test_readme_names_every_shipped_stack():
    readme = (PROJECT_DIR / "README.md").read_text()
    for stack_file in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")):
        assert f"`{stack_file.name}`" in readme
