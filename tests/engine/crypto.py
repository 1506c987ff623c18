"""A small stand-in for the Pulumi engine: the real program's Commands run for real on the simulated
cluster over SSH, in the order its dependencies give; TLS material and passwords are real too."""

from __future__ import annotations

import io
import secrets
import subprocess
import tarfile
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi.runtime.mocks import MockResourceArgs

from tests.harness import FabricatingMocks, Registration, plain

COMMAND_TYPES = ("command:local:Command", "command:remote:Command")
SSH_TIMEOUT = 240


@dataclass(frozen=True)
class Node:
    name: str
    address: str
    docker_host: str
    key_file: str

    def ssh_argv(self, command: str) -> list[str]:
        return [
            "ssh", "-i", self.key_file, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
            "-o", "LogLevel=ERROR", "-o", "BatchMode=yes", "-o", "ConnectTimeout=5",
            f"root@{self.address}", command,
        ]  # fmt: skip

    def ssh(self, command: str, check: bool = True, stdin: str | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.ssh_argv(command), input=stdin, capture_output=True, text=True, timeout=SSH_TIMEOUT
        )
        if check and result.returncode != 0:
            raise AssertionError(f"on {self.name}: {command[:120]!r} failed: {result.stderr.strip()}")
        return result

    def docker(self, *args: str, check: bool = True, stdin: str | bytes | None = None) -> subprocess.CompletedProcess:
        text = not isinstance(stdin, bytes)
        result = subprocess.run(
            ["docker", "-H", self.docker_host, *args], input=stdin, capture_output=True, text=text, timeout=300
        )
        if check and result.returncode != 0:
            raise AssertionError(f"docker on {self.name}: {' '.join(args)} failed: {result.stderr!s}")
        return result


@dataclass(frozen=True)
class CommandRun:
    resource: str
    host: str
    stdout: str
    stderr: str


class CommandError(Exception):
    """A Command's script failed on its host, as `pulumi up` would report it."""


class LiveMocks(FabricatingMocks):
    """Docker resources stay recorded only (no image can be pulled here); Commands really run, every time,
    so a second converge re-runs every script. Keys, certificates and passwords live in `state`, as in a
    stack's state, and are made once per resource name."""

    def __init__(
        self, nodes: list[Node], state: dict[str, dict], stack_outputs: Mapping[str, Mapping[str, Any]] | None = None
    ) -> None:
        super().__init__(stack_outputs)
        self.nodes = {node.address: node for node in nodes}
        self.state = state
        self.runs: list[CommandRun] = []
        self._lock = threading.Lock()

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        resource_id, outputs = super().new_resource(args)
        inputs = plain(args.inputs)
        if args.typ in COMMAND_TYPES:
            outputs.update(self._run_command(args.name, inputs))
        elif args.typ.startswith("tls:index/"):
            outputs.update(self._kept(args.name, lambda: real_tls(args.typ, inputs)))
        elif args.typ == "random:index/randomPassword:RandomPassword":
            outputs.update(self._kept(args.name, lambda: real_password(int(inputs["length"]))))
        return resource_id, outputs

    def _kept(self, name: str, make) -> dict:
        with self._lock:
            if name not in self.state:
                self.state[name] = make()
            return self.state[name]

    def _run_command(self, name: str, inputs: dict) -> dict:
        node = self.nodes[inputs["connection"]["host"]]
        result = node.ssh(inputs["create"], check=False)
        with self._lock:
            self.runs.append(CommandRun(name, node.name, result.stdout, result.stderr))
        if result.returncode != 0:
            raise CommandError(f"{name} on {node.name} exited {result.returncode}: {result.stderr.strip()}")
        return {"stdout": result.stdout, "stderr": result.stderr}

    def output_of(self, resource_suffix: str) -> CommandRun:
        matches = [run for run in self.runs if run.resource.endswith(resource_suffix)]
        assert len(matches) == 1, f"expected one run of *{resource_suffix}, got {len(matches)}"
        return matches[0]


def apply_container(node: Node, registration: Registration, image: str, command: tuple[str, ...] = ()) -> None:
    """Create and start a container the program registered, as the docker provider would, on `image`
    (a local stand-in for the pinned public image no registry here can serve): name, env, ports,
    volumes, memory, restart policy and uploaded files as registered."""
    inputs = registration.inputs
    args = ["create", "--name", inputs["name"], "--memory", f"{int(inputs['memory'])}m"]
    args += ["--restart", f"{inputs['restart']}:{int(inputs['maxRetryCount'])}"]
    for env in inputs.get("envs", []):
        args += ["-e", env]
    for port in inputs.get("ports", []):
        args += ["-p", f"{int(port['external'])}:{int(port['internal'])}"]
    for volume in inputs.get("volumes", []):
        args += ["-v", f"{volume['volumeName']}:{volume['containerPath']}"]
    node.docker(*args, image, *command)
    for upload in inputs.get("uploads", []):
        node.docker("cp", "-", f"{inputs['name']}:/", stdin=_tar_of(upload["file"], upload["content"]))
    if inputs.get("start", True):
        node.docker("start", inputs["name"])


def _tar_of(path: str, content: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        data = content.encode()
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode = len(data), 0o644
        archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def run_delete(registration: Registration, nodes: list[Node]) -> subprocess.CompletedProcess:
    """What `pulumi up` runs when a Command leaves the program: its delete script, on its host."""
    node = next(n for n in nodes if n.address == registration.inputs["connection"]["host"])
    return node.ssh(registration.inputs["delete"])


# --- real TLS and passwords ----------------------------------------------------------------------


def _openssl(*args: str, stdin: str | None = None) -> str:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, check=True).stdout


def _subject(inputs: dict) -> str:
    subject = inputs.get("subject") or {}
    parts = [("CN", subject.get("commonName")), ("O", subject.get("organization"))]
    return "".join(f"/{key}={value}" for key, value in parts if value) or "/CN=unnamed"


def real_tls(resource_type: str, inputs: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if resource_type == "tls:index/privateKey:PrivateKey":
            return {"privateKeyPem": _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256")}
        (work / "key.pem").write_text(inputs.get("privateKeyPem", ""))
        days = str(max(1, int(inputs.get("validityPeriodHours", 24)) // 24))
        if resource_type == "tls:index/selfSignedCert:SelfSignedCert":
            extensions = [
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign,cRLSign",
            ]
            cert = _openssl("req", "-x509", "-new", "-key", str(work / "key.pem"), "-subj", _subject(inputs),
                            "-days", days, *extensions)  # fmt: skip
            return {"certPem": cert}
        if resource_type == "tls:index/certRequest:CertRequest":
            names = [f"IP:{ip}" for ip in inputs.get("ipAddresses", [])] + [
                f"DNS:{dns}" for dns in inputs.get("dnsNames", [])
            ]
            san = ["-addext", "subjectAltName=" + ",".join(names)] if names else []
            return {
                "certRequestPem": _openssl(
                    "req", "-new", "-key", str(work / "key.pem"), "-subj", _subject(inputs), *san
                )
            }
        if resource_type == "tls:index/locallySignedCert:LocallySignedCert":
            (work / "csr.pem").write_text(inputs["certRequestPem"])
            (work / "ca.pem").write_text(inputs["caCertPem"])
            (work / "ca-key.pem").write_text(inputs["caPrivateKeyPem"])
            (work / "ext.cnf").write_text("extendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n")
            cert = _openssl("x509", "-req", "-in", str(work / "csr.pem"), "-CA", str(work / "ca.pem"),
                            "-CAkey", str(work / "ca-key.pem"), "-CAcreateserial", "-days", days,
                            "-copy_extensions", "copy", "-extfile", str(work / "ext.cnf"))  # fmt: skip
            return {"certPem": cert}
    raise AssertionError(f"no real TLS stand-in for {resource_type}")


def real_password(length: int) -> dict:
    password = secrets.token_urlsafe(length)[:length]
    line = subprocess.run(["htpasswd", "-nbB", "user", password], capture_output=True, text=True, check=True).stdout
    return {"result": password, "bcryptHash": line.strip().split(":", 1)[1]}
