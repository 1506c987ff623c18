"""What the docker provider reads back of a container it created, and the stacks the container tests evaluate. pulumi-
docker 5.2 bridges kreuzwerker/terraform-provider-docker v4.5.0: the rules come from its
internal/provider/resource_docker_{container,network}*.go, from moby, and from pulumi/pulumi's step generator."""

from __future__ import annotations

from typing import Any

from tests import harness
from tests.engine.docker_provider import MIB, container_state
from tests.engine.rules import CONTAINER, Diff, diff, with_container_defaults

DEV = harness.full_stack_name("dev")


# moby daemon/daemon_unix.go (adaptContainerSettings): a memory limit without a swap limit is stored with
# swap = twice the memory.
DAEMON_SWAP_FACTOR = 2


def daemon_swap(memory: int, swap: int, *, swap_accounted: bool) -> int:
    """The MemorySwap a daemon stores, in bytes, for the provider's memory and memory_swap (MiB; a positive
    swap goes in MiB, -1 as it is: resource_docker_container_funcs.go). moby daemon/create.go checks, then
    adapts (daemon/daemon_unix.go): a daemon without swap accounting turns any swap limit of a memory-limited
    container, unset included, into -1 (verifyPlatformContainerResources); an unset one left is twice the
    memory (adaptContainerSettings)."""
    stored = swap * MIB if swap > 0 else swap
    if memory > 0 and stored != -1 and not swap_accounted:
        stored = -1
    if memory > 0 and stored == 0:
        stored = DAEMON_SWAP_FACTOR * memory * MIB
    return stored


def daemon_report(inputs: dict[str, Any], *, swap_accounted: bool = True) -> dict[str, Any]:
    """What `docker inspect` says of a container just created from `inputs`: started unless `start` is
    false, no published ports unless running, swap as the daemon stores it (`daemon_swap`)."""
    inputs = with_container_defaults(inputs)
    running, memory, swap = inputs["start"], int(inputs.get("memory") or 0), int(inputs.get("memorySwap") or 0)
    ports = {
        f"{int(port['internal'])}/{port['protocol']}": [{"HostIp": port["ip"], "HostPort": str(int(port["external"]))}]
        for port in inputs.get("ports") or []
    }
    return {
        "Name": f"/{inputs['name']}",
        "Image": inputs["image"],
        "State": {"Running": running, "ExitCode": 0},
        "Config": {"User": inputs.get("user") or ""},
        "HostConfig": {
            "RestartPolicy": {"Name": inputs["restart"], "MaximumRetryCount": int(inputs.get("maxRetryCount") or 0)},
            "Memory": memory * MIB,
            "MemorySwap": daemon_swap(memory, swap, swap_accounted=swap_accounted),
            "LogConfig": {"Type": inputs.get("logDriver") or "json-file", "Config": inputs.get("logOpts") or {}},
        },
        "NetworkSettings": {"Ports": ports if running else {}},
    }


def state_after_create(inputs: dict[str, Any], *, swap_accounted: bool = True) -> dict[str, Any]:
    """The state resourceDockerContainerCreate leaves: it ends with resourceDockerContainerRead."""
    return container_state(daemon_report(inputs, swap_accounted=swap_accounted), inputs)


def changes(state: dict[str, Any], inputs: dict[str, Any]) -> Diff:
    """The next preview of a container with `state`, registered again with `inputs`."""
    return diff(CONTAINER, inputs, state, inputs)


def containers(evaluation: harness.Evaluation) -> dict[str, harness.Registration]:
    return {c.name: c for c in evaluation.of_type(CONTAINER)}
