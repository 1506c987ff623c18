"""`make validate` (scripts/validate.py): a stack file and its gates checked without the Pulumi CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import PROJECT_DIR, STACKS, full_stack_name

# Three mistakes in one file, each under its own key.
BROKEN = """
config:
  codenvy-infra:environment: prod
  codenvy-infra:version: 5.x
  codenvy-infra:master:
    ramGb: 0
  codenvy-infra:network:
    mode: mesh
"""
# A production stack whose secrets were set with `pulumi config set --secret`.
ENCRYPTED_SECRETS = """
config:
  codenvy-infra:environment: prod
  codenvy-infra:adminPassword:
    secure: v1:AAAABBBBCCCC:DDDDEEEEFFFF
"""
PLAIN_SECRETS = """
config:
  codenvy-infra:environment: prod
  codenvy-infra:adminPassword: hunter22
"""


def validate(stack: str, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_DIR / "scripts" / "validate.py"), stack, *arguments],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def stack_file(tmp_path: Path, text: str) -> str:
    path = tmp_path / "Pulumi.check.yaml"
    path.write_text(text)
    return str(path)


def errors(result: subprocess.CompletedProcess) -> list[str]:
    return [line.removeprefix("error: ") for line in result.stdout.splitlines() if line.startswith("error: ")]


@pytest.mark.parametrize("stack", STACKS)
def test_every_shipped_stack_file_passes(stack):
    result = validate(stack)
    assert (result.returncode, errors(result)) == (0, []), result.stdout + result.stderr


def test_a_broken_stack_file_is_refused(tmp_path):
    result = validate("check", "--file", stack_file(tmp_path, BROKEN))
    assert result.returncode == 1, result.stdout + result.stderr


@pytest.mark.parametrize("key", ["codenvy-infra:version", "codenvy-infra:master.ramGb", "codenvy-infra:network.mode"])
def test_each_problem_is_named_by_its_key(tmp_path, key):
    result = validate("check", "--file", stack_file(tmp_path, BROKEN))
    assert [line for line in errors(result) if line.startswith(f"{key}: ")], result.stdout


def test_an_encrypted_secret_counts_as_set_in_secret(tmp_path):
    result = validate("check", "--file", stack_file(tmp_path, ENCRYPTED_SECRETS))
    assert (result.returncode, errors(result)) == (0, []), result.stdout


def test_a_plain_secret_outside_dev_is_refused(tmp_path):
    result = validate("check", "--file", stack_file(tmp_path, PLAIN_SECRETS))
    assert [line for line in errors(result) if line.startswith("codenvy-infra:adminPassword: ")], result.stdout


def test_a_standby_without_its_primarys_outputs_says_its_gates_were_skipped():
    result = validate("dr")
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped: ")]
    assert any("codenvy-infra:dr.primaryStack" in line for line in skipped), result.stdout


def test_a_standby_is_held_to_its_primarys_saved_outputs(tmp_path):
    """The program's parity gate, fed the outputs `pulumi stack output --json` saved: an older primary."""
    outputs = {
        "siteName": "codenvy",
        "version": "5.21.0",
        "managerAddress": "127.0.0.1",
        "registry": "127.0.0.1:5000",
        "nodes": [{"ramGb": 8, "cpus": 2}],
    }
    saved = tmp_path / "dev.json"
    saved.write_text(json.dumps(outputs))
    result = validate("dr", "--outputs", f"{full_stack_name('dev')}={saved}")
    assert [line for line in errors(result) if line.startswith("codenvy-infra:dr.primaryStack: ")], result.stdout
    assert "primary 5.21.0" in result.stdout


STREAMING_PRIMARY = """
config:
  codenvy-infra:master:
    address: 10.9.0.1
  codenvy-infra:replication:
    standbyAddresses: [10.9.0.2]
"""


def test_a_primary_with_standbys_says_its_fence_was_not_asked(tmp_path):
    """Whether a standby was promoted past it is asked of its master, which a check without the engine does not
    reach: named as skipped, never passed."""
    result = validate("check", "--file", stack_file(tmp_path, STREAMING_PRIMARY))
    skipped = [line for line in result.stdout.splitlines() if line.startswith("skipped: ")]
    assert any("codenvy-infra:role" in line for line in skipped), result.stdout
