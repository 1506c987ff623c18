"""The whole program under Pulumi mocks, for every shipped stack file and for variations of them: which inputs and
outputs are secrets, and how the secrets travel."""

from __future__ import annotations

import functools

import pytest

from tests.harness import Evaluation, evaluate, site_config
from tests.unit.program.shipped import commands, shipped

# Inputs that carry a secret (the database password, the registry's key and htpasswd, HAProxy's key).
SECRET_INPUTS = [("master-postgres", "envs"), ("master-server", "envs"), ("registry-container", "uploads")]


SECRET_INPUTS += [("master-haproxy", "uploads")]


@pytest.mark.parametrize(("resource", "key"), SECRET_INPUTS)
def test_inputs_holding_a_secret_are_secret(stack, resource, key):
    name, evaluation = stack
    assert key in evaluation.named(f"{site_config(name).site_name}-{resource}").secret_inputs


def test_the_registry_password_is_exported_as_a_secret(stack):
    _, evaluation = stack
    assert "registryPassword" in evaluation.secret_exports


def test_the_join_token_reaches_each_join_as_a_secret_stdin():
    joins = [c for c in commands(shipped("sim")) if c.name.endswith("-swarm-join")]
    assert joins and all("stdin" in join.secret_inputs for join in joins)


def test_the_join_script_holds_no_secret():
    joins = [c for c in commands(shipped("sim")) if c.name.endswith("-swarm-join")]
    assert joins and not [join.name for join in joins if "create" in join.secret_inputs]


@functools.cache
def with_secret_ssh_key() -> Evaluation:
    key = {"codenvy-infra:sshPrivateKey": "-----BEGIN KEY-----"}
    return evaluate("sim", key, secret_keys=tuple(key))


def test_the_ssh_private_key_from_secret_config_reaches_every_connection():
    keys = {command.inputs["connection"]["privateKey"] for command in commands(with_secret_ssh_key())}
    assert keys == {"-----BEGIN KEY-----"}


def test_every_connection_holding_the_ssh_key_is_secret():
    holding = [c for c in commands(with_secret_ssh_key()) if c.inputs["connection"].get("privateKey")]
    assert holding and all("connection" in c.secret_inputs for c in holding)
