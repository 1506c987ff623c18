"""A stack file read without the Pulumi CLI (`make validate`, `make status`): its encrypted values stay unread."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from components.config_loader import ENCRYPTED, stack_file_values

ADMIN_KEY = "codenvy-infra:adminPassword"
DATABASE = "codenvy-infra:database"


def read(tmp_path: Path, config: dict) -> tuple[dict[str, str], set[str]]:
    stack, project = tmp_path / "Pulumi.x.yaml", tmp_path / "Pulumi.yaml"
    stack.write_text(yaml.safe_dump({"config": config}))
    project.write_text(yaml.safe_dump({"name": "codenvy-infra", "runtime": "python"}))
    return stack_file_values(stack, project)


def test_an_encrypted_value_is_a_secret_key_whose_ciphertext_is_not_read(tmp_path):
    values, secret_keys = read(tmp_path, {ADMIN_KEY: {"secure": "v1:Zm9v"}})
    assert (values[ADMIN_KEY], secret_keys) == (ENCRYPTED, {ADMIN_KEY})


def test_an_encrypted_value_inside_an_object_is_not_read(tmp_path):
    values, _ = read(tmp_path, {DATABASE: {"password": {"secure": "v1:Zm9v"}, "port": 5432}})
    assert json.loads(values[DATABASE]) == {"password": ENCRYPTED, "port": 5432}


def test_an_object_with_a_key_besides_secure_is_plain_config(tmp_path):
    values, secret_keys = read(tmp_path, {DATABASE: {"secure": "yes", "port": 5432}})
    assert (json.loads(values[DATABASE]), secret_keys) == ({"secure": "yes", "port": 5432}, set())
