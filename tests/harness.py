"""Evaluate the real program (__main__.py) for a stack file under Pulumi mocks and record what it registers."""

from __future__ import annotations

import asyncio
import hashlib
import runpy
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pulumi
import yaml
from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks

from components.config import SiteConfig
from components.config_loader import as_pulumi_value, load_stack_file
from components.deploy_gates import READ_STACK_OUTPUTS

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT = "codenvy-infra"
STACKS = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in PROJECT_DIR.glob("Pulumi.*.yaml"))


@dataclass(frozen=True)
class Registration:
    urn: str
    type: str
    name: str
    parent: str
    provider: str
    dependencies: tuple[str, ...]
    inputs: dict[str, Any]
    secret_inputs: frozenset[str]
    # The state the engine would hold after the step (the mocks echo inputs plus computed outputs).
    outputs: dict[str, Any] = field(default_factory=dict)

    @property
    def parent_type(self) -> str:
        return self.parent.split("::")[2].split("$")[-1] if self.parent else ""


@dataclass
class Evaluation:
    resources: list[Registration] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)

    def of_type(self, type_token: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_token]

    def named(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"expected one resource named {name}, found {len(matches)}"
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)


def script_of(registration: Registration, key: str = "create") -> str:
    """The script a Command runs, out of its `bash -c '…'` wrapper."""
    argv = shlex.split(registration.inputs[key])
    assert argv[:2] == ["bash", "-c"], argv[:2]
    return argv[2]


def fake_image_id(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _fake(kind: str, name: str) -> str:
    return f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


class FabricatingMocks(Mocks):
    """Echo inputs and make up only the computed outputs the program reads, by exact type token.
    `stack_outputs` answers the engine's readStackOutputs by stack name; other stacks have no outputs
    yet, as a stack that was never deployed."""

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.stack_outputs = dict(stack_outputs or {})

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict]:
        outputs = dict(args.inputs)
        if args.typ == "docker:index/remoteImage:RemoteImage":
            outputs["imageId"] = fake_image_id(args.inputs["name"])
        elif args.typ in ("command:local:Command", "command:remote:Command"):
            if args.name.endswith("-swarm-init"):
                outputs["stdout"] = _fake("SWMTKN-1", args.name) + "\n"
            elif args.name.endswith("-swarm-join"):
                outputs["stdout"] = _fake("node", args.name) + "\n"
            else:
                outputs["stdout"] = ""
        elif args.typ == "tls:index/privateKey:PrivateKey":
            outputs["privateKeyPem"] = _fake("KEY", args.name)
        elif args.typ in ("tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"):
            outputs["certPem"] = _fake("CERT", args.name)
        elif args.typ == "tls:index/certRequest:CertRequest":
            outputs["certRequestPem"] = _fake("CSR", args.name)
        elif args.typ == "pulumi:pulumi:StackReference":
            name = args.inputs["name"]
            outputs.update(name=name, outputs=self.outputs_of_stack(name), secretOutputNames=[])
        elif args.typ == "random:index/randomPassword:RandomPassword":
            outputs["result"] = _fake("password", args.name)
            outputs["bcryptHash"] = _fake("$2a$10$", args.name)
        return f"{args.name}-id", outputs

    def outputs_of_stack(self, name: str) -> dict[str, Any]:
        """What readStackOutputs and a StackReference answer for the stack `name`."""
        return dict(self.stack_outputs.get(name, {}))

    def call(self, args):
        if args.token == READ_STACK_OUTPUTS:
            name = args.args["name"]
            return {"name": name, "outputs": self.outputs_of_stack(name), "secretOutputNames": []}
        return {}


class RecordingMonitor(MockMonitor):
    """The SDK's mock monitor, keeping each registration's parent, provider and dependencies too."""

    def __init__(self, mocks: Mocks, registrations: list[Registration]) -> None:
        super().__init__(mocks)
        self.registrations = registrations

    def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(response.urn, request, request.object, response.object)
        return response

    def ReadResource(self, request):  # noqa: N802 - the gRPC method name (StackReference is a read)
        response = super().ReadResource(request)
        self._record(response.urn, request, request.properties, response.properties)
        return response

    def _record(self, urn: str, request, properties, state) -> None:
        inputs = rpc.deserialize_properties(properties)
        wire = json_format.MessageToDict(properties)
        self.registrations.append(
            Registration(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent,
                provider=request.provider,
                dependencies=tuple(request.dependencies),
                inputs={key: plain(value) for key, value in inputs.items()},
                secret_inputs=frozenset(key for key, value in wire.items() if _holds_secret(value)),
                outputs={key: plain(value) for key, value in rpc.deserialize_properties(state).items()},
            )
        )


def _is_secret_envelope(value: Any) -> bool:
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _holds_secret(value: Any) -> bool:
    if _is_secret_envelope(value):
        return True
    if isinstance(value, dict):
        return any(_holds_secret(item) for item in value.values())
    if isinstance(value, list):
        return any(_holds_secret(item) for item in value)
    return False


def plain(value: Any) -> Any:
    """The value with every secret envelope opened, so tests can read what the program sent."""
    if _is_secret_envelope(value):
        return plain(value["value"])
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def stack_file_config(stack: str) -> dict[str, Any]:
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}
    return dict(document.get("config") or {})


def site_config(stack: str) -> SiteConfig:
    """The validated config of a shipped stack file, as the program sees it."""
    return load_stack_file(PROJECT_DIR / f"Pulumi.{stack}.yaml")


def evaluate(
    stack: str = "dev",
    overrides: dict[str, Any] | None = None,
    *,
    without: tuple[str, ...] = (),
    secret_keys: tuple[str, ...] = (),
    preview: bool = False,
    into: Evaluation | None = None,
    mocks: Mocks | None = None,
    monitor_class: type[RecordingMonitor] | None = None,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    stack_name: str | None = None,
) -> Evaluation:
    """Run __main__.py for `stack`'s file (plus `overrides`, less the keys in `without`) against `mocks`
    (made-up outputs by default; a caller's mocks bring their own stack outputs), recording into `into`
    (a fresh Evaluation by default) so a caller still sees what was registered when it raises.
    `stack_outputs` are the other stacks' last outputs (this stack's own under its full name); by
    default a standby's primary, when it is a shipped stack, is evaluated first for its real exports.
    `stack_name` names the stack when it is not the file's (a second stack from the same file)."""
    config = {**stack_file_config(stack), **(overrides or {})}
    for key in without:
        config.pop(key, None)
    if stack_outputs is None:
        stack_outputs = _shipped_primary_outputs(config)

    def run_main() -> None:
        runpy.run_path(str(PROJECT_DIR / "__main__.py"), run_name="__main__")

    return run_under_mocks(
        run_main,
        stack=stack_name or stack,
        config=config,
        secret_keys=secret_keys,
        preview=preview,
        mocks=mocks or FabricatingMocks(stack_outputs),
        monitor_class=monitor_class,
        into=into,
    )


def run_under_mocks(
    program: Callable[[], None],
    *,
    stack: str,
    config: Mapping[str, Any],
    secret_keys: tuple[str, ...] = (),
    preview: bool = False,
    mocks: Mocks | None = None,
    monitor_class: type[RecordingMonitor] | None = None,
    into: Evaluation | None = None,
) -> Evaluation:
    """Run `program` as a Pulumi program of this project under mocks, recording what it registers and
    exports; `monitor_class` stands in for the engine (the recording mock monitor by default)."""
    evaluation = Evaluation() if into is None else into
    mocks = mocks or FabricatingMocks()
    monitor = (monitor_class or RecordingMonitor)(mocks, evaluation.resources)
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor)
    pulumi.runtime.set_all_config({k: as_pulumi_value(v) for k, v in config.items()}, list(secret_keys))
    exported: dict[str, Any] = {}

    @pulumi.runtime.test
    def run_program():
        with mock.patch.object(pulumi, "export", exported.__setitem__):
            program()
        outputs = {key: pulumi.Output.from_input(value) for key, value in exported.items()}
        secrets = pulumi.Output.all(*[pulumi.Output.from_input(output.is_secret()) for output in outputs.values()])
        return pulumi.Output.all(pulumi.Output.all(**outputs), secrets).apply(_record(evaluation, list(outputs)))

    _quiet_abandoned_failures()
    run_program()
    return evaluation


def evaluate_function(program: Callable[[], None]) -> int:
    """Run a bare program under the same mocks as `evaluate`; returns how many resources it registered."""
    return len(run_under_mocks(program, stack="sim", config={}).resources)


def full_stack_name(stack: str) -> str:
    return f"organization/{PROJECT}/{stack}"


def _shipped_primary_outputs(config: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    dr = config.get(f"{PROJECT}:dr")
    primary = dr.get("primaryStack") if isinstance(dr, dict) else None
    for stack in STACKS:
        if primary == full_stack_name(stack):
            return {primary: evaluate(stack).exports}
    return {}


def _quiet_abandoned_failures() -> None:
    """When a resource fails, the Outputs that waited on it are dropped unread and asyncio would log each
    one at garbage collection; the failure itself is raised to the caller, so that log is only noise."""
    loop = asyncio.get_event_loop()

    def handle(loop, context):
        if "exception was never retrieved" not in context.get("message", ""):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def _record(evaluation: Evaluation, keys: list[str]):
    def record(resolved):
        values, secret_flags = resolved
        evaluation.exports.update(values)
        evaluation.secret_exports.update(key for key, secret in zip(keys, secret_flags, strict=True) if secret)

    return record
