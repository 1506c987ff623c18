"""A container whose start failed, through the stand-in engine and a fake daemon: what the state keeps, what
the next `up` does with it, and how the project's refresh brings it back.

Upstream: kreuzwerker/terraform-provider-docker resource_docker_container_funcs.go (create sets the ID, then
starts; Read of a stopped container with must_run sets it false; Update starts on must_run false -> true),
pulumi-terraform-bridge pkg/tfbridge/provider.go (Create's initializationError; Update with no diff), pulumi
pkg/resource/deploy/step_generator.go (an empty update for init errors) and step.go (RefreshStep)."""

from __future__ import annotations

import itertools
import json
import subprocess
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker as docker
import pytest

from tests.engine.command_provider import CommandProvider
from tests.engine.docker_provider import DockerHost, ProviderError
from tests.engine.engine import Backend, Engine, EngineError, project_refreshes_always

PORT = 8080


@dataclass(frozen=True)
class FakeDaemon(DockerHost):
    """The docker CLI calls the provider makes, answered from memory: a start fails while one of the
    container's host ports is taken, and the daemon can be made not to answer."""

    containers: dict[str, dict[str, Any]] = field(default_factory=dict)
    taken: set[int] = field(default_factory=set)
    down: list[bool] = field(default_factory=list)

    def docker(self, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        if self.down:
            return self._answer(1, "", "Cannot connect to the Docker daemon at unix:///fake.sock.", check)
        handler = getattr(self, f"_{args[0]}", None)
        return handler(*args[1:], check=check) if handler else self._answer(0, "", "", check)

    def running(self, name: str) -> bool:
        return any(c["Name"] == f"/{name}" and c["State"]["Running"] for c in self.containers.values())

    def _answer(self, code: int, out: str, err: str, check: bool) -> subprocess.CompletedProcess:
        if check and code:
            raise ProviderError(err)
        return subprocess.CompletedProcess([], code, out.encode(), err.encode())

    def _create(self, *args: str, check: bool) -> subprocess.CompletedProcess:
        flags = dict(zip(args[0::2], args[1::2], strict=False))
        name = flags["--name"]
        if self.running(name) or any(c["Name"] == f"/{name}" for c in self.containers.values()):
            return self._answer(1, "", f'Conflict. The container name "/{name}" is already in use.', check)
        publish = [value for key, value in itertools.pairwise(args) if key == "--publish"]
        container_id = f"c{len(self.containers) + 1:063d}"
        self.containers[container_id] = {
            "Name": f"/{name}",
            "Image": "sha256:img",
            "State": {"Running": False, "ExitCode": 0},
            "Config": {"User": ""},
            "HostConfig": {
                "RestartPolicy": {"Name": flags["--restart"], "MaximumRetryCount": 0},
                "Memory": 0,
                "MemorySwap": 0,
                "LogConfig": {"Type": "json-file", "Config": {}},
            },
            "published": publish,
            "NetworkSettings": {"Ports": {}},
        }
        return self._answer(0, container_id, "", check)

    def _start(self, container_id: str, check: bool) -> subprocess.CompletedProcess:
        found = self.containers[container_id]
        ports = {}
        for spec in found["published"]:
            ip, external, internal = spec.split(":")
            if int(external) in self.taken:
                return self._answer(1, "", f"Bind for {ip}:{external} failed: port is already allocated", check)
            ports[internal] = [{"HostIp": ip, "HostPort": external}]
        found["State"]["Running"] = True
        found["NetworkSettings"]["Ports"] = ports
        return self._answer(0, container_id, "", check)

    def _rm(self, *args: str, check: bool) -> subprocess.CompletedProcess:
        self.containers.pop(args[-1], None)
        return self._answer(0, "", "", check)

    def _container(self, verb: str, ref: str, check: bool) -> subprocess.CompletedProcess:
        found = self.containers.get(ref)
        if verb != "inspect" or found is None:
            return self._answer(1, "", f"Error: No such container: {ref}", check)
        return self._answer(0, json.dumps([found]), "", check)


def program() -> None:
    host = docker.Provider("host", host="unix:///fake.sock")
    docker.Container(
        "web",
        name="web",
        image="img",
        ports=[docker.ContainerPortArgs(internal=80, external=PORT)],
        opts=pulumi.ResourceOptions(provider=host),
    )


@pytest.fixture
def daemon() -> FakeDaemon:
    return FakeDaemon("unix:///fake.sock")


@pytest.fixture
def engine(daemon, tmp_path) -> Engine:
    commands = CommandProvider(log=lambda line: None, local_cwd=tmp_path)
    return Engine("test", Backend(), lambda inputs: daemon, commands, program=program)


@pytest.fixture
def failed_start(engine, daemon) -> Engine:
    """An `up` whose container was created but could not start (its host port taken), then the port freed."""
    daemon.taken.add(PORT)
    with pytest.raises(EngineError, match="port is already allocated"):
        engine.up(refresh=False)
    daemon.taken.clear()
    return engine


def web(engine: Engine):
    (found,) = [r for r in engine.checkpoint.resources if r.urn.endswith("::web")]
    return found


def test_a_container_whose_start_failed_stays_in_the_state_under_its_id(failed_start, daemon):
    assert web(failed_start).id in daemon.containers


def test_a_container_whose_start_failed_is_kept_with_its_init_error(failed_start):
    assert any("port is already allocated" in reason for reason in web(failed_start).init_errors)


def test_the_next_up_without_refresh_is_an_empty_update(failed_start):
    steps = failed_start.up(refresh=False).steps
    assert [(step.kind, step.keys) for step in steps if step.urn.endswith("::web")] == [("update", ())]


def test_the_next_up_without_refresh_leaves_the_container_stopped(failed_start, daemon):
    failed_start.up(refresh=False)
    assert not daemon.running("web")


def test_the_next_up_without_refresh_clears_the_init_error(failed_start):
    failed_start.up(refresh=False)
    assert web(failed_start).init_errors == ()


def test_an_up_with_refresh_runs_the_container_whose_start_failed(failed_start, daemon):
    failed_start.up(refresh=True)
    assert daemon.running("web")


def test_an_up_with_refresh_after_the_empty_update_still_runs_the_container(failed_start, daemon):
    failed_start.up(refresh=False)
    failed_start.up(refresh=True)
    assert daemon.running("web")


def test_a_refresh_that_cannot_reach_the_daemon_fails_keeping_the_state(engine, daemon):
    engine.up(refresh=False)
    daemon.down.append(True)
    with pytest.raises(EngineError, match="Cannot connect"):
        engine.up(refresh=True)
    assert web(engine).id in daemon.containers


# --- the project's own setting ----------------------------------------------------------------------------


def test_the_project_refreshes_before_every_up():
    assert project_refreshes_always()


def test_a_plain_up_of_the_project_runs_the_container_whose_start_failed(failed_start, daemon):
    """`make up` is `pulumi up --stack dev`, no flag: what converges must come from the project's settings."""
    failed_start.up()
    assert daemon.running("web")
