"""Mocks that stand in for the providers: inputs echoed, the computed outputs the program reads made up."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pulumi.runtime import MockResourceArgs, Mocks

from components.deploy_gates import READ_STACK_OUTPUTS


def fake_image_id(image: str) -> str:
    return "sha256:" + hashlib.sha256(image.encode()).hexdigest()


def _fake(kind: str, name: str) -> str:
    # Derived from the resource's name alone, so every evaluation (in any process) makes up the same value.
    return f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:16]}"


# When mocked certificates are issued: fixed, so every evaluation makes up the same validity.
MOCK_ISSUED = datetime(2026, 1, 1, tzinfo=UTC)

# pulumi-command's local `run` invoke (the engine runs it; mocks only answer it).
LOCAL_RUN = "command:local:run"


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
            # PEM-shaped, as a standby checks its primary's registryCaCert output.
            body = hashlib.sha256(args.name.encode()).hexdigest()
            outputs["certPem"] = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
            hours = timedelta(hours=int(args.inputs["validityPeriodHours"]))
            outputs["validityEndTime"] = (MOCK_ISSUED + hours).isoformat().replace("+00:00", "Z")
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
        if args.token == LOCAL_RUN:
            # Mocks run nothing: the status a standby's program asks for is not known here.
            return {**args.args, "stdout": "replication: unknown: mocks run no command", "stderr": ""}
        return {}
