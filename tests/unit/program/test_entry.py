"""The program's entry run as the language host runs it: what a user sees when a stack file is wrong."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from components.config_loader import as_pulumi_value
from tests.harness import PROJECT_DIR, project_defaults

# A production-looking stack file with three mistakes: a version that is not one, a password in plain
# text, and a key typed under the wrong namespace.
BAD_STACK = """
config:
  codenvy-infra:environment: prod
  codenvy-infra:version: 5.x
  codenvy-infra:adminPassword: hunter22
  codenvy-infra:master:
    ramGb: 0
  codenvy:hostname: codenvy.example.com
"""
# A standby whose primary was never deployed: its config is valid, the DR gate refuses it.
UNDEPLOYED_PRIMARY = """
config:
  codenvy-infra:role: standby
  codenvy-infra:dr:
    primaryStack: organization/codenvy-infra/prod
"""


def run_program(stack_file: str, secret_keys: list[str] | None = None) -> subprocess.CompletedProcess:
    """__main__.py under tests.harness.language_host, with the stack file's config as the CLI passes it (the
    project's declared defaults under the stack's own keys)."""
    config = {**project_defaults(), **yaml.safe_load(stack_file)["config"]}
    env = {
        **os.environ,
        "PULUMI_CONFIG": json.dumps({key: as_pulumi_value(value) for key, value in config.items()}),
        "PULUMI_CONFIG_SECRET_KEYS": json.dumps(secret_keys or []),
    }
    return subprocess.run(
        [sys.executable, "-m", "tests.harness.language_host", str(PROJECT_DIR / "__main__.py"), "bad"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def bad_stack() -> subprocess.CompletedProcess:
    return run_program(BAD_STACK)


def test_a_bad_stack_file_fails_the_run(bad_stack):
    assert bad_stack.returncode == 1, bad_stack.stderr


def test_config_errors_come_without_a_traceback(bad_stack):
    assert "Traceback" not in bad_stack.stderr + bad_stack.stdout, bad_stack.stderr


@pytest.mark.parametrize("key", ["codenvy-infra:version", "codenvy-infra:adminPassword", "codenvy-infra:master.ramGb"])
def test_each_problem_is_on_its_own_line_naming_its_key(bad_stack, key):
    assert [line for line in bad_stack.stderr.splitlines() if line.strip().startswith(f"{key}: ")], bad_stack.stderr


def test_the_plain_password_is_refused_naming_the_secret_command(bad_stack):
    (line,) = [line for line in bad_stack.stderr.splitlines() if "codenvy-infra:adminPassword:" in line]
    assert "pulumi config set --secret codenvy-infra:adminPassword" in line


def test_a_key_in_another_namespace_is_warned_about_by_name(bad_stack):
    warnings = [line for line in bad_stack.stderr.splitlines() if line.startswith("warning: ")]
    assert any("codenvy:hostname" in line for line in warnings), bad_stack.stderr


def test_the_password_never_reaches_the_output(bad_stack):
    assert "hunter22" not in bad_stack.stderr + bad_stack.stdout


def test_a_gate_refusal_comes_without_a_traceback():
    result = run_program(UNDEPLOYED_PRIMARY)
    assert (result.returncode, "Traceback" in result.stderr) == (1, False), result.stderr
    assert "error: codenvy-infra:dr.primaryStack: " in result.stderr, result.stderr
