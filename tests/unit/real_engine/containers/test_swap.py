"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: memory limits and swap as the daemon reports them, on hosts
with and without swap accounting."""

from __future__ import annotations

import shutil
from typing import Any

import pytest

from tests import harness
from tests.engine import docker_provider
from tests.engine.rules import CONTAINER, Diff, diff
from tests.harness import evaluate, site_config, stack_file_config
from tests.unit.real_engine.containers.read_back import changes, containers, state_after_create


@pytest.mark.parametrize("stack", ["dev", "sim"])
def test_memory_limits_read_back_unchanged(stack):
    for name, container in containers(evaluate(stack)).items():
        state = state_after_create(container.inputs)
        assert "memorySwap" not in changes(state, container.inputs).keys, name


def test_containers_get_no_swap():
    for name, container in containers(evaluate("sim")).items():
        assert container.inputs.get("memorySwap") == container.inputs.get("memory"), name


def without_swap_accounting(*hosts: str) -> harness.Evaluation:
    """The sim stack with `hosts` (the master's name or the nodes') declared as not accounting swap."""
    config = stack_file_config("sim")
    master, nodes = config["codenvy-infra:master"], config["codenvy-infra:nodes"]
    return evaluate(
        "sim",
        {
            "codenvy-infra:master": {**master, "swapLimit": master["name"] not in hosts},
            "codenvy-infra:nodes": [{**node, "swapLimit": node["name"] not in hosts} for node in nodes],
        },
    )


def next_step(container: harness.Registration, state: dict[str, Any]) -> Diff:
    """The next `up` of a container with `state`, registered again as it is, with its resource options."""
    return diff(CONTAINER, container.inputs, state, container.inputs, ignore_changes=container.options.ignore_changes)


def test_hosts_without_swap_accounting_read_back_as_registered():
    """The second `up` on hosts whose dockerd prints "No swap limit support": nothing changes."""
    every_host = [host.name for host in site_config("sim").hosts]
    for name, container in containers(without_swap_accounting(*every_host)).items():
        step = next_step(container, state_after_create(container.inputs, swap_accounted=False))
        assert step.kind == "same", f"{name}: {step}"


def test_hosts_without_swap_accounting_still_ask_for_no_swap():
    every_host = [host.name for host in site_config("sim").hosts]
    for name, container in containers(without_swap_accounting(*every_host)).items():
        assert container.inputs.get("memorySwap") == container.inputs.get("memory"), name


def test_a_host_without_swap_accounting_leaves_the_others_swap_watched():
    """A swap limit changed by hand on a host that accounts swap is still a difference the next `up` undoes."""
    master = site_config("sim").master.name
    elsewhere = [
        container
        for container in containers(without_swap_accounting(master)).values()
        if f"-{master}-docker::" not in container.provider
    ]
    assert elsewhere, "the sim stack has containers on its workers"
    for container in elsewhere:
        changed_by_hand = {**state_after_create(container.inputs), "memorySwap": -1}
        assert next_step(container, changed_by_hand).keys == ("memorySwap",), container.name


@pytest.mark.skipif(shutil.which("docker") is None, reason="needs the docker CLI")
def test_the_stand_in_asks_for_unlimited_swap_as_the_docker_cli_takes_it(tmp_path):
    """The stand-in's create through the real CLI, against no daemon: its arguments parse (the CLI then fails
    to connect), where "-1m" would be refused as an invalid size."""
    nowhere = docker_provider.DockerHost(f"unix://{tmp_path}/no-daemon.sock")
    inputs = {"name": "c", "image": "busybox", "memory": 64, "memorySwap": -1}
    with pytest.raises(docker_provider.ProviderError) as caught:
        docker_provider.create(nowhere, CONTAINER, inputs)
    assert "Cannot connect to the Docker daemon" in str(caught.value)
