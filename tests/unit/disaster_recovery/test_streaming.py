"""Continuous DR as the program registers it: a primary streaming to a standby on another host, the
standby following it, and the standby promoted."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from components.config import ConfigError
from components.config.errors import GateError
from components.config_loader import load_site_config
from components.disaster_recovery import status_command
from components.host_firewall import FirewallSettings, render_nftables
from components.postgres_streaming import postgres_command, slot_name
from components.script_templates import render_script
from tests.harness import Evaluation, container_env, evaluate, rerender, script_of, script_parameters
from tests.harness.dr_evaluations import (
    PRIMARY_MASTER,
    PRIMARY_STACK,
    STANDBY_KEY,
    STANDBY_MASTER,
    config_files,
    following_standby,
    master,
    promoted_standby,
    streaming_primary,
)


def names(evaluation: Evaluation) -> set[str]:
    return {r.name for r in evaluation.resources}


def postgres(evaluation: Evaluation, site: str):
    return evaluation.named(f"{site}-master-postgres").inputs


def test_the_primary_publishes_postgresql_at_its_masters_address_only():
    (port,) = postgres(streaming_primary(), "codenvy")["ports"]
    assert (port["internal"], port["external"], port["ip"]) == (5432, 5432, PRIMARY_MASTER)


def test_the_primary_exports_what_its_standby_reads():
    exports = streaming_primary().exports
    assert (exports["replicationStandbys"], exports["postgresPort"]) == ([STANDBY_MASTER], 5432)


def test_the_replication_password_is_a_secret_export():
    assert "replicationPassword" in streaming_primary().secret_exports


def test_the_primary_gives_the_replication_role_its_password_on_stdin():
    role = streaming_primary().named("codenvy-master-replication-role")
    assert role.inputs["stdin"] == streaming_primary().exports["replicationPassword"]


FAKE_DOCKER = """#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
[ "$1 $2" = "exec -i" ] && cat > /dev/null
exit 0
"""


def test_the_replication_password_reaches_no_process_argument(tmp_path):
    """It goes to psql on its input: a process's arguments are visible to every user of the host."""
    (tmp_path / "docker").write_text(FAKE_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    role = streaming_primary().named("codenvy-master-replication-role")
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    subprocess.run(["bash", "-c", script_of(role)], input="s3cret-replication", env=env, text=True, check=True)
    arguments = (tmp_path / "calls").read_text()
    assert "psql" in arguments and "s3cret-replication" not in arguments


def test_the_primary_keeps_the_slot_of_each_listed_standby_only():
    role = streaming_primary().named("codenvy-master-replication-role")
    assert script_parameters(script_of(role))["KEPT_SLOTS"] == slot_name(STANDBY_MASTER)


def test_a_site_that_does_not_stream_runs_postgresql_as_before():
    inputs = evaluate("dev", stack_outputs={}).named("codenvy-master-postgres").inputs
    assert not inputs.get("command") and not inputs.get("ports")


def test_both_sites_run_postgresql_with_the_same_arguments():
    """So neither promotion nor failback changes (and replaces) either container."""
    assert postgres(streaming_primary(), "codenvy")["command"] == postgres(following_standby(), "codenvy-dr")["command"]


def test_promotion_keeps_the_standbys_postgresql_container_as_it_is():
    assert postgres(promoted_standby(), "codenvy-dr") == postgres(following_standby(), "codenvy-dr")


def test_the_standbys_database_is_seeded_before_its_container_exists():
    seed = following_standby().named("codenvy-dr-master-replication-seed")
    container = following_standby().named("codenvy-dr-master-postgres")
    assert seed.urn in container.dependencies


def seed_parameters() -> dict[str, str]:
    return script_parameters(script_of(following_standby().named("codenvy-dr-master-replication-seed")))


def test_the_seed_keeps_this_masters_slot_on_the_primary():
    assert seed_parameters()["SLOT"] == slot_name(STANDBY_MASTER)


def test_the_seed_verifies_the_primarys_certificate_names_its_address():
    conninfo = dict(word.split("=", 1) for word in seed_parameters()["PRIMARY_CONNINFO"].split())
    assert (conninfo["host"], conninfo["sslmode"]) == (PRIMARY_MASTER, "verify-full")


# The standby's daemon as the seed sees it: the primary answers as the same database system the standby
# follows, but no longer keeps its slot (READ_REPLICATION_SLOT gives no position).
FAKE_SEED_DOCKER = """#!/usr/bin/env bash
printf '%s\\0' "$@" >> "$CALLS"
printf '\\n' >> "$CALLS"
case "$*" in
  *IDENTIFY_SYSTEM*) echo "7301|1|0/3000000|" ;;
  *READ_REPLICATION_SLOT*) echo "physical||" ;;
  *pg_controldata*) echo 7301 ;;
  inspect*) echo true ;;
esac
"""


def seed_run(tmp_path, operation: str) -> list[list[str]]:
    """The docker calls of the standby's seed over a lost slot, for the provider's `operation`: pulumi-command
    runs `update` for an in-place change when the Command has one, else `create` again (command*.go Update)."""
    (tmp_path / "docker").write_text(FAKE_SEED_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    seed = following_standby().named("codenvy-dr-master-replication-seed")
    key = "update" if operation == "update" and seed.inputs.get("update") else "create"
    script = rerender(seed, key, backup_dir=str(tmp_path / "backups"))
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "CALLS": str(tmp_path / "calls")}
    subprocess.run(["bash", "-c", script], env=env, text=True, check=True, capture_output=True)
    return [line.split("\0")[:-1] for line in (tmp_path / "calls").read_text().splitlines()]


def test_a_change_to_the_seeds_text_does_not_stop_a_replica_whose_slot_was_dropped(tmp_path):
    """Seeding again stops the database; it is asked for with dr.reseed."""
    assert not any(call[0] == "stop" for call in seed_run(tmp_path, "update"))


def test_a_new_seed_copies_the_data_again_over_a_dropped_slot(tmp_path):
    """Its create, as after raising dr.reseed (a trigger: the seed is replaced)."""
    assert any("pg_basebackup" in call for call in seed_run(tmp_path, "create"))


def test_the_standby_authenticates_with_the_primarys_password_from_a_file():
    pgpass = config_files(following_standby(), "codenvy-dr")["replication.pgpass"].strip()
    assert pgpass == f"{PRIMARY_MASTER}:5432:*:replicator:{streaming_primary().exports['replicationPassword']}"


def test_the_standby_verifies_the_primary_against_the_primarys_ca():
    assert (
        config_files(following_standby(), "codenvy-dr")["primary-ca.crt"]
        == streaming_primary().exports["registryCaCert"]
    )


def test_the_primarys_hba_admits_replication_from_its_standby_over_tls_only():
    hba = [line.split() for line in config_files(streaming_primary(), "codenvy")["pg_hba.conf"].splitlines()]
    replication = [line for line in hba if line[1] == "replication"]
    assert replication == [["hostssl", "replication", "replicator", f"{STANDBY_MASTER}/32", "scram-sha-256"]]


def test_the_primary_caps_the_wal_a_lost_standby_may_pin():
    role = streaming_primary().named("codenvy-master-replication-role")
    assert script_parameters(script_of(role))["MAX_WAL_KEEP_MB"] == "4096"


def test_the_standby_syncs_project_files_every_minute():
    line = script_parameters(script_of(following_standby().named("codenvy-dr-dr-file-sync-schedule")))["ENTRY"]
    words = line.split()
    assert (words[:5], words[6]) == (["*"] * 5, "files")


def test_the_primary_lets_its_standbys_keys_in_as_the_mirror_account():
    account = streaming_primary().named("codenvy-mirror-account")
    assert script_parameters(script_of(account))["KEYS"] == STANDBY_KEY


def test_the_primary_installs_the_mirror_tool_before_the_account_that_runs_it():
    account = streaming_primary().named("codenvy-mirror-account")
    assert streaming_primary().named("codenvy-mirror-tool").urn in account.dependencies


def test_a_site_without_standby_keys_lets_no_one_in():
    assert not [name for name in names(following_standby()) if "mirror" in name]


def test_the_standbys_transfer_logs_in_as_the_mirror_account():
    tool = following_standby().named("codenvy-dr-dr-transfer-tool")
    assert script_parameters(script_parameters(script_of(tool))["CONTENT"])["PRIMARY_USER"] == "codenvy-mirror"


def test_a_streaming_standby_stages_its_nightly_archive():
    tool = following_standby().named("codenvy-dr-dr-transfer-tool")
    assert script_parameters(script_parameters(script_of(tool))["CONTENT"])["MODE"] == "stage"


def test_a_streaming_standby_has_a_status_tool():
    assert "codenvy-dr-dr-status-tool" in names(following_standby())


def test_promotion_promotes_the_database():
    assert "codenvy-dr-master-replication-promote" in names(promoted_standby())


@pytest.mark.parametrize(
    "gone", ["codenvy-dr-master-replication-seed", "codenvy-dr-dr-file-sync-schedule", "codenvy-dr-dr-status-tool"]
)
def test_promotion_stops_following_the_primary(gone):
    assert (gone in names(following_standby()), gone in names(promoted_standby())) == (True, False)


def test_a_standby_the_primary_does_not_list_is_refused_before_anything_exists():
    others = {"codenvy-infra:master": master("10.9.0.3")}
    dr = {"primaryStack": PRIMARY_STACK, "standby": "hot"}
    with pytest.raises(GateError, match=r"codenvy-infra:dr\.replication: .* does not list its master 10\.9\.0\.3"):
        evaluate("dr", {**others, "codenvy-infra:dr": dr}, stack_outputs={PRIMARY_STACK: streaming_primary().exports})


def test_a_cold_standby_cannot_stream():
    raw = {
        "codenvy-infra:role": "standby",
        "codenvy-infra:dr": json.dumps({"primaryStack": "o/p/s", "standby": "cold", "replication": "streaming"}),
    }
    with pytest.raises(ConfigError, match=r"codenvy-infra:dr\.replication: a cold standby"):
        load_site_config(raw)


def test_a_standby_cannot_have_standbys_of_its_own():
    raw = {
        "codenvy-infra:role": "standby",
        "codenvy-infra:dr": json.dumps({"primaryStack": "o/p/s"}),
        "codenvy-infra:replication": json.dumps({"standbyAddresses": ["10.9.0.7"]}),
    }
    with pytest.raises(ConfigError, match=r"codenvy-infra:replication\.standbyAddresses: a standby streams"):
        load_site_config(raw)


def primary_site():
    return load_site_config(
        {
            "codenvy-infra:master": json.dumps(master(PRIMARY_MASTER)),
            "codenvy-infra:replication": json.dumps({"standbyAddresses": [STANDBY_MASTER]}),
        }
    )


def test_the_primarys_firewall_lets_its_standby_reach_postgresql():
    site = primary_site()
    rules = render_nftables(FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=True)
    assert "ct original proto-dst 5432 ip saddr @database_peers accept" in rules
    assert f"set database_peers {{ type ipv4_addr; elements = {{ {STANDBY_MASTER} }} }}" in rules


def test_the_primarys_firewall_lets_its_standby_reach_ssh():
    site = primary_site()
    rules = render_nftables(FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=True)
    assert "    tcp dport 22 ip saddr @replication_peers accept" in rules.splitlines()


def test_a_site_without_standbys_opens_nothing_for_replication():
    site = load_site_config({})
    assert "replication_peers" not in render_nftables(FirewallSettings.of(site), site.master, True, True)


def test_the_status_check_of_a_pinned_host_trusts_only_its_key():
    host = load_site_config(
        {"codenvy-infra:master": json.dumps({"address": "10.9.0.5", "ssh": {"hostKey": "ssh-ed25519 AAAAKEY"}})}
    ).master
    command = status_command(host, "/usr/local/lib/codenvy/codenvy-replication-x")
    assert "StrictHostKeyChecking=yes" in command and "10.9.0.5 ssh-ed25519 AAAAKEY" in command


def test_postgresql_arguments_turn_tls_on():
    arguments = postgres_command()
    settings = dict(word.split("=", 1) for word in arguments if "=" in word)
    assert (settings["ssl"], settings["hba_file"]) == ("on", "/etc/codenvy-postgres/pg_hba.conf")


def test_a_following_standbys_server_logs_in_with_the_primarys_database_password():
    """The replica has the primary's roles: a password of the standby's own would be refused."""
    env = container_env(following_standby().named("codenvy-dr-master-server"))
    assert env["PGPASSWORD"] == streaming_primary().exports["databasePassword"]


def test_a_promoted_standby_keeps_the_database_password_it_followed_with():
    server = "codenvy-dr-master-server"
    assert container_env(promoted_standby().named(server)) == container_env(following_standby().named(server))


def test_a_standby_without_its_own_admin_password_takes_the_primarys():
    """Its database, the admin included, is the primary's: the admin logs in there with the primary's password."""
    assert following_standby().exports["adminPassword"] == streaming_primary().exports["adminPassword"]


# A key's comment may hold any printable character, printf's % and \ among them.
ODD_HOST_KEY = "ssh-ed25519 AAAAKEY admin%s\\nx%%@host"
FAKE_SSH = """#!/usr/bin/env bash
for arg in "$@"; do
  case "$arg" in UserKnownHostsFile=*) cat "${arg#UserKnownHostsFile=}" ;; esac
done
"""


def test_the_status_check_writes_the_pinned_key_as_it_is(tmp_path):
    (tmp_path / "ssh").write_text(FAKE_SSH)
    (tmp_path / "ssh").chmod(0o755)
    ssh = {"port": 2222, "hostKey": ODD_HOST_KEY}
    host = load_site_config({"codenvy-infra:master": json.dumps({"address": "10.9.0.5", "ssh": ssh})}).master
    command = status_command(host, "/usr/local/lib/codenvy/codenvy-replication-x")
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    known = subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, check=True).stdout
    assert known.splitlines() == [f"10.9.0.5 {ODD_HOST_KEY}", f"[10.9.0.5]:2222 {ODD_HOST_KEY}"]


def pgpass_fields(line: str) -> list[str]:
    """A .pgpass line as libpq reads it (PostgreSQL docs, "The Password File"): fields split at each `:`
    not escaped, a backslash taking the next character literally."""
    fields, field, characters = [], "", iter(line.rstrip("\n"))
    for character in characters:
        if character == "\\":
            field += next(characters, "")
        elif character == ":":
            fields.append(field)
            field = ""
        else:
            field += character
    return [*fields, field]


@pytest.mark.parametrize("password", ["pass:word", "back\\slash", "\\:", "trailing\\"])
def test_the_standbys_password_file_holds_the_primarys_password_as_libpq_reads_it(password):
    exports = {**streaming_primary().exports, "replicationPassword": password}
    overrides = {
        "codenvy-infra:master": master(STANDBY_MASTER),
        "codenvy-infra:dr": {"primaryStack": PRIMARY_STACK, "standby": "hot", "transferSchedule": None},
    }
    standby = evaluate("dr", overrides, stack_outputs={PRIMARY_STACK: exports})
    pgpass = config_files(standby, "codenvy-dr")["replication.pgpass"]
    assert pgpass_fields(pgpass) == [PRIMARY_MASTER, "5432", "*", "replicator", password]


# Docker as the seed calls it on a standby whose former data must be kept: the primary answers, the local
# data is no replica, the server runs, and `tar` prints the data it had.
FORMER_DATA_SEED_DOCKER = """#!/usr/bin/env bash
entrypoint=
previous=
for arg in "$@"; do
  [ "$previous" = --entrypoint ] && entrypoint=$arg
  previous=$arg
done
case "$1:$entrypoint:$*" in
  inspect:*) echo true ;;
  run:psql:*IDENTIFY_SYSTEM*) echo '7000|1|0/0|' ;;
  run:psql:*READ_REPLICATION_SLOT*) echo 'physical||' ;;
  run:sh:*standby.signal*) exit 1 ;;
  run:tar:*) echo 'the former data' ;;
esac
exit 0
"""


def test_the_data_a_seed_keeps_is_readable_by_root_only(tmp_path):
    (tmp_path / "docker").write_text(FORMER_DATA_SEED_DOCKER)
    (tmp_path / "docker").chmod(0o755)
    parameters = script_parameters(script_of(following_standby().named("codenvy-dr-master-replication-seed")))
    script = render_script("replica_seed", **{**parameters, "BACKUP_DIR": str(tmp_path / "backups")})
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    seeded = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, check=False, preexec_fn=lambda: os.umask(0o022)
    )
    assert seeded.returncode == 0, seeded.stderr
    (kept,) = (tmp_path / "backups").glob("pre-seed-*.tar")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
