#!/usr/bin/env python3
"""The configuration reference (docs/configuration.md) and Pulumi.yaml's config declarations, generated from
the config models' own types, defaults and descriptions.

python scripts/config_reference.py           print the reference
python scripts/config_reference.py --write   replace it in docs/configuration.md (between its markers) and
                                             Pulumi.yaml's config
"""

from __future__ import annotations

import sys
import types
from enum import Enum
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, SecretStr
from pydantic_core import PydanticUndefined

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.config import SiteConfig
from components.config_loader import PROJECT


def type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " \\| ".join(f"`{value}`" for value in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in get_args(annotation) if arg is not type(None)) + " (optional)"
    if origin is tuple:
        return f"list of {type_name(get_args(annotation)[0])}"
    if getattr(annotation, "__metadata__", None):
        return type_name(get_args(annotation)[0])
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " \\| ".join(f"`{member.value}`" for member in annotation)
    if annotation is SecretStr:
        return "secret string"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "object"
    return getattr(annotation, "__name__", str(annotation))


def nested_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def default_text(field) -> str:
    if field.default is PydanticUndefined:
        return "required" if field.default_factory is None else "see below"
    if field.default in (None, ()):
        return "—"
    value = str(field.default).lower() if isinstance(field.default, bool) else field.default
    return f"`{value}`"


def rows(model: type[BaseModel], prefix: str):
    for name, field in model.model_fields.items():
        key = f"{prefix}{field.alias or name}"
        yield f"| `{key}` | {type_name(field.annotation)} | {default_text(field)} | {field.description} |"
        inner = nested_model(field.annotation)
        if inner is not None:
            yield from rows(inner, f"{key}[]." if get_origin(field.annotation) is tuple else f"{key}.")


def reference() -> str:
    header = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    return "\n".join([*header, *rows(SiteConfig, f"{PROJECT}:")]) + "\n"


PROJECT_ROOT = Path(__file__).resolve().parents[1]
REFERENCE_PAGE = PROJECT_ROOT / "docs" / "configuration.md"
START, END = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"


def with_reference(page: str) -> str:
    before, _, rest = page.partition(START)
    _, _, after = rest.partition(END)
    return f"{before}{START}{reference()}{END}{after}"


PROJECT_FILE = PROJECT_ROOT / "Pulumi.yaml"
GENERATED = (
    "# config: generated from components/config by `python scripts/config_reference.py --write`; do not edit it.\n"
)


def project_config() -> dict[str, dict[str, Any]]:
    """Pulumi.yaml's `config:` block: each top-level key with its type, description and default, as
    Pulumi's project schema declares them (pulumi/pulumi sdk/go/common/workspace/project.json, where
    `object` is a type since 3.187). A key whose default is None is left out: a declared key without a
    default is one every stack must set (pkg/workspace/config.go, mergeConfig)."""
    schema = SiteConfig.model_json_schema(by_alias=True)["properties"]
    defaults = SiteConfig().model_dump(mode="json", by_alias=True, exclude_none=True)
    declared = {}
    for name, field in SiteConfig.model_fields.items():
        key = field.alias or name
        if key not in defaults:
            continue
        declaration: dict[str, Any] = {"type": json_type(schema[key]), "description": field.description}
        if declaration["type"] == "array":
            declaration["items"] = {"type": json_type(schema[key]["items"])}
        declared[key] = {**declaration, "default": defaults[key]}
    return declared


def json_type(property_schema: dict[str, Any]) -> str:
    # Pydantic refers to a nested model's schema rather than naming its type.
    return "object" if "$ref" in property_schema else property_schema["type"]


def with_project_config(project_file: str) -> str:
    head = project_file.partition(GENERATED)[0].partition("\nconfig:")[0].rstrip("\n") + "\n"
    body = yaml.safe_dump({"config": project_config()}, sort_keys=False, width=120, allow_unicode=True)
    return f"{head}{GENERATED}{body}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        REFERENCE_PAGE.write_text(with_reference(REFERENCE_PAGE.read_text()))
        PROJECT_FILE.write_text(with_project_config(PROJECT_FILE.read_text()))
    else:
        sys.stdout.write(reference())
