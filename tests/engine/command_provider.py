"""pulumi-command 1.2.1's create, update and delete: the script runs on its host (locally, or over SSH with
only what the provider honours), its lines go to the engine's log, and a failure reads as the provider's.

Mirrors pulumi/pulumi-command provider/pkg/provider/{local,remote}/*.go and common/run.go."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REMOTE = "command:remote:Command"
TIMEOUT = 600


class CommandError(Exception):
    """A script exited non-zero; the message is what the engine would show."""


@dataclass
class LogLine:
    urn: str
    severity: str
    text: str


@dataclass
class CommandProvider:
    """Runs Commands; `local_argv` prefixes local commands (the lane runs them inside a simulated host)."""

    log: Callable[[LogLine], None]
    local_argv: tuple[str, ...] = ()
    local_cwd: Path | None = None
    agent_socket: str | None = None

    def run(self, urn: str, resource_type: str, inputs: dict[str, Any], operation: str, previous: dict[str, Any]):
        """Runs `inputs[operation]` ("create", "update" or "delete"); returns (stdout, stderr). An unset
        command is a success that runs nothing (commandController.go)."""
        command = inputs.get(operation)
        if not command:
            return "", ""
        # local/commandOutputs.go, remote/commandOutputs.go: update and delete see the previous run's output
        # when addPreviousOutputInEnv (default true), and only the non-empty parts of it.
        previous_env = {}
        if operation != "create" and inputs.get("addPreviousOutputInEnv", True) is not False:
            previous_env = {
                f"PULUMI_COMMAND_{key.upper()}": previous[key] for key in ("stdout", "stderr") if previous.get(key)
            }
        environment = dict(inputs.get("environment") or {})
        if resource_type == REMOTE:
            argv = self._ssh_argv(urn, inputs["connection"], command, environment, previous_env)
            env = dict(os.environ)
            if self.agent_socket:
                env["SSH_AUTH_SOCK"] = self.agent_socket
        else:
            argv = [*self.local_argv, "/bin/sh", "-c", command]
            env = {**os.environ, **environment, **previous_env}
        try:
            result = subprocess.run(
                argv, input=inputs.get("stdin") or "", capture_output=True, text=True, timeout=TIMEOUT,
                cwd=self.local_cwd, env=env, check=False,
            )  # fmt: skip
        finally:
            _remove_key_file(argv)
        self._log_output(urn, inputs.get("logging") or "stdoutAndStderr", result.stdout, result.stderr)
        if result.returncode != 0:
            # commandOutputs.go run: the error names the exit status, quotes the whole command, then its output.
            raise CommandError(
                f"Process exited with status {result.returncode}: running {json.dumps(command)}:\n"
                f"{result.stdout}{result.stderr}"
            )
        return result.stdout.removesuffix("\n"), result.stderr.removesuffix("\n")

    def run_invoke(self, inputs: dict[str, Any]) -> tuple[str, str]:
        """The local `run` invoke: the command runs as a local Command's create, where Pulumi runs, whose
        ssh-agent (SSH_AUTH_SOCK) its ssh(1) uses."""
        environment = {
            **(inputs.get("environment") or {}),
            **({"SSH_AUTH_SOCK": self.agent_socket} if self.agent_socket else {}),
        }
        return self.run(
            "invoke",
            "command:local:Command",
            {"create": inputs["command"], "environment": environment, "logging": inputs.get("logging")},
            "create",
            {},
        )

    def _log_output(self, urn: str, logging: str, stdout: str, stderr: str) -> None:
        # util/util.go LogOutput: each line is streamed to the engine as it is printed (an ephemeral status
        # line), as `logging` chooses (local/logging.go, remote/logging.go; unset means both).
        if logging in ("stdout", "stdoutAndStderr"):
            for line in stdout.splitlines():
                self.log(LogLine(urn, "info", line))
        if logging in ("stderr", "stdoutAndStderr"):
            for line in stderr.splitlines():
                self.log(LogLine(urn, "info", line))

    def _ssh_argv(
        self, urn: str, connection: dict[str, Any], command: str, environment: dict[str, str], previous: dict[str, str]
    ) -> list[str]:
        # remote/commandOutputs.go logAndWrapSetenvErr: variables go through session.Setenv, which an sshd
        # without AcceptEnv (the simulated hosts') refuses: an error for `environment`, a warning for the
        # previous output.
        if environment:
            raise CommandError(f"could not set environment variable {sorted(environment)[0]!r}: ssh: setenv failed")
        for name in sorted(previous):
            self.log(LogLine(urn, "warning", f"Unable to set '{name}'. This only works if your SSH server is "
                             "configured to accept these variables via AcceptEnv."))  # fmt: skip
        # remote/connection.go SSHConfig: only privateKey (or password) and the ssh-agent authenticate, never
        # ~/.ssh/config or default identities; the host key is checked only when `hostKey` is set.
        argv = ["ssh", "-p", str(int(connection.get("port") or 22)), "-o", "BatchMode=yes", "-o", "LogLevel=ERROR",
                "-o", "ConnectTimeout=15", "-F", "/dev/null"]  # fmt: skip
        if connection.get("privateKey"):
            argv += ["-i", _key_file(connection["privateKey"]), "-o", "IdentitiesOnly=yes"]
        if not self.agent_socket:
            argv += ["-o", "IdentityAgent=none"]
        if connection.get("hostKey"):
            argv += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={_known_hosts(connection)}"]
        else:
            argv += ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"]
        return [*argv, f"{connection.get('user') or 'root'}@{connection['host']}", command]


KEY_PREFIX = "engine-ssh-key-"
KNOWN_HOSTS_PREFIX = "engine-known-hosts-"


def _key_file(private_key: str) -> str:
    handle, path = tempfile.mkstemp(prefix=KEY_PREFIX)
    with os.fdopen(handle, "w") as stream:
        stream.write(private_key if private_key.endswith("\n") else private_key + "\n")
    return path


def _known_hosts(connection: dict[str, Any]) -> str:
    handle, path = tempfile.mkstemp(prefix=KNOWN_HOSTS_PREFIX)
    port = int(connection.get("port") or 22)
    host = connection["host"] if port == 22 else f"[{connection['host']}]:{port}"
    with os.fdopen(handle, "w") as stream:
        stream.write(f"{host} {connection['hostKey'].strip()}\n")
    return path


def _remove_key_file(argv: list[str]) -> None:
    for item in argv:
        if Path(item).name.startswith((KEY_PREFIX, KNOWN_HOSTS_PREFIX)):
            Path(item).unlink(missing_ok=True)
        elif item.startswith("UserKnownHostsFile=") and KNOWN_HOSTS_PREFIX in item:
            Path(item.split("=", 1)[1]).unlink(missing_ok=True)
