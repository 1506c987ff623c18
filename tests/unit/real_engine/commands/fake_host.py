"""The program evaluated with the join tokens a manager gives, and a host of fake binaries on which its scripts run for
real, every process they start recorded."""

from __future__ import annotations

import functools
import hashlib
import shutil
import stat
import subprocess
from pathlib import Path

from tests.harness import (
    Evaluation,
    FabricatingMocks,
    Registration,
    evaluate,
    primary_as_shipped,
    rerender,
    stack_file_config,
)

COMMANDS = ("command:local:Command", "command:remote:Command")


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
