"""One run of the program: each registration stepped against the old state (create, update, replace, same), as
pulumi/pulumi pkg/resource/deploy/step_generator.go and step.go decide, the reads and invokes answered on the way."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pulumi import get_project, get_stack

from tests.engine import docker_provider
from tests.engine.command_provider import CommandError, CommandProvider, LogLine
from tests.engine.crypto import CERTIFICATE_VALIDITY, real_password, real_tls
from tests.engine.rules import COMMAND_TYPES, DOCKER_TYPES, Diff, diff
from tests.engine.state import Backend, EngineError, ResourceState, Step
from tests.engine.urns import collapse_alias, generate_aliases, registered_urn
from tests.harness import FabricatingMocks, RecordingMonitor, plain
from tests.harness import sdk_internals as sdk
from tests.harness.mocks import LOCAL_RUN
from tests.harness.monitor import holds_secret

if TYPE_CHECKING:
    from tests.engine.engine import Engine


class ProgramRun:
    """The registrations of one program run and the steps they produce."""

    def __init__(self, engine: Engine, preview: bool, base: list[ResourceState]) -> None:
        self.engine = engine
        self.preview = preview
        # The state this run steps from (refreshed or not); an update writes it back as it goes.
        self.resources = list(base)
        # The live copy of each resource; an old copy still waiting for its delete-replaced is not one.
        self.old = {r.urn: r for r in base if not r.delete}
        self.new_state: list[ResourceState] = []
        self.steps: list[Step] = []
        self.operated: set[str] = set()
        # Old resources deleted ahead of a delete-before-replace they depend on: re-registered, they are created.
        self.condemned: set[str] = set()
        self.aliased: dict[str, str] = {}  # an old URN found under an alias -> the URN that claimed it
        self.matched_alias: dict[str, str] = {}  # a URN -> the alias under which its old state was found
        self.failure: Exception | None = None
        self.lock = threading.Lock()
        self.mocks = _ReadMocks(engine.backend, engine.commands, engine.log.append)
        run = self

        class Monitor(RecordingMonitor):
            def RegisterResource(self, request):  # noqa: N802 - the gRPC method name
                if request.type == "pulumi:pulumi:Stack":
                    return super().RegisterResource(request)
                sdk.ensure_event_loop()
                urn = registered_urn(get_stack(), get_project(), request.parent, request.type, request.name)
                outputs, resource_id = run.register(urn, request)
                secret = _secret_outputs(request, outputs)
                serialized = sdk.serialize(_as_secrets(outputs, secret))
                self._record(urn, request, request.object, serialized)
                return sdk.RegisterResourceResponse(urn=urn, id=resource_id, object=serialized)

        self.monitor_class = Monitor

    # --- registrations ---------------------------------------------------------------------------------

    def register(self, urn: str, request) -> tuple[dict[str, Any], str]:
        wire = sdk.deserialize(request.object)
        inputs = {key: plain(value) for key, value in wire.items()}
        secret = frozenset(key for key, value in wire.items() if holds_secret(value))
        with self.lock:
            old = self._old_resource(urn, request)
            self.operated.add(urn)
        new = ResourceState(
            urn=urn,
            type=request.type,
            custom=bool(request.custom),
            inputs=inputs,
            parent=request.parent,
            provider=request.provider,
            dependencies=tuple(request.dependencies),
            property_dependencies={key: tuple(deps.urns) for key, deps in request.propertyDependencies.items()},
            ignore_changes=tuple(request.ignoreChanges),
            replace_on_changes=tuple(request.replaceOnChanges),
            secret_inputs=secret,
            retain_on_delete=bool(request.retainOnDelete),
        )
        if request.type.startswith("pulumi:providers:"):
            self.engine.provider_inputs[urn] = inputs
        if not new.custom:
            self._record(new, Step(urn, "same" if old else "create"))
            return {}, ""
        try:
            return self._step(old, new, request)
        except (CommandError, docker_provider.ProviderError) as error:
            message = f"{urn.rsplit('::', 1)[-1]} ({request.type}): {error}"
            with self.lock:
                self.failure = self.failure or EngineError(message)
            self.engine.log.append(LogLine(urn, "error", message))
            raise EngineError(message) from error

    def _old_resource(self, urn: str, request) -> ResourceState | None:
        """step_generator.go getOldResource: the old state under the URN, else under the first alias that has
        one; that alias is remembered for the children (their aliases inherit it, and only it). Two
        registrations claiming one old resource is an error."""
        project, stack = get_project(), get_stack()
        own = [*request.aliasURNs]
        own += [
            collapse_alias(alias, request.name, request.type, request.parent, self.matched_alias, project, stack)
            for alias in request.aliases
        ]
        parent_alias = self.matched_alias.get(request.parent)
        if urn in self.aliased:
            self._refuse(f"Duplicate resource URN '{urn}': {self.aliased[urn]} already claims it as an alias")
        for candidate in [urn, *generate_aliases(own, request.type, request.name, request.parent, parent_alias)]:
            old = self.old.get(candidate)
            if old is None:
                continue
            if candidate != urn:
                if candidate in self.operated or candidate in self.aliased:
                    self._refuse(f"Duplicate resource alias '{candidate}' applied to resource with URN '{urn}'")
                self.aliased[candidate] = urn
                self.matched_alias[urn] = candidate
            return old
        return None

    def _refuse(self, message: str) -> None:
        self.failure = self.failure or EngineError(message)
        self.engine.log.append(LogLine("", "error", message))
        raise EngineError(message)

    def _step(self, old: ResourceState | None, new: ResourceState, request) -> tuple[dict[str, Any], str]:
        if old is None or old.delete:
            return self._create(new, "create")
        if old.urn in self.condemned:
            # step_generator.go generateSteps ("recreating"): deleted with a dependency's delete-before-replace,
            # it is replaced whatever its own diff says.
            return self._create(new, "replace")
        verdict = diff(
            new.type,
            old.inputs,
            old.outputs,
            _ignoring(new.inputs, old.inputs, request.ignoreChanges),
            ignore_changes=request.ignoreChanges,
            replace_on_changes=request.replaceOnChanges,
            delete_before_replace=bool(request.deleteBeforeReplace),
            now=self.engine.now(),
        )
        if verdict.kind == "same":
            # step_generator.go continueStepsFromDiff: no change but init errors left by the last run is an
            # empty update step. The bridge's Update finds no difference and answers the old state without
            # calling the provider (pulumi-terraform-bridge pkg/tfbridge/provider.go Update, a nil diff), so
            # nothing runs; the new state has no init errors.
            kind = "update" if old.init_errors else "same"
            self._record(replace(new, id=old.id, outputs=old.outputs), Step(new.urn, kind))
            return old.outputs, old.id
        values = {key: (old.outputs.get(key, old.inputs.get(key)), new.inputs.get(key)) for key in verdict.keys}
        if verdict.kind == "update":
            return self._update(old, new, verdict, values)
        return self._replace(old, new, verdict, values)

    def _create(
        self, new: ResourceState, kind: str, keys: tuple[str, ...] = (), values: dict | None = None
    ) -> tuple[dict[str, Any], str]:
        step = Step(new.urn, kind, keys, values or {})
        if self.preview:
            outputs = _unknown_outputs(new)
            self._record(replace(new, outputs=outputs), step)
            return outputs, ""
        try:
            resource_id, outputs = self._provider_create(new)
        except docker_provider.PartialCreateError as partial:
            # step.go CreateStep.Apply: a partial failure is recorded, its InitError reasons with it, and still
            # fails the update.
            self._record(replace(new, id=partial.resource_id, outputs=partial.state, init_errors=(str(partial),)), step)
            raise
        self._record(replace(new, id=resource_id, outputs=outputs), step)
        return outputs, resource_id

    def _update(
        self, old: ResourceState, new: ResourceState, verdict: Diff, values: dict
    ) -> tuple[dict[str, Any], str]:
        step = Step(new.urn, "update", verdict.keys, values)
        if self.preview:
            outputs = {**old.outputs, **_unknown_outputs(new)}
            self._record(replace(new, id=old.id, outputs=outputs), step)
            return outputs, old.id
        if new.type in COMMAND_TYPES:
            # command*.go Update: runs `update` when set, otherwise `create` again.
            operation = "update" if new.inputs.get("update") else "create"
            outputs = self._run_command(new, operation, old.outputs)
        elif new.type in DOCKER_TYPES:
            host = self.engine._docker_host(new.provider)
            outputs = docker_provider.update(host, new.type, old.id, old.outputs, new.inputs)
        else:
            outputs = {**old.outputs, **new.inputs}
        self._record(replace(new, id=old.id, outputs=outputs), step)
        return outputs, old.id

    def _replace(
        self, old: ResourceState, new: ResourceState, verdict: Diff, values: dict
    ) -> tuple[dict[str, Any], str]:
        if verdict.delete_before_replace:
            # step_generator.go continueStepsFromDiff: delete-before-replace deletes the old one first, and
            # before it every dependent that the replacement replaces too, dependents of those first.
            for dependent in reversed(self._dependent_replacements(old)):
                self._delete_ahead(dependent)
            if not self.preview:
                self.engine._delete_one(old)
            self._keep([r for r in self.resources if r is not old])
            return self._create(new, "replace", verdict.keys, values)
        # Create-before-delete: the old copy is deleted with the other deletes, after the program.
        self._keep([replace(r, delete=True) if r is old else r for r in self.resources])
        return self._create(new, "replace", verdict.keys, values)

    def _dependent_replacements(self, root: ResourceState) -> list[ResourceState]:
        """step_generator.go calculateDependentReplacements: the old resources that depend on `root`, directly
        or not (dependencies, property dependencies, provider: graph/dependency_graph.go DependingOn), leaving
        out those already registered in this run; in snapshot order, each one the replacement replaces too:
        its provider is replaced, or its provider's diff replaces it once the inputs that came from a replaced
        resource are unknown."""
        depending, replaced, found = {root.urn}, {root.urn}, []
        with self.lock:
            settled = self.operated | set(self.aliased) | self.condemned
            candidates = [r for r in self.resources if not r.delete and r.urn not in settled]
        for candidate in candidates:
            provider = candidate.provider.rsplit("::", 1)[0] if candidate.provider else ""
            edges = {*candidate.dependencies, *(u for urns in candidate.property_dependencies.values() for u in urns)}
            if not (edges | {provider}) & depending:
                continue
            depending.add(candidate.urn)
            if candidate.custom and (provider in replaced or _replaced_by_unknowns(candidate, replaced)):
                replaced.add(candidate.urn)
                found.append(candidate)
        return found

    def _delete_ahead(self, dependent: ResourceState) -> None:
        """A dependent's delete-replaced step, run before the delete it must precede."""
        with self.lock:
            self.steps.append(Step(dependent.urn, "delete-replaced"))
            self.condemned.add(dependent.urn)
        if not self.preview:
            self.engine._delete_one(dependent)
        self._keep([r for r in self.resources if r is not dependent])

    def _keep(self, resources: list[ResourceState]) -> None:
        """The state as this step leaves it; a preview keeps it to itself."""
        with self.lock:
            self.resources = resources
            if not self.preview:
                self.engine.checkpoint.resources = resources

    def _provider_create(self, new: ResourceState) -> tuple[str, dict[str, Any]]:
        if new.type in COMMAND_TYPES:
            return str(uuid.uuid4()), self._run_command(new, "create", {})
        if new.type in DOCKER_TYPES:
            return docker_provider.create(self.engine._docker_host(new.provider), new.type, new.inputs)
        if new.type.startswith("tls:index/"):
            return str(uuid.uuid4()), {**new.inputs, **real_tls(new.type, new.inputs, self.engine.now())}
        if new.type == "random:index/randomPassword:RandomPassword":
            return "none", {**new.inputs, **real_password(int(new.inputs["length"]))}
        return str(uuid.uuid4()), dict(new.inputs)

    def _run_command(self, new: ResourceState, operation: str, previous: dict[str, Any]) -> dict[str, Any]:
        """The Command's state after `operation`: its inputs and what the run printed."""
        stdout, stderr = self.engine.commands.run(new.urn, new.type, new.inputs, operation, previous)
        return {**new.inputs, "stdout": stdout, "stderr": stderr}

    def _record(self, state: ResourceState, step: Step) -> None:
        with self.lock:
            self.new_state.append(state)
            self.steps.append(step)


class _ReadMocks(FabricatingMocks):
    """Reads and invokes: StackReference and readStackOutputs answered from the backend's checkpoints, and
    pulumi-command's local `run` invoke run for real, in preview as in up."""

    def __init__(self, backend: Backend, commands: CommandProvider, log: Callable[[LogLine], None]) -> None:
        super().__init__()
        self.backend = backend
        self.commands = commands
        self.logger = _program_logger(log)

    def outputs_of_stack(self, name: str) -> dict[str, Any]:
        return self.backend.read_stack_outputs(name)

    def call(self, args):
        # pulumi-command's invoke (provider/pkg/provider/local/run.go): the command runs as a local Command's
        # create does, during every preview and up, and a non-zero exit fails the invoke.
        if args.token == LOCAL_RUN:
            stdout, stderr = self.commands.run_invoke(dict(args.args))
            return {**args.args, "stdout": stdout, "stderr": stderr}
        return super().call(args)


def _program_logger(log: Callable[[LogLine], None]) -> logging.Logger:
    """The program's pulumi.log messages, which the engine shows as diagnostics of the run
    (pkg/engine/events.go DiagEvent), as lines of the engine's log; debug ones only with --debug, so not here."""

    class ToEngineLog(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            log(LogLine("", record.levelname.lower(), record.getMessage()))

    logger = logging.Logger("codenvy-infra program", logging.INFO)
    logger.addHandler(ToEngineLog())
    return logger


def _replaced_by_unknowns(resource: ResourceState, replaced: set[str]) -> bool:
    """Whether the provider's diff replaces `resource` when each input that came from a resource in `replaced`
    is unknown (calculateDependentReplacements, requiresReplacement)."""
    unknown = {key for key, urns in resource.property_dependencies.items() if set(urns) & replaced}
    if not unknown:
        return False
    inputs = {key: sdk.UNKNOWN if key in unknown else value for key, value in resource.inputs.items()}
    verdict = diff(
        resource.type,
        resource.inputs,
        resource.outputs,
        inputs,
        ignore_changes=resource.ignore_changes,
        replace_on_changes=resource.replace_on_changes,
    )
    return verdict.kind == "replace"


def _ignoring(new: dict[str, Any], old: dict[str, Any], paths) -> dict[str, Any]:
    """step_generator.go processIgnoreChanges: the old input's value stands in for each ignored path."""
    result = dict(new)
    for path in paths:
        key = path.split(".")[0].split("[")[0]
        if key in old:
            result[key] = old[key]
        else:
            result.pop(key, None)
    return result


# What each provider computes, unknown in a preview until the step runs.
COMPUTED_OUTPUTS = {
    "command:local:Command": ("stdout", "stderr"),
    "command:remote:Command": ("stdout", "stderr"),
    "docker:index/remoteImage:RemoteImage": ("imageId", "repoDigest"),
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "publicKeyPem", "publicKeyOpenssh"),
    "tls:index/selfSignedCert:SelfSignedCert": ("certPem", *CERTIFICATE_VALIDITY),
    "tls:index/certRequest:CertRequest": ("certRequestPem",),
    "tls:index/locallySignedCert:LocallySignedCert": ("certPem", *CERTIFICATE_VALIDITY),
    "random:index/randomPassword:RandomPassword": ("result", "bcryptHash"),
}


def _unknown_outputs(new: ResourceState) -> dict[str, Any]:
    """In a preview, what the provider would compute is not known yet."""
    return {**new.inputs, **dict.fromkeys(COMPUTED_OUTPUTS.get(new.type, ()), sdk.UNKNOWN)}


def _secret_outputs(request, outputs: Mapping[str, Any]) -> frozenset[str]:
    """step_executor.go (after each step): the outputs listed in additionalSecretOutputs (the provider SDKs
    list what their provider marks secret: a password's result, a private key, a remote Command's
    connection) and every output whose input of the same name was secret are secret."""
    inputs = sdk.deserialize(request.object)
    secret_inputs = {key for key, value in inputs.items() if holds_secret(value)}
    return frozenset(key for key in outputs if key in secret_inputs or key in request.additionalSecretOutputs)


def _as_secrets(outputs: Mapping[str, Any], keys: frozenset[str]) -> dict[str, Any]:
    """The outputs as the wire carries them, the secret ones wrapped as secrets."""
    return {key: sdk.wrap_secret(value) if key in keys else value for key, value in outputs.items()}
