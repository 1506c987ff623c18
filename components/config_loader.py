"""The one seam where stack configuration is read and validated, before any resource exists."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from pydantic import BaseModel, SecretStr, ValidationError

from components.config import PROJECT, ConfigError, ConfigKeyError, KeyPath, SiteConfig, config_key
from components.config.fields import TooDeeplyNested
from components.deploy_gates import Deployment, establish
from components.fencing import ask_master
from components.json_text import nesting

__all__ = [
    "PROJECT",
    "ConfigError",
    "as_pulumi_value",
    "foreign_keys",
    "load_site_config",
    "load_stack_file",
    "plain_text_secrets",
    "project_defaults",
    "read_stack_config",
    "stack_file_values",
]

# Namespaces a stack file may hold besides the project's own: the engine's (pulumi:tags, …) and those of
# the providers this program uses, which read their own keys (docker:host, …).
OTHER_READERS = frozenset({"pulumi", "docker", "command", "tls", "random"})
# The only environment where a secret key may be given in plain text (a developer's own machine).
PLAIN_SECRETS_ALLOWED = "dev"


def load_site_config(raw: Mapping[str, str], secret_keys: Collection[str] | None = None) -> SiteConfig:
    """Validate `{"codenvy-infra:key": "value"}` (values as Pulumi hands them over) into a SiteConfig.
    Given `secret_keys` (the keys Pulumi holds encrypted), a secret key in plain text is a problem too."""
    values: dict[str, Any] = {}
    for full_key, text in sorted(raw.items()):
        namespace, _, key = full_key.partition(":")
        if namespace == PROJECT:
            values[key] = _decode(text)
    problems = [] if secret_keys is None else plain_text_secrets(values, secret_keys)
    try:
        site = SiteConfig.model_validate(values)
    except ValidationError as error:
        raise ConfigError([*problems, *_problems(error)]) from None
    if problems:
        raise ConfigError(problems)
    return site


def secret_fields() -> list[str]:
    """The stack-file keys the models hold as secrets (passwords, keys)."""
    return sorted(field.alias or name for name, field in SiteConfig.model_fields.items() if _holds_secret(field))


def plain_text_secrets(values: Mapping[str, Any], secret_keys: Collection[str]) -> list[tuple[KeyPath, str]]:
    """Secret fields set in plain text, where the environment is not dev: `pulumi config set` without
    --secret writes the value into the stack file, readable by anyone with the repository."""
    environment = values.get("environment") or SiteConfig.model_fields["environment"].default
    if environment == PLAIN_SECRETS_ALLOWED:
        return []
    return [
        (
            (key,),
            f"a secret in plain text outside environment {PLAIN_SECRETS_ALLOWED}: set it with "
            f"`pulumi config set --secret {config_key(key)}`",
        )
        for key in secret_fields()
        if values.get(key) is not None and f"{PROJECT}:{key}" not in secret_keys
    ]


def foreign_keys(keys: Collection[str]) -> list[str]:
    """Keys no one reads: neither this project's nor the engine's or a provider's (a `codenvy:version`
    typed for `codenvy-infra:version`)."""
    return sorted(key for key in keys if key.partition(":")[0] not in {PROJECT, *OTHER_READERS})


def as_pulumi_value(value: Any) -> str:
    """A stack file's value as Pulumi hands it to the program: objects and lists as JSON, scalars as text."""
    if isinstance(value, dict | list):
        return json.dumps(value)
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def load_stack_file(path: Path) -> SiteConfig:
    """A stack file (Pulumi.<stack>.yaml) validated as the program sees it, for tools that describe a site."""
    document = yaml.safe_load(path.read_text()) or {}
    return load_site_config({key: as_pulumi_value(value) for key, value in (document.get("config") or {}).items()})


# A value `pulumi config set --secret` wrote: ciphertext, which only the CLI decrypts. A tool reading the stack
# file without it puts this in its place: the key counts as set, and as held secret.
ENCRYPTED = "(encrypted)"


def stack_file_values(stack_file: Path, project_file: Path) -> tuple[dict[str, str], set[str]]:
    """A stack file's config as the CLI hands it to the program, read without the CLI: values as text by key,
    the project's declared defaults under them, and the keys held encrypted (with ENCRYPTED for values)."""
    document = yaml.safe_load(stack_file.read_text()) or {}
    config = {**project_defaults(project_file), **(document.get("config") or {})}
    secret_keys = {key for key, value in config.items() if _is_encrypted(value)}
    return {key: as_pulumi_value(_without_ciphertext(value)) for key, value in config.items()}, secret_keys


def _is_encrypted(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _without_ciphertext(value: Any) -> Any:
    if _is_encrypted(value):
        return ENCRYPTED
    if isinstance(value, dict):
        return {key: _without_ciphertext(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_ciphertext(item) for item in value]
    return value


def project_defaults(project_file: Path) -> dict[str, Any]:
    """What the engine adds to every stack's config: each key Pulumi.yaml declares, with its default, where
    the stack does not set it (pulumi/pulumi pkg/workspace/config.go, mergeConfig). Merge a stack's own
    keys over these."""
    declared = (yaml.safe_load(project_file.read_text()) or {}).get("config") or {}
    return {f"{PROJECT}:{key}": item["default"] for key, item in declared.items() if "default" in item}


def read_stack_config() -> Deployment:
    """The running stack's configuration, validated and past its gates (version, DR parity, no promoted
    standby); raises ConfigError naming every bad key before any resource exists."""
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    for key in foreign_keys(keys):
        pulumi.log.warn(
            f"{key} is not read by this program: its keys are {PROJECT}:{key.partition(':')[2]} and the like"
        )
    # The language host lists the keys held encrypted in PULUMI_CONFIG_SECRET_KEYS and hands them to
    # set_all_config (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec); is_config_secret asks that set.
    secret_keys = {key for key in keys if runtime_config.is_config_secret(key)}
    site = load_site_config({key: runtime_config.get_config(key) for key in keys}, secret_keys)
    return establish(site, superseded=ask_master)


def _decode(text: Any) -> Any:
    """Pulumi passes structured values (objects, lists) as JSON text and scalars as plain text: only the
    former are decoded, so a password "12345678" or '"pw"' and a site name "123" stay the strings they are
    (the models read "8", "true" or "null" as numbers, booleans or null where a key takes one)."""
    if not isinstance(text, str) or not text.lstrip().startswith(("{", "[")):
        return _scalar(text)
    if nesting(text) > MAX_NESTING:
        return TooDeeplyNested(MAX_NESTING)
    try:
        return json.loads(text)
    except ValueError:
        return text


# The deepest key, limits.users[].resources[], is 4 levels down; deeper text is measured, never decoded.
MAX_NESTING = 32


def _scalar(text: Any) -> Any:
    # A YAML null at the top level reaches the program as the text "null".
    return None if text == "null" else text


def _holds_secret(field: Any) -> bool:
    return SecretStr in (field.annotation, *getattr(field.annotation, "__args__", ()))


def _problems(error: ValidationError) -> list[tuple[KeyPath, str]]:
    """Each validation error as (key in the stack file, message); a validator's ConfigKeyError adds the key
    it is about to where pydantic found it."""
    problems = []
    for problem in error.errors():
        if _echoes_a_child(problem, error.errors()):
            continue
        location: KeyPath = tuple(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        raised = (problem.get("ctx") or {}).get("error")
        if isinstance(raised, ConfigKeyError):
            location, message = (*location, *raised.key), raised.message
        if problem["type"] == "extra_forbidden":
            message = f"unknown key; allowed here: {', '.join(_allowed_keys(SiteConfig, location[:-1]))}"
        problems.append((location, message))
    return problems


def _echoes_a_child(problem, problems) -> bool:
    """A too-short list whose item already failed: the item's error says it all."""
    location = tuple(problem["loc"])
    return problem["type"] == "too_short" and any(
        tuple(other["loc"])[: len(location)] == location and len(other["loc"]) > len(location) for other in problems
    )


def _allowed_keys(model: type[BaseModel], location: KeyPath) -> list[str]:
    """The camelCase keys a stack file may use at `location` inside `model`."""
    for part in location:
        if isinstance(part, int):
            continue
        field = next(f for name, f in model.model_fields.items() if part in (name, f.alias))
        model = next(_models_in(field.annotation))
    return sorted(field.alias or name for name, field in model.model_fields.items())


def _models_in(annotation: Any):
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for argument in getattr(annotation, "__args__", ()):
        yield from _models_in(argument)
