"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: which changes replace a container, how it is stopped before
removal, and what an update leaves."""

from __future__ import annotations

from typing import Any

from tests import harness
from tests.engine import docker_provider
from tests.engine.rules import CONTAINER
from tests.harness import evaluate, stack_file_config
from tests.unit.real_engine.containers.read_back import changes, containers, state_after_create


def sim_with_nodes(count: int) -> harness.Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    extra = [{**nodes[-1], "name": f"node{4 + i}", "address": f"10.77.0.{14 + i}"} for i in range(count - len(nodes))]
    return evaluate("sim", {"codenvy-infra:nodes": [*nodes, *extra][:count]})


def test_adding_a_node_leaves_every_container_as_it_was():
    """The server's environment, labels and uploads force a new container when they change."""
    before, after = containers(sim_with_nodes(2)), containers(sim_with_nodes(3))
    for name, container in before.items():
        state = state_after_create(container.inputs)
        assert changes(state, after[name].inputs).keys == changes(state, container.inputs).keys, name


def test_every_container_stops_gracefully_before_it_is_removed():
    """resourceDockerContainerDelete stops with destroy_grace_seconds, or with a timeout of 0 (a kill)."""
    for stack in ("dev", "dr", "sim"):
        for name, container in containers(evaluate(stack)).items():
            assert (container.inputs.get("destroyGraceSeconds") or 0) > 0, f"{stack}: {name} is killed"


def test_postgres_has_time_for_its_shutdown_checkpoint():
    postgres = evaluate("sim").named("codenvy-master-postgres").inputs
    assert postgres["destroyGraceSeconds"] >= 60


class RecordingHost:
    """A Docker host that records the commands the provider sends it."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def docker(self, *args: str, **_: Any) -> None:
        self.commands.append(args)


def test_an_input_the_program_stops_setting_leaves_the_state_on_update():
    server = containers(evaluate("sim"))["codenvy-master-server"].inputs
    before = {**server, "restart": "on-failure", "maxRetryCount": 5}
    host = RecordingHost()
    state = docker_provider.update(host, CONTAINER, "c1", state_after_create(before), server)
    assert [command[:3] for command in host.commands] == [("update", "--restart", "always")]
    assert changes(state, server).keys == ()
