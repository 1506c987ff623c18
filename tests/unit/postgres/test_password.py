"""The server's database role gets the stack's password also where the data directory outlived the stack that
made it: the official image applies POSTGRES_PASSWORD only to an empty data directory (docker-library/postgres
docker-entrypoint.sh), so `make destroy` then `make up`, which keep the volumes, would leave the old one."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from tests.harness import container_env, evaluate, full_stack_name, script_of
from tests.harness.dr_evaluations import following_standby

DEV = "codenvy-master"
# A docker whose PostgreSQL is ready, answers the recovery and comment queries from the environment, and keeps
# every other statement psql gets on its input; every argument list goes to $CALLS.
FAKE_DOCKER = r"""#!/usr/bin/env bash
printf '%s ' "$@" >> "$CALLS"
echo >> "$CALLS"
case " $* " in *" pg_isready "*) exit 0 ;; esac
input=$(cat)
case "$input" in
  *pg_is_in_recovery*) echo "$IN_RECOVERY" ;;
  *shobj_description*) echo "$COMMENT" ;;
  *) printf '%s\n' "$input" >> "$SENT" ;;
esac
"""
PASSWORD = "n3w-database-password"  # noqa: S105 - a test value


def password_command(evaluation=None):
    return (evaluation or evaluate("dev")).named(f"{DEV}-database-password")


def run_on_host(tmp_path: Path, in_recovery: str = "f", comment: str = "") -> tuple[str, str, str]:
    """(stdout, what psql was sent, every docker argument list) of the script against the fake docker."""
    (tmp_path / "docker").write_text(FAKE_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    files = {name: tmp_path / name for name in ("calls", "sent")}
    for file in files.values():
        file.touch()
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(files["calls"]), "SENT": str(files["sent"]),
           "IN_RECOVERY": in_recovery, "COMMENT": comment}  # fmt: skip
    result = subprocess.run(
        ["bash", "-c", script_of(password_command())], input=PASSWORD, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout, files["sent"].read_text(), files["calls"].read_text()


def test_the_role_gets_the_password_the_database_container_is_given():
    evaluation = evaluate("dev")
    postgres = container_env(evaluation.named(f"{DEV}-postgres"))
    assert password_command(evaluation).inputs["stdin"] == postgres["POSTGRES_PASSWORD"]


def test_the_server_starts_only_once_its_role_has_the_password():
    evaluation = evaluate("dev")
    assert password_command(evaluation).urn in evaluation.named(f"{DEV}-server").dependencies


def test_a_kept_data_directory_gets_the_new_password_through_psqls_input(tmp_path):
    stdout, sent, calls = run_on_host(tmp_path)
    assert "ALTER ROLE" in sent and PASSWORD in sent, sent
    assert PASSWORD not in calls, "the password is a process argument"
    assert stdout.strip().endswith(": set")


def test_a_role_that_has_the_password_already_is_left_as_it_is(tmp_path):
    fingerprint = hashlib.sha256(PASSWORD.encode()).hexdigest()
    stdout, sent, _ = run_on_host(tmp_path, comment=f"sha256:{fingerprint}")
    assert (sent, stdout.strip().endswith(": unchanged")) == ("", True)


def test_a_replica_keeps_its_primarys_password(tmp_path):
    stdout, sent, _ = run_on_host(tmp_path, in_recovery="t")
    assert (sent, "keeps its primary's" in stdout) == ("", True)


@pytest.mark.parametrize("promote", [False, True])
def test_a_cold_standby_sets_the_password_once_its_database_runs(promote):
    evaluation = evaluate(
        "dr", {"codenvy-infra:dr": {"primaryStack": full_stack_name("dev"), "standby": "cold", "promote": promote}}
    )
    names = {resource.name for resource in evaluation.resources}
    assert ("codenvy-dr-master-database-password" in names) == promote


def test_a_following_standby_sets_its_primarys_password():
    evaluation = following_standby()
    command = evaluation.named("codenvy-dr-master-database-password")
    assert command.inputs["stdin"] == container_env(evaluation.named("codenvy-dr-master-postgres"))["POSTGRES_PASSWORD"]


def archive_standby():
    return evaluate("dr", {"codenvy-infra:dr": {"primaryStack": full_stack_name("dev"), "replication": "archive"}})


def test_an_archive_standbys_database_leaves_recovery_before_its_role_gets_the_password():
    """Switched from streaming, its kept data directory still holds standby.signal: a replica takes no restore,
    and its server's new password could not be set."""
    evaluation = archive_standby()
    leave = evaluation.named("codenvy-dr-master-leave-recovery")
    assert "pg_promote" in script_of(leave)
    assert leave.urn in evaluation.named("codenvy-dr-master-database-password").dependencies


def test_a_streaming_standby_stays_a_replica():
    names = {resource.name for resource in following_standby().resources}
    assert "codenvy-dr-master-leave-recovery" not in names
