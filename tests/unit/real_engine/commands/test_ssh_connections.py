"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the SSH
connections they dial with, as pulumi-command and the docker provider follow them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from components.config import ConfigError
from tests.harness import STACKS, Evaluation, evaluate, stack_file_config
from tests.unit.real_engine.commands.fake_host import commands, run, secret_run, shipped


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
