"""The project's shipped stack files, read as the program and the engine see them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.config import SiteConfig
from components.config_loader import as_pulumi_value, load_stack_file
from components.config_loader import project_defaults as declared_defaults

PROJECT_DIR = Path(__file__).resolve().parents[2]
PROJECT = "codenvy-infra"
STACKS = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


def stack_file_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}
    return dict(document.get("config") or {})


def project_defaults() -> dict[str, Any]:
    """The config the engine adds to every stack of this project (config_loader.project_defaults)."""
    return declared_defaults(PROJECT_DIR / "Pulumi.yaml")


def site_config(stack: str) -> SiteConfig:
    """The validated config of a shipped stack file, as the program sees it."""
    return load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def pulumi_values(document: dict[str, Any]) -> dict[str, str]:
    """Stack-file values (`{"backup": {...}}`) as Pulumi hands them to the program: namespaced keys, objects
    and lists as JSON, scalars as text."""
    return {f"{PROJECT}:{key}": as_pulumi_value(value) for key, value in document.items()}


def full_stack_name(stack: str) -> str:
    return f"organization/{PROJECT}/{stack}"


def shipped_stack_named(full_name: str | None) -> str | None:
    """The shipped stack file whose stack has `full_name`, if any."""
    return next((stack for stack in STACKS if full_stack_name(stack) == full_name), None)
