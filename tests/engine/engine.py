"""The stand-in engine: a stack's state kept across runs of the real program, and `up`, `preview`,
`refresh` and `destroy` computed the way pulumi/pulumi pkg/resource/deploy computes them. The state it keeps is
in state.py, the steps of one run of the program in step_generator.py."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import yaml

from tests.engine import docker_provider
from tests.engine.command_provider import CommandError, CommandProvider, LogLine
from tests.engine.rules import COMMAND_TYPES, DOCKER_TYPES, deletion_order
from tests.engine.state import Backend, Checkpoint, EngineError, ResourceState, Result, Step
from tests.engine.step_generator import ProgramRun
from tests.harness import Evaluation, evaluate, full_stack_name, run_under_mocks
from tests.harness.stacks import PROJECT_DIR

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
        run = ProgramRun(self, preview, base)
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

    def _finish_failed(self, run: ProgramRun, evaluation: Evaluation) -> None:
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


def project_refreshes_always(project_file=PROJECT_DIR / "Pulumi.yaml") -> bool:
    """sdk/go/common/workspace/project.go ProjectOptions: `options.refresh: always` in Pulumi.yaml."""
    project = yaml.safe_load(project_file.read_text()) or {}
    return (project.get("options") or {}).get("refresh") == "always"
