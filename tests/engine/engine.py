"""The stand-in engine: a stack's state kept across runs of the real program, and `up`, `preview`,
`refresh` and `destroy` computed the way pulumi/pulumi pkg/resource/deploy computes them."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import yaml
from pulumi import get_project, get_stack

from components.deploy_gates import READ_STACK_OUTPUTS
from tests.engine import docker_provider
from tests.engine.command_provider import CommandError, CommandProvider, LogLine
from tests.engine.crypto import CERTIFICATE_VALIDITY, real_password, real_tls
from tests.engine.rules import COMMAND_TYPES, DOCKER_TYPES, Diff, deletion_order, diff
from tests.engine.urns import collapse_alias, generate_aliases, registered_urn
from tests.harness import (
    Evaluation,
    FabricatingMocks,
    RecordingMonitor,
    evaluate,
    full_stack_name,
    plain,
    run_under_mocks,
)
from tests.harness import sdk_internals as sdk
from tests.harness.mocks import LOCAL_RUN
from tests.harness.monitor import holds_secret
from tests.harness.stacks import PROJECT_DIR


class EngineError(Exception):
    """`pulumi up` failed; `str()` is what the engine would print."""


@dataclass
class ResourceState:
    """One resource of a checkpoint, as pkg/resource/state.go keeps it."""

    urn: str
    type: str
    custom: bool
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    parent: str = ""
    provider: str = ""
    dependencies: tuple[str, ...] = ()
    # Which resources each input's value came from (the SDK's propertyDependencies).
    property_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    secret_inputs: frozenset[str] = frozenset()
    retain_on_delete: bool = False
    delete: bool = False  # an old copy waiting for its delete after a create-before-delete replacement
    # Why the provider's create or update half failed (step.go: a partial failure's InitError reasons): the
    # resource exists and is in the state, and the next update steps it even when nothing changed.
    init_errors: tuple[str, ...] = ()

    @property
    def edges(self) -> tuple[str, ...]:
        provider = (self.provider.rsplit("::", 1)[0],) if self.provider else ()
        return (*self.dependencies, *((self.parent,) if self.parent else ()), *provider)


@dataclass
class Step:
    urn: str
    kind: str
    keys: tuple[str, ...] = ()
    # What `pulumi preview --diff` shows for each changed key: (the state's value, the program's).
    values: dict[str, tuple[Any, Any]] = field(default_factory=dict, compare=False, repr=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.urn.rsplit('::', 1)[-1]}" + (f" [{', '.join(self.keys)}]" if self.keys else "")

    def diff(self) -> str:
        return "\n".join(f"{self}: {key}: {old!r} => {new!r}" for key, (old, new) in self.values.items())

    @property
    def type(self) -> str:
        """The resource's type token, the last part of the URN's type path."""
        return self.urn.split("::")[2].split("$")[-1]


@dataclass
class Checkpoint:
    """A stack's state: resources in dependency order, and its outputs."""

    resources: list[ResourceState] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def by_urn(self) -> dict[str, ResourceState]:
        return {resource.urn: resource for resource in self.resources}


@dataclass
class Result:
    steps: list[Step]
    evaluation: Evaluation
    # The refresh that ran first (`--refresh`, or the project's `options.refresh: always`), kept apart.
    refreshed: list[Step] = field(default_factory=list)

    def changes(self) -> list[Step]:
        return [step for step in self.steps if step.kind != "same"]

    def diff(self) -> list[str]:
        """Each change with its values, as `pulumi preview --diff` lists them; empty when nothing changes."""
        return [step.diff() or str(step) for step in self.changes()]


@dataclass
class Backend:
    """Every stack's checkpoint, as a file backend keeps them; answers readStackOutputs."""

    stacks: dict[str, Checkpoint] = field(default_factory=dict)

    def read_stack_outputs(self, name: str) -> dict[str, Any]:
        # pkg/backend/backend.go GetStackOutputs: a stack without a checkpoint is an error.
        if name not in self.stacks:
            raise EngineError(f'invocation of {READ_STACK_OUTPUTS} returned an error: unknown stack "{name}"')
        return dict(self.stacks[name].outputs)


DockerHosts = Callable[[Mapping[str, Any]], docker_provider.DockerHost]


class Engine:
    """One stack of the project on real hosts. `docker_hosts` maps a docker.Provider's inputs to the engine
    it reaches; `commands` runs Commands."""

    def __init__(
        self,
        stack: str,
        backend: Backend,
        docker_hosts: DockerHosts,
        commands: CommandProvider,
        stack_file: str = "",
        program: Callable[[], None] | None = None,
    ) -> None:
        """`program` runs instead of the project's __main__.py with the stack file's config (engine tests)."""
        # The tls provider's clock (terraform-provider-tls internal/provider/common.go overridableTimeFunc,
        # which its own tests override too): what issues certificates and decides when they are renewed.
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.stack = stack
        self.stack_file = stack_file or stack
        self.program = program
        self.backend = backend
        self.docker_hosts = docker_hosts
        self.commands = commands
        self.log: list[LogLine] = []
        self.provider_inputs: dict[str, dict[str, Any]] = {}
        commands.log = self.log.append
        backend.stacks.setdefault(full_stack_name(stack), Checkpoint())
        self.refresh_always = project_refreshes_always()

    @property
    def checkpoint(self) -> Checkpoint:
        return self.backend.stacks[full_stack_name(self.stack)]

    def up(self, overrides: Mapping[str, Any] | None = None, *, refresh: bool | None = None, **options) -> Result:
        """`pulumi up`; `refresh` is its `--refresh[=false]` flag, unset meaning the project's option."""
        return self._run(overrides or {}, preview=False, refresh=self._refreshes(refresh), **options)

    def preview(self, overrides: Mapping[str, Any] | None = None, *, refresh: bool | None = None, **options) -> Result:
        return self._run(overrides or {}, preview=True, refresh=self._refreshes(refresh), **options)

    def refresh(self) -> list[Step]:
        """`pulumi refresh`: every resource read back, the state replaced by what the providers read."""
        steps, self.checkpoint.resources = self._refreshed()
        return steps

    def destroy(self, *, refresh: bool | None = None) -> list[Step]:
        """Every resource deleted in reverse dependency order; retained ones only leave the state."""
        if self._refreshes(refresh):
            self.refresh()
        doomed = {resource.urn: resource for resource in self.checkpoint.resources}
        steps = self._delete(doomed, preview=False)
        self.checkpoint.outputs = {}
        return steps

    def _refreshes(self, flag: bool | None) -> bool:
        # pkg/cmd/pulumi/operations/io.go getRefreshOption: an explicit --refresh[=bool] wins, else the
        # project's `options.refresh: always`, else no refresh (up.go, preview.go and destroy.go all ask it).
        return self.refresh_always if flag is None else flag

    def _refreshed(self) -> tuple[list[Step], list[ResourceState]]:
        """pkg/resource/deploy/step.go RefreshStep, for each resource of the checkpoint (in parallel, as the
        step executor runs them): its provider's Read replaces its outputs, a resource the provider no longer
        finds leaves the state, and the init errors the bridge's Read does not report are gone. A Read that
        cannot reach its host fails the operation. Commands, keys and passwords read back as they are."""
        resources = self.checkpoint.resources
        with ThreadPoolExecutor(max_workers=8) as pool:
            reads = list(pool.map(self._read_back, resources))
        steps, kept = [], []
        for resource, read in zip(resources, reads, strict=True):
            if read is None:
                steps.append(Step(resource.urn, "delete"))
                continue
            changed = {
                key: (resource.outputs.get(key), read.get(key))
                for key in read
                if read[key] != resource.outputs.get(key)
            }
            steps.append(Step(resource.urn, "update" if changed else "same", tuple(changed), changed))
            kept.append(replace(resource, outputs=read, init_errors=()))
        return steps, kept

    def _read_back(self, resource: ResourceState) -> dict[str, Any] | None:
        if resource.type not in DOCKER_TYPES or resource.delete:
            return resource.outputs
        host = self._docker_host(resource.provider)
        try:
            return docker_provider.read(host, resource.type, resource.id, resource.outputs)
        except docker_provider.ProviderError as error:
            raise EngineError(f"refreshing {resource.urn}: {error}") from error

    # --- one run of the program ------------------------------------------------------------------------

    def _run(self, overrides: Mapping[str, Any], *, preview: bool, refresh: bool, **options) -> Result:
        # deployment_executor.go Execute: the refresh runs before the program, on the base checkpoint in
        # memory; an update keeps what it read, a preview only steps from it.
        refreshed, base = self._refreshed() if refresh else ([], self.checkpoint.resources)
        if not preview:
            self.checkpoint.resources = base
        run = _Run(self, preview, base)
        evaluation = Evaluation()
        failure: Exception | None = None
        try:
            common = {"mocks": run.mocks, "monitor_class": run.monitor_class, "into": evaluation, "preview": preview}
            if self.program is None:
                evaluate(self.stack_file, dict(overrides), stack_name=self.stack, **common, **options)
            else:
                run_under_mocks(self.program, stack=self.stack, config=overrides, **common)
        except Exception as error:
            failure = error
        if run.failure is not None or failure is not None:
            if not preview:
                self._finish_failed(run, evaluation)
            if run.failure is None:  # a step's failure is in the log already
                self.log.append(LogLine("", "error", str(failure)))
            raise EngineError(str(run.failure or failure)) from failure
        doomed = {
            resource.urn: resource
            for resource in run.resources
            if resource.delete or (resource.urn not in run.operated and resource.urn not in run.aliased)
        }
        if preview:
            return Result([*run.steps, *self._delete(doomed, preview=True)], evaluation, refreshed)
        self.checkpoint.resources = [*run.new_state, *doomed.values()]
        try:
            steps = self._delete(doomed, preview=False)
        except EngineError:
            self.checkpoint.outputs = {**self.checkpoint.outputs, **evaluation.exports}
            raise
        # pkg/resource/deploy/deployment_executor.go: a successful update replaces the stack's outputs.
        self.checkpoint.outputs = dict(evaluation.exports)
        return Result([*run.steps, *steps], evaluation, refreshed)

    def _finish_failed(self, run: _Run, evaluation: Evaluation) -> None:
        """A failed update keeps the old state of what did not finish, the new state of what did, and the
        outputs that resolved over the old ones (deployment_executor.go, "Finalize the stack outputs")."""
        new = {resource.urn for resource in run.new_state}
        aliased = set(run.aliased)
        untouched = [r for r in self.checkpoint.resources if r.delete or (r.urn not in new and r.urn not in aliased)]
        self.checkpoint.resources = [*run.new_state, *untouched]
        self.checkpoint.outputs = {**self.checkpoint.outputs, **evaluation.exports}

    def _delete(self, doomed: dict[str, ResourceState], *, preview: bool) -> list[Step]:
        """step_generator.go GenerateDeletes + ScheduleDeletes: dependents before their dependencies; a
        failure stops the rest, which stay in the state."""
        snapshot = [resource.urn for resource in self.checkpoint.resources]
        order = deletion_order(snapshot, {urn: r.edges for urn, r in doomed.items()}, set(doomed))
        steps = []
        for urn in order:
            resource = doomed[urn]
            steps.append(Step(urn, "delete-replaced" if resource.delete else "delete"))
            if preview:
                continue
            try:
                self._delete_one(resource)
            except (CommandError, docker_provider.ProviderError) as error:
                message = f"deleting {urn}: {error}"
                self.log.append(LogLine(urn, "error", message))
                raise EngineError(message) from error
            self.checkpoint.resources = [r for r in self.checkpoint.resources if r is not resource]
        return steps

    def _delete_one(self, resource: ResourceState) -> None:
        # step.go DeleteStep.Apply: retainOnDelete skips the provider's Delete.
        if resource.retain_on_delete or not resource.custom:
            return
        if resource.type in COMMAND_TYPES:
            self.commands.run(resource.urn, resource.type, resource.inputs, "delete", resource.outputs)
        elif resource.type in DOCKER_TYPES:
            host = self._docker_host(resource.provider)
            docker_provider.delete(host, resource.type, resource.id, resource.outputs)

    def _docker_host(self, provider_ref: str) -> docker_provider.DockerHost:
        urn = provider_ref.rsplit("::", 1)[0]
        inputs = self.provider_inputs.get(urn)
        if inputs is None:
            provider = self.checkpoint.by_urn().get(urn)
            inputs = provider.inputs if provider else {}
        return self.docker_hosts(inputs)


class _Run:
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


def project_refreshes_always(project_file=PROJECT_DIR / "Pulumi.yaml") -> bool:
    """sdk/go/common/workspace/project.go ProjectOptions: `options.refresh: always` in Pulumi.yaml."""
    project = yaml.safe_load(project_file.read_text()) or {}
    return (project.get("options") or {}).get("refresh") == "always"
