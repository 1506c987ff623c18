"""Pulumi.yaml's config declarations: generated from the config models, and harmless to every stack."""

from __future__ import annotations

import runpy

import pytest
import yaml

from components.config import SiteConfig
from components.config_loader import as_pulumi_value, load_site_config
from tests.harness import PROJECT_DIR, STACKS, project_defaults, stack_file_config

# Pulumi's project schema (pulumi/pulumi sdk/go/common/workspace/project.json, simpleConfigType).
PULUMI_CONFIG_TYPES = {"string", "integer", "boolean", "array", "object"}


def declared() -> dict:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["config"]


def test_the_declarations_are_the_generated_ones():
    generator = runpy.run_path(str(PROJECT_DIR / "scripts" / "config_reference.py"))
    assert declared() == generator["project_config"](), "run `python scripts/config_reference.py --write`"


def test_every_declaration_has_a_type_pulumi_knows_and_a_default():
    # A declared key without a default must be set by every stack (pulumi/pulumi pkg/workspace/config.go).
    assert [
        key for key, item in declared().items() if item["type"] not in PULUMI_CONFIG_TYPES or "default" not in item
    ] == []


def test_keys_without_a_default_are_left_undeclared():
    assert {"dr", "adminPassword", "license", "sshPrivateKey"}.isdisjoint(declared())


@pytest.mark.parametrize("stack", STACKS)
def test_defaults_applied_as_the_engine_does_leave_each_stack_unchanged(stack):
    """The engine adds each declared key a stack does not set, with its default (mergeConfig); the program
    must then see the site it saw without them."""
    config = stack_file_config(stack)
    assert as_the_program_sees({**project_defaults(), **config}) == as_the_program_sees(config)


def test_a_declared_default_reaches_the_program_as_the_model_default():
    assert as_the_program_sees(project_defaults()) == as_the_program_sees({})


def as_the_program_sees(config: dict) -> SiteConfig:
    return load_site_config({key: as_pulumi_value(value) for key, value in config.items()})
