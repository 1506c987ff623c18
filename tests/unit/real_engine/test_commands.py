"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: they
run once (so what must last survives a reboot, and checks re-run through triggers), old deletes run after
new creates, the engine logs what they print and puts their text in errors, dead hosts cannot be dialled,
and the Resource API is called while the server boots. Scripts run here with fake host binaries on PATH."""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
import os
import shlex
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import ClassVar

import pulumi_command
import pytest
import yaml

from components import resource_api
from components.config import ConfigError
from components.deploy_gates import READ_STACK_OUTPUTS
from components.host_access import COMMAND_INPUTS
from components.resource_api import ApiError, ResourceApi, api_from_environment
from tests.harness import (
    PROJECT_DIR,
    STACKS,
    Evaluation,
    FabricatingMocks,
    Registration,
    evaluate,
    full_stack_name,
    primary_as_shipped,
    rerender,
    script_of,
    script_parameters,
    site_config,
    stack_file_config,
)
from tests.loopback import serving

COMMANDS = ("command:local:Command", "command:remote:Command")
DEV = full_stack_name("dev")


# --- evaluating with join tokens the manager gives -----------------------------------------------------


def commands(evaluation: Evaluation) -> list[Registration]:
    return [r for r in evaluation.resources if r.type in COMMANDS]


def token_of(name: str) -> str:
    return "SWMTKN-1-" + hashlib.sha256(name.encode()).hexdigest()[:40]


class TokenMocks(FabricatingMocks):
    """The harness's mocks, plus each manager-side join-token reader printing a token of its own."""

    def new_resource(self, args):
        resource_id, outputs = super().new_resource(args)
        if args.typ in COMMANDS and args.name.endswith("-join-token"):
            outputs["stdout"] = token_of(args.name)
        return resource_id, outputs


def run(stack: str, overrides: dict | None = None, *, secret_keys: tuple[str, ...] = ()) -> Evaluation:
    """`stack`'s file plus `overrides` under the token mocks, a standby reading its primary as shipped."""
    mocks = TokenMocks(primary_as_shipped({**stack_file_config(stack), **(overrides or {})}))
    return evaluate(stack, overrides, secret_keys=secret_keys, mocks=mocks)


@functools.cache
def shipped(stack: str) -> Evaluation:
    """A shipped stack file as it is, evaluated once for the tests that only read it."""
    return run(stack)


# --- a host of fake binaries -------------------------------------------------------------------------


class FakeHost:
    """A PATH of fakes for docker, nft, curl and systemctl, and logging wrappers around the rest, so a script
    runs here for real and every process it starts (with its arguments) is recorded."""

    WRAPPED = ("cat", "cut", "grep", "mkdir", "mktemp", "mv", "rm", "sed", "seq", "sleep", "tr", "chmod", "dirname")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "argv.log"
        self.log.touch()
        for name in self.WRAPPED:
            real = shutil.which(name)
            assert real, name
            self._tool(name, f'exec {real} "$@"')

    def _tool(self, name: str, body: str) -> None:
        path = self.bin / name
        path.write_text(f'#!/bin/bash\nprintf "%s\\0" {name} "$@" >> {self.log}; printf "\\n" >> {self.log}\n{body}\n')
        path.chmod(path.stat().st_mode | stat.S_IEXEC)

    def fake(self, name: str, body: str) -> None:
        self._tool(name, body)

    def run(self, script: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess:
        env = {**env, "PATH": f"{self.bin}:/usr/bin:/bin", "FAKE": str(self.root), "HOME": str(self.root)}
        return subprocess.run(
            ["bash", "-c", script], input=stdin, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    def argv_lists(self) -> list[list[str]]:
        lines = self.log.read_text().split("\n")
        return [line.split("\0")[:-1] for line in lines if line]

    def ran(self, *prefix: str) -> bool:
        return any(argv[: len(prefix)] == list(prefix) for argv in self.argv_lists())


@pytest.fixture
def host(tmp_path) -> FakeHost:
    return FakeHost(tmp_path)


FAKE_NFT = """
case "$*" in
  "-c -f "*) exit 0 ;;
  "-f "*) cp "$2" "$FAKE/loaded.nft" ;;
  "list table inet codenvy") [ -f "$FAKE/loaded.nft" ] ;;
  "delete table inet codenvy") rm -f "$FAKE/loaded.nft" ;;
  *) echo "fake nft: $*" >&2; exit 2 ;;
esac
"""


def firewall_on(host: FakeHost, evaluation: Evaluation, node: str) -> tuple[str, str]:
    """The program's firewall create and delete for `node`, with its state and boot ruleset under `host`."""
    firewall = evaluation.named(f"codenvy-ws-{node}-firewall")
    paths = {"state_dir": str(host.root / "etc-codenvy"), "nftables_conf": str(host.root / "nftables.conf")}
    host.fake("nft", FAKE_NFT)
    host.fake("systemctl", 'echo "$*" >> "$FAKE/systemctl.log"')
    return rerender(firewall, **paths), rerender(firewall, "delete", **paths)


# --- 4: Commands run once ------------------------------------------------------------------------------


def test_firewall_is_included_from_the_ruleset_the_hosts_nftables_service_loads_at_boot(host):
    create, _ = firewall_on(host, shipped("sim"), "node2")
    result = host.run(create)
    assert result.returncode == 0, result.stderr
    rules = (host.root / "etc-codenvy" / "firewall.nft").read_text()
    boot = (host.root / "nftables.conf").read_text().splitlines()
    assert f'include "{host.root / "etc-codenvy" / "firewall.nft"}"' in boot
    assert rules == (host.root / "loaded.nft").read_text(), "the boot file includes the rules that are loaded"


def test_a_second_firewall_run_on_a_persisted_host_changes_nothing(host):
    create, _ = firewall_on(host, shipped("sim"), "node2")
    host.run(create)
    before = (host.root / "nftables.conf").read_text()
    again = host.run(create)
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert (host.root / "nftables.conf").read_text() == before


def firewall_removed(host: FakeHost) -> None:
    create, delete = firewall_on(host, shipped("sim"), "node2")
    host.run(create)
    result = host.run(delete)
    assert result.returncode == 0, result.stderr


def test_removing_the_firewall_takes_it_out_of_the_boot_ruleset(host):
    firewall_removed(host)
    assert "include" not in (host.root / "nftables.conf").read_text()


def test_removing_the_firewall_unloads_it(host):
    firewall_removed(host)
    assert not (host.root / "loaded.nft").exists()


def test_firewall_persists_into_the_file_named_in_config():
    sim = run("sim", {"codenvy-infra:firewall": {"persistFile": "/etc/sysconfig/nftables.conf"}})
    params = script_parameters(script_of(sim.named("codenvy-ws-node2-firewall")))
    assert params["NFTABLES_CONF"] == "/etc/sysconfig/nftables.conf"


WORKERS = ["node2", "node3"]


@pytest.mark.parametrize("node", WORKERS)
def test_each_nodes_join_token_is_read_on_the_manager(node):
    reader = shipped("sim").named(f"codenvy-ws-{node}-join-token")
    assert reader.inputs["connection"]["host"] == site_config("sim").master.address


@pytest.mark.parametrize("node", WORKERS)
def test_each_node_is_given_a_worker_token(node):
    assert "join-token --quiet worker" in script_of(shipped("sim").named(f"codenvy-ws-{node}-join-token"))


@pytest.mark.parametrize("node", WORKERS)
def test_a_join_token_is_read_when_its_node_is_added(node):
    # A node added later gets a reader of its own, run when it is added; no trigger re-runs an old one.
    assert "triggers" not in shipped("sim").named(f"codenvy-ws-{node}-join-token").inputs


@pytest.mark.parametrize("node", WORKERS)
def test_each_node_joins_with_the_token_its_reader_gave(node):
    join = shipped("sim").named(f"codenvy-ws-{node}-swarm-join")
    assert join.inputs["stdin"] == token_of(f"codenvy-ws-{node}-join-token")


@pytest.mark.parametrize("node", WORKERS)
def test_a_join_waits_for_its_token(node):
    sim = shipped("sim")
    assert sim.named(f"codenvy-ws-{node}-join-token").urn in sim.named(f"codenvy-ws-{node}-swarm-join").dependencies


def test_the_ready_check_runs_again_when_the_nodes_daemon_config_changes():
    before = shipped("sim").named("codenvy-ws-node2-ready")
    after = run("sim", {"codenvy-infra:logs": {"maxSize": "20m"}}).named("codenvy-ws-node2-ready")
    assert before.inputs["triggers"] != after.inputs["triggers"]


def test_replacing_the_ready_check_undoes_nothing():
    assert "delete" not in shipped("sim").named("codenvy-ws-node2-ready").inputs


def test_the_primary_registry_is_checked_again_when_the_version_changes():
    check = shipped("dr").named("codenvy-dr-dr-primary-registry")
    assert check.inputs["triggers"] == [site_config("dr").version]


# --- 5: URN changes ------------------------------------------------------------------------------------

# Commands whose delete undoes something on a host, under their URNs as the engine forms them (every
# ancestor's type). A refactor that moves or renames one must alias the old URN, or the next `up` runs the
# old delete after the new create.
URNS_WITH_A_DELETE = {
    "sim": [
        f"codenvy:infra:Site$codenvy:infra:WorkspaceNode$command:remote:Command::codenvy-ws-{name}"
        for name in (
            "node1-firewall",
            "node2-firewall",
            "node3-firewall",
            "node2-swarm-join",
            "node3-swarm-join",
            "node2-membership",
            "node3-membership",
        )
    ]
    + [
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-schedule",
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-backup-tool",
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-restore-tool",
    ],
    "dr": [
        "codenvy:infra:Site$codenvy:infra:DisasterRecovery$command:local:Command::codenvy-dr-dr-transfer-tool",
        "codenvy:infra:Site$codenvy:infra:Backups$command:local:Command::codenvy-dr-backups-backup-tool",
    ],
}


def engine_urn(evaluation: Evaluation, registration: Registration) -> str:
    """The URN the engine gives: the types of every ancestor below the stack (the mocks keep only the parent's)."""
    return "$".join(type_chain(evaluation, registration)) + "::" + registration.name


def type_chain(evaluation: Evaluation, registration: Registration) -> list[str]:
    chain = [registration.type]
    parent = registration.parent
    while parent and "::pulumi:pulumi:Stack::" not in parent:
        ancestor = evaluation.by_urn(parent)
        chain.insert(0, ancestor.type)
        parent = ancestor.parent
    return chain


def inherited_alias_urns(evaluation: Evaluation, registration: Registration) -> set[str]:
    """The URNs an ancestor's type alias gives a resource under it: the chain with that ancestor's former
    type (step_generator.go generateAliases multiplies the parent's aliases out to its children)."""
    chain, found = type_chain(evaluation, registration), set()
    ancestor = registration
    for depth in range(len(chain) - 1, -1, -1):
        for alias in ancestor.options.aliases:
            types, _, name = alias.partition("::")
            if name == ancestor.name:
                former = [*chain[:depth], types.split("$")[-1], *chain[depth + 1 :]]
                found.add("$".join(former) + "::" + registration.name)
        if depth:
            ancestor = evaluation.by_urn(ancestor.parent)
    return found


@pytest.mark.parametrize("stack", sorted(URNS_WITH_A_DELETE))
def test_commands_with_a_delete_keep_their_urns_or_alias_them(stack):
    evaluation = shipped(stack)
    registered = {engine_urn(evaluation, r) for r in evaluation.resources}
    aliased = {alias for r in evaluation.resources for alias in r.options.aliases}
    aliased |= {urn for r in evaluation.resources for urn in inherited_alias_urns(evaluation, r)}
    missing = [urn for urn in URNS_WITH_A_DELETE[stack] if urn not in registered | aliased]
    assert not missing, f"moved without an alias: {missing}"


def test_a_command_with_a_delete_is_deleted_before_it_is_replaced():
    sim = shipped("sim")
    for command in commands(sim):
        if command.inputs.get("delete"):
            assert command.options.delete_before_replace, command.name


@functools.cache
def renamed_node_run() -> Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    return run("sim", {"codenvy-infra:nodes": [{**nodes[0], "name": "worker2"}, nodes[1]]})


CLAIMING_KINDS = ["firewall", "swarm-join", "membership"]


def owner(registration: Registration, key: str = "create") -> str:
    return script_parameters(script_of(registration, key))["OWNER"]


@pytest.mark.parametrize("kind", CLAIMING_KINDS)
def test_a_renamed_nodes_resources_claim_the_host_under_their_own_names(kind):
    old = shipped("sim").named(f"codenvy-ws-node2-{kind}")
    new = renamed_node_run().named(f"codenvy-ws-worker2-{kind}")
    assert owner(new) != owner(old, "delete")


@pytest.mark.parametrize("kind", CLAIMING_KINDS)
def test_a_delete_acts_only_for_its_own_create(kind):
    resource = shipped("sim").named(f"codenvy-ws-node2-{kind}")
    assert owner(resource, "delete") == owner(resource)


def test_an_old_firewall_delete_after_a_renamed_nodes_create_leaves_the_firewall(host):
    _, old_delete = firewall_on(host, shipped("sim"), "node2")
    new_create, _ = firewall_on(host, renamed_node_run(), "worker2")
    host.run(new_create)
    result = host.run(old_delete)
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert (host.root / "loaded.nft").exists()
    assert "include" in (host.root / "nftables.conf").read_text()


FAKE_DOCKER = """
case "$*" in
  "info --format {{.Swarm.LocalNodeState}}") cat "$FAKE/swarm-state" 2> /dev/null || echo inactive ;;
  "info --format {{.Swarm.NodeID}}") echo node-xyz ;;
  "info --format {{.Swarm.ControlAvailable}}") echo true ;;
  "info --format {{.Swarm.Cluster.ID}}") echo cluster-abc ;;
  "info --format {{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}") echo "$MANAGER:2377 " ;;
  "swarm leave --force") echo inactive > "$FAKE/swarm-state" ;;
  "node inspect "*"--format {{with index .Spec.Labels"*) cat "$FAKE/owner-label" 2> /dev/null || true ;;
  "node inspect "*"--format {{.Status.State}}") echo ready ;;
  "node inspect node-"*) [ ! -f "$FAKE/removed" ] ;;
  "node update --label-add "*) echo "${4#*=}" > "$FAKE/owner-label" ;;
  "node update --availability drain "*) : ;;
  "node ps "*) : ;;
  "node rm --force "*) touch "$FAKE/removed" ;;
  "node ls --quiet") cat "$FAKE/node-ids" ;;
  "node inspect "*"--format {{.Status.Addr}} {{.Status.State}}") grep "^$3 " "$FAKE/nodes" | cut -d' ' -f2- ;;
  *) echo "fake docker: $*" >&2; exit 2 ;;
esac
"""


def test_an_old_leave_after_a_renamed_nodes_join_keeps_the_host_in_the_swarm(host):
    host.fake("docker", FAKE_DOCKER)
    old = shipped("sim").named("codenvy-ws-node2-swarm-join")
    new = renamed_node_run().named("codenvy-ws-worker2-swarm-join")
    state = {"state_dir": str(host.root / "etc-codenvy")}
    (host.root / "swarm-state").write_text("active\n")
    joined = host.run(rerender(new, **state), MANAGER=site_config("sim").master.address)
    assert joined.returncode == 0, joined.stderr
    result = host.run(rerender(old, "delete", **state))
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert not host.ran("docker", "swarm", "leave")


def test_an_old_membership_delete_after_a_renamed_nodes_claim_leaves_the_node_in_the_swarm(host):
    host.fake("docker", FAKE_DOCKER)
    old = shipped("sim").named("codenvy-ws-node2-membership")
    new = renamed_node_run().named("codenvy-ws-worker2-membership")
    assert host.run(script_of(new)).returncode == 0
    result = host.run(script_of(old, "delete"))
    assert result.returncode == 0 and "left in the swarm" in result.stdout
    assert not host.ran("docker", "node", "rm")


def swarm_manager_with_owner(host: FakeHost, owner_of_swarm: str) -> dict[str, str]:
    """A manager host already in a swarm whose owner file names `owner_of_swarm`; the state dir to render with."""
    host.fake("docker", FAKE_DOCKER)
    (host.root / "swarm-state").write_text("active\n")
    (host.root / "etc-codenvy").mkdir()
    (host.root / "etc-codenvy" / "swarm.owner").write_text(owner_of_swarm + "\n")
    return {"state_dir": str(host.root / "etc-codenvy")}


def test_an_old_init_delete_after_the_init_moved_keeps_the_manager_in_its_swarm(host):
    """A move without an alias: the engine runs the new init's create, then the old one's delete."""
    old = shipped("sim").named("codenvy-network-swarm-init")
    state = swarm_manager_with_owner(host, owner(old))
    moved = rerender(old, owner=owner(old).replace("swarm-init", "swarm-init-moved"), **state)
    assert host.run(moved).returncode == 0
    result = host.run(rerender(old, "delete", **state))
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert not host.ran("docker", "swarm", "leave")


@pytest.mark.parametrize("found_owner", ["", "codenvy-infra/other-stack/codenvy-network-swarm-init"])
def test_a_swarm_the_stack_did_not_make_is_left_by_its_init_delete_alone(host, found_owner):
    init = shipped("sim").named("codenvy-network-swarm-init")
    state = swarm_manager_with_owner(host, found_owner)
    assert host.run(rerender(init, **state)).returncode == 0
    host.run(rerender(init, "delete", **state))
    assert not host.ran("docker", "swarm", "leave")


def test_a_membership_delete_removes_the_node_it_claimed(host):
    host.fake("docker", FAKE_DOCKER)
    membership = shipped("sim").named("codenvy-ws-node2-membership")
    host.run(script_of(membership))
    result = host.run(script_of(membership, "delete"))
    assert result.returncode == 0 and "drained and removed" in result.stdout
    assert host.ran("docker", "node", "update", "--availability", "drain")


# --- 6: secrets in logs ----------------------------------------------------------------------------------

SECRET_CONFIG = {
    "codenvy-infra:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY----- k3y",
    "codenvy-infra:adminPassword": "adm1n-pa55",
    "codenvy-infra:limits": {"users": [{"userId": "alice", "resources": [{"type": "workspace", "amount": 3}]}]},
    "codenvy-infra:audit": {"enabled": True},
}


@functools.cache
def secret_run() -> tuple[Evaluation, list[str]]:
    secrets = ("codenvy-infra:sshPrivateKey", "codenvy-infra:adminPassword")
    sim = run("sim", SECRET_CONFIG, secret_keys=secrets)
    values = [SECRET_CONFIG[key] for key in secrets]
    values += [c.outputs["stdout"].strip() for c in commands(sim) if "stdout" in c.options.additional_secret_outputs]
    values += [r.outputs["result"] for r in sim.of_type("random:index/randomPassword:RandomPassword")]
    values += [r.outputs["privateKeyPem"] for r in sim.of_type("tls:index/privateKey:PrivateKey")]
    assert all(values), "every secret is known"
    return sim, values


def test_no_secret_is_in_the_text_of_any_command():
    """A failed command's error quotes its whole text, and the text is a process argument on the host."""
    sim, secrets = secret_run()
    assert len(secrets) > 4
    for command in commands(sim):
        text = json.dumps({key: command.inputs.get(key) for key in ("create", "update", "delete", "triggers")})
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{command.name} carries a secret in its command text"


def test_a_command_whose_stdout_is_secret_does_not_log_it():
    sim, _ = secret_run()
    secret_stdout = [c for c in commands(sim) if "stdout" in c.options.additional_secret_outputs]
    assert {c.name for c in secret_stdout} >= {"codenvy-ws-node2-join-token", "codenvy-ws-node3-join-token"}
    for command in secret_stdout:
        assert command.inputs.get("logging") == "stderr", command.name


def test_the_join_token_travels_as_a_secret_on_stdin():
    sim, _ = secret_run()
    join = sim.named("codenvy-ws-node2-swarm-join")
    assert "stdin" in join.secret_inputs
    assert join.inputs["stdin"] == token_of("codenvy-ws-node2-join-token")


FAKE_CURL = """
out=""; prev=""
for argument in "$@"; do [ "$prev" = -o ] && out=$argument; prev=$argument; done
cat > "$FAKE/curl-stdin"
printf '%s' "${CURL_BODY:-}" > "$out"
printf '%s' "${CURL_CODE:-200}"
"""


def join_on(host: FakeHost) -> tuple[str, str]:
    host.fake("docker", FAKE_DOCKER)
    host.fake("curl", FAKE_CURL)
    join = shipped("sim").named("codenvy-ws-node2-swarm-join")
    return rerender(join, state_dir=str(host.root / "etc-codenvy")), "SWMTKN-1-0123456789abcdef-secret"


def test_the_join_gives_the_token_to_the_docker_api(host):
    script, token = join_on(host)
    result = host.run(script, stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads((host.root / "curl-stdin").read_text())["JoinToken"] == token


def test_the_join_prints_the_node_id_alone(host):
    script, token = join_on(host)
    assert host.run(script, stdin=token + "\n").stdout.strip() == "node-xyz"


def test_no_process_of_the_join_gets_the_token_as_an_argument(host):
    script, token = join_on(host)
    assert host.run(script, stdin=token + "\n").returncode == 0
    assert host.ran("curl"), "the join went to the API"
    assert not [argv for argv in host.argv_lists() if any(token in part for part in argv)]


def test_the_join_prints_no_token(host):
    script, token = join_on(host)
    result = host.run(script, stdin=token + "\n")
    assert token not in result.stdout + result.stderr


def test_a_failed_join_does_not_print_the_token(host):
    script, token = join_on(host)
    body = json.dumps({"message": f"invalid join token {token}"})
    result = host.run(script, stdin=token + "\n", CURL_CODE="500", CURL_BODY=body)
    assert result.returncode == 1
    assert "could not join" in result.stderr and token not in result.stdout + result.stderr


# --- 8: a dead node ------------------------------------------------------------------------------------


LOST_ADDRESS = stack_file_config("sim")["codenvy-infra:nodes"][0]["address"]


@functools.cache
def lost_node_run() -> Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    return run("sim", {"codenvy-infra:nodes": [{**nodes[0], "lost": True}, nodes[1]]})


LOST_KINDS = ["daemon-config", "registry-ca", "firewall", "swarm-join"]


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_leave_the_state_without_a_provider_delete(kind):
    # Removed from the program later, each is dropped from the state without contacting the host.
    assert lost_node_run().named(f"codenvy-ws-node2-{kind}").options.retain_on_delete


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_ignore_every_input_that_would_run_something(kind):
    ignored = set(lost_node_run().named(f"codenvy-ws-node2-{kind}").options.ignore_changes)
    assert ignored >= {"create", "update", "delete", "connection", "triggers", "stdin"}


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resource_that_never_existed_is_created_without_running_anything(kind):
    assert "create" not in lost_node_run().named(f"codenvy-ws-node2-{kind}").inputs


@pytest.mark.parametrize("kind", LOST_KINDS)
def test_a_lost_nodes_resources_wait_for_the_managers_confirmation(kind):
    lost = lost_node_run()
    assert lost.named("codenvy-ws-node2-lost").urn in lost.named(f"codenvy-ws-node2-{kind}").dependencies


def test_command_inputs_the_lost_nodes_resources_ignore_are_all_of_them():
    declared = set(inspect.signature(pulumi_command.remote.CommandArgs.__init__).parameters) - {"__self__"}
    camel = {"".join(part.title() if i else part for i, part in enumerate(name.split("_"))) for name in declared}
    assert camel == set(COMMAND_INPUTS)


def test_the_manager_confirms_a_lost_node_before_it_is_forgotten():
    lost = lost_node_run()
    check = lost.named("codenvy-ws-node2-lost")
    assert check.inputs["connection"]["host"] == site_config("sim").master.address
    assert script_parameters(script_of(check))["NODE_ADDR"] == LOST_ADDRESS


def test_a_lost_node_is_removed_from_the_swarm_by_the_manager():
    names = {r.name for r in lost_node_run().resources}
    assert "codenvy-ws-node2-membership" not in names, "its delete drains and removes the node on the manager"
    assert "codenvy-ws-node3-membership" in names


def test_a_lost_node_is_no_member_in_the_other_hosts_firewalls():
    rules = script_parameters(script_of(lost_node_run().named("codenvy-ws-node1-firewall")))["RULESET"]
    assert LOST_ADDRESS not in rules


def test_a_lost_node_leaves_the_node_set():
    assert LOST_ADDRESS not in [node["address"] for node in lost_node_run().exports["nodes"]]


@pytest.mark.parametrize(("state", "refused"), [("ready", True), ("down", False)])
def test_the_lost_check_refuses_a_node_that_is_ready(host, state, refused):
    host.fake("docker", FAKE_DOCKER)
    (host.root / "node-ids").write_text("id1\nid2\n")
    (host.root / "nodes").write_text(f"id1 10.77.0.11 ready\nid2 10.77.0.12 {state}\n")
    check = lost_node_run().named("codenvy-ws-node2-lost")
    result = host.run(script_of(check))
    assert (result.returncode == 1) is refused, result.stderr
    if refused:
        assert "unset nodes[].lost" in result.stderr


def test_the_master_cannot_be_lost():
    master = stack_file_config("sim")["codenvy-infra:master"]
    with pytest.raises(ConfigError, match=r"codenvy-infra:master\.lost: the master cannot be marked lost"):
        evaluate("sim", {"codenvy-infra:master": {**master, "lost": True}})


# --- 10: the Resource API while the server boots ------------------------------------------------------


class BootingServer(BaseHTTPRequestHandler):
    """Answers 503 (HAProxy without a backend) to the first `failures` calls, then as the server does: a login
    gives a token, GET /resource/free/{account} what the last POST stored (404 before)."""

    failures: ClassVar[int] = 0
    calls: ClassVar[int] = 0
    stored: ClassVar[bytes] = b""

    def log_message(self, *args):
        pass

    def _booting(self) -> bool:
        type(self).calls += 1
        if type(self).calls <= type(self).failures:
            self._answer(503, b"")
            return True
        return False

    def do_GET(self):
        if not self._booting():
            self._answer(200, type(self).stored) if type(self).stored else self._answer(404, b"")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self._booting():
            return
        if self.path.endswith("/auth/login"):
            self._answer(200, b'{"value": "token"}')
            return
        self._store(body)

    def _store(self, body: bytes) -> None:
        type(self).stored = body
        self._answer(201, body)

    def _answer(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def booting() -> Iterator[str]:
    BootingServer.calls, BootingServer.stored = 0, b""
    with serving(BootingServer) as url:
        yield url


def test_the_limits_client_waits_for_a_server_that_is_still_starting(booting):
    BootingServer.failures = 2
    api = ResourceApi(booting, "admin", "pw", wait_seconds=10)
    assert api.apply_limits("alice", [{"type": "workspace", "amount": 3}]).startswith("limits of alice: set")
    assert BootingServer.calls == 6, "two refused logins, the login, the read before the POST, it, and the read back"


class ForgetfulServer(BootingServer):
    """Says 201 to the POST and stores nothing, as a proxy or a wrong endpoint might."""

    def _store(self, body: bytes) -> None:
        self._answer(201, b"{}")


def test_the_limits_client_reports_success_only_when_the_server_holds_the_limits():
    ForgetfulServer.calls, ForgetfulServer.failures, ForgetfulServer.stored = 0, 0, b""
    with serving(ForgetfulServer) as url:
        api = ResourceApi(url, "admin", "pw", wait_seconds=1)
        with pytest.raises(ApiError, match="accepted the limits of alice but holds none"):
            api.apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_the_limits_client_gives_up_after_its_wait_with_a_clear_error(booting):
    BootingServer.failures = 1000
    api = ResourceApi(booting, "admin", "pw", wait_seconds=1)
    with pytest.raises(ApiError, match=r"POST /auth/login: cannot reach .* within 1 s \(last answer: HTTP 503\)"):
        api.apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_the_limits_client_says_what_it_awaits_while_it_waits(booting, monkeypatch, capsys):
    monkeypatch.setattr(resource_api, "PROGRESS_EVERY_S", 0.2)
    BootingServer.failures = 1000
    with pytest.raises(ApiError):
        ResourceApi(booting, "admin", "pw", wait_seconds=1).apply_limits("alice", [{"type": "workspace", "amount": 3}])
    progress = [line for line in capsys.readouterr().err.splitlines() if line.startswith("waiting for the API at ")]
    assert progress and all("POST /auth/login" in line for line in progress), progress


def test_the_command_line_client_waits_minutes_by_default(monkeypatch):
    monkeypatch.setenv("CODENVY_API_URL", "https://localhost/api")
    monkeypatch.setenv("CODENVY_ADMIN_PASSWORD", "pw")
    monkeypatch.delenv("CODENVY_API_WAIT_SECONDS", raising=False)
    assert api_from_environment().wait_seconds >= 300


# --- 13: readStackOutputs edges ------------------------------------------------------------------------


class EngineOutputs(FabricatingMocks):
    """readStackOutputs as the engine answers it: a stack with no checkpoint fails the invoke, and exports
    that were None are absent."""

    def call(self, args):
        if args.token == READ_STACK_OUTPUTS:
            name = args.args["name"]
            if name not in self.stack_outputs:
                return {}, [("name", f'unknown stack "{name}"')]
            outputs = {key: value for key, value in self.stack_outputs[name].items() if value is not None}
            return {"name": name, "outputs": outputs, "secretOutputNames": []}
        return super().call(args)


def test_a_missing_primary_stack_is_named_by_its_key():
    own = full_stack_name("dr")
    with pytest.raises(ConfigError) as caught:
        evaluate("dr", mocks=EngineOutputs({own: {}}))
    message = str(caught.value)
    assert message.startswith("codenvy-infra:dr.primaryStack: cannot read the outputs of " + DEV)
    assert "unknown stack" in message


def test_a_standby_reads_a_primary_whose_none_exports_are_absent():
    primary = evaluate("dev").exports
    assert None in primary.values(), "the dev stack exports some None values"
    standby = evaluate("dr", mocks=EngineOutputs({DEV: primary, full_stack_name("dr"): {}}))
    assert standby.exports["version"] == primary["version"]


# --- 14: SSH and the rest ------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", [*STACKS, "sim with limits and audit"])
def test_no_command_asks_the_ssh_server_to_accept_variables(stack):
    evaluation = secret_run()[0] if stack == "sim with limits and audit" else shipped(stack)
    for command in commands(evaluation):
        assert command.inputs.get("addPreviousOutputInEnv") is False, command.name
        if command.type == "command:remote:Command":
            assert "environment" not in command.inputs, command.name


@pytest.mark.parametrize(
    ("options", "key"),
    [
        (["-i", "/root/.ssh/id"], "keyFile"),
        (["-o", "IdentityFile=/root/.ssh/id"], "keyFile"),
        (["-oPort=2222"], "port"),
        (["-l", "admin"], "user"),
    ],
)
def test_ssh_options_the_commands_would_not_follow_are_refused(options, key):
    master = stack_file_config("sim")["codenvy-infra:master"]
    with pytest.raises(ConfigError) as caught:
        evaluate("sim", {"codenvy-infra:master": {**master, "ssh": {"options": options}}})
    message = str(caught.value)
    assert "codenvy-infra:master.ssh.options: " in message and f"set ssh.{key} instead" in message


def with_key_file(tmp_path: Path) -> tuple[Evaluation, Path]:
    key = tmp_path / "id_ed25519"
    key.write_text("-----BEGIN OPENSSH PRIVATE KEY----- file")
    master = stack_file_config("sim")["codenvy-infra:master"]
    return run("sim", {"codenvy-infra:master": {**master, "ssh": {**master["ssh"], "keyFile": str(key)}}}), key


def test_a_key_file_is_the_key_of_the_commands_connection(tmp_path):
    sim, key = with_key_file(tmp_path)
    assert sim.named("codenvy-network-swarm-init").inputs["connection"]["privateKey"] == key.read_text()


def test_a_connection_holding_a_key_file_is_secret(tmp_path):
    sim, _ = with_key_file(tmp_path)
    assert "connection" in sim.named("codenvy-network-swarm-init").secret_inputs


def test_a_key_file_is_the_identity_of_the_docker_providers_ssh(tmp_path):
    sim, key = with_key_file(tmp_path)
    provider = sim.named("codenvy-node1-docker")
    # Provider configuration reaches the engine as JSON text.
    assert json.loads(provider.inputs["sshOpts"])[:2] == ["-i", str(key)]


def test_a_missing_key_file_is_refused_naming_its_key(tmp_path):
    master = stack_file_config("sim")["codenvy-infra:master"]
    missing = str(tmp_path / "nope")
    with pytest.raises(ConfigError, match=r"codenvy-infra:master\.ssh\.keyFile: no file at"):
        evaluate("sim", {"codenvy-infra:master": {**master, "ssh": {**master["ssh"], "keyFile": missing}}})


def test_a_host_key_is_pinned_on_the_commands_connection():
    master = stack_file_config("sim")["codenvy-infra:master"]
    host_key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJb"
    sim = run("sim", {"codenvy-infra:master": {**master, "ssh": {**master["ssh"], "hostKey": host_key}}})
    assert sim.named("codenvy-network-swarm-init").inputs["connection"]["hostKey"] == host_key


def transfer_tool(tmp_path: Path, **dr) -> Registration:
    overrides = {
        "codenvy-infra:backup": {**stack_file_config("dr")["codenvy-infra:backup"], "toolsDirectory": str(tmp_path)},
        "codenvy-infra:dr": {**stack_file_config("dr")["codenvy-infra:dr"], **dr},
    }
    return run("dr", overrides).named("codenvy-dr-dr-transfer-tool")


def test_promotion_removes_the_transfer_tool(tmp_path):
    tool = transfer_tool(tmp_path)
    installed = subprocess.run(shlex.split(tool.inputs["create"]), capture_output=True, text=True, check=False)
    assert installed.returncode == 0, installed.stderr
    path = tmp_path / "codenvy-transfer-codenvy-dr"
    assert path.exists()
    promoted = run("dr", {"codenvy-infra:dr": {**stack_file_config("dr")["codenvy-infra:dr"], "promote": True}})
    assert not [r for r in promoted.resources if "transfer" in r.name], "so the engine deletes it"
    removed = subprocess.run(shlex.split(tool.inputs["delete"]), capture_output=True, text=True, check=False)
    assert removed.returncode == 0, removed.stderr
    assert not path.exists()


def test_a_tool_delete_leaves_a_file_it_did_not_install(tmp_path):
    tool = transfer_tool(tmp_path)
    path = tmp_path / "codenvy-transfer-codenvy-dr"
    path.write_text("#!/bin/sh\necho someone else's\n")
    subprocess.run(shlex.split(tool.inputs["delete"]), capture_output=True, text=True, check=True)
    assert path.exists()


def workflow(name: str) -> dict:
    return yaml.safe_load((PROJECT_DIR / ".github" / "workflows" / f"{name}.yml").read_text())


def up_job() -> dict:
    return workflow("up")["jobs"]["up"]


def test_the_up_workflow_converges_the_stacks_the_team_names():
    stacks = up_job()["strategy"]["matrix"]["stack"]
    assert isinstance(stacks, str) and "vars.CONVERGE_STACKS" in stacks, "not a fixed list such as [dev, dr]"


def test_the_up_workflow_converges_nothing_until_the_team_names_stacks():
    assert "CONVERGE_STACKS" in up_job()["if"]


def test_the_up_workflow_checks_that_no_host_is_the_runner():
    assert any("remote_hosts_only.py" in step.get("run", "") for step in up_job()["steps"])


@pytest.mark.parametrize(("stack", "refused"), [("dev", True), ("dr", True), ("sim", False)])
def test_ci_refuses_to_converge_a_stack_whose_hosts_would_be_the_runner(stack, refused):
    result = subprocess.run(
        [sys.executable, ".github/remote_hosts_only.py", stack],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(PROJECT_DIR)},
    )
    assert result.returncode == (1 if refused else 0), result.stderr
