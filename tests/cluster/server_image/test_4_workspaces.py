"""A workspace started through the Docker API: its machine built from its recipe, stopped with a snapshot pushed
to the registry, and restored from it."""

from __future__ import annotations

import re

from scripts.sim.waiting import wait_until
from tests.cluster.private_engine import Engine
from tests.cluster.server_contract import VOLUMES
from tests.cluster.server_image.steps import MEMORY_BYTES, Start, machines_of, workspace_config
from tests.cluster.stand_in_services import (
    REGISTRY,
    STACK_IMAGE,
    WORKSPACES,
)


def image_events(engine: Engine, start: Start) -> list[tuple[str, str]]:
    """The engine's image events while `start` ran: (action, image), a pull naming the reference pulled, a tag the
    new name."""
    lines = engine.docker(
        "events", "--since", f"{start.since:.9f}", "--until", f"{start.until:.9f}", "--filter", "type=image",
        "--format", '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}',
    ).stdout.splitlines()  # fmt: skip
    return [
        (action, actor if action == "pull" else name) for action, actor, name in (line.split(" ") for line in lines)
    ]


def machine_image(machine: dict) -> str:
    """che MachineProviderImpl.java:433: the image built for a machine is eclipse-che/<container name>."""
    return f"eclipse-che/{machine['Name'].lstrip('/')}"


def test_a_created_workspace_is_stopped_with_a_workspace_id(api, developer):
    created = api.call("POST", "/workspace", workspace_config("fresh"), developer.token).json()
    assert re.fullmatch(r"workspace[0-9a-z]{16}", created["id"]) and created["status"] == "STOPPED"


def test_a_dockerimage_recipe_without_a_location_is_refused(api, developer):
    config = workspace_config("content-only")
    config["environments"]["default"]["recipe"] = {"type": "dockerimage", "content": STACK_IMAGE}
    assert api.call("POST", "/workspace", config, developer.token).status == 400


def test_a_started_workspace_is_running(started):
    assert started.workspace["status"] == "RUNNING"


def test_the_machine_runs_from_the_image_built_for_it(engine, started):
    (machine,) = machines_of(engine, started.id)
    assert machine["Config"]["Image"] == machine_image(machine)


def test_the_machine_image_is_built_from_the_recipe_image(engine, started):
    (machine,) = machines_of(engine, started.id)
    recipe = engine.docker("image", "inspect", "-f", "{{.Id}}", f"{STACK_IMAGE}:latest").stdout.strip()
    # The engine's own build output, which the server relays to its log as upstream relays it to the machine's.
    assert machine["Image"] == recipe and f"Step 1/1 : FROM {STACK_IMAGE}" in engine.logs("server")


def test_the_build_pulls_the_recipe_image_with_the_registry_credentials(engine, started):
    registry_log = engine.docker("logs", "--since", f"{started.since:.9f}", "registry")
    authorized = [
        line
        for line in (registry_log.stdout + registry_log.stderr).splitlines()
        if 'msg="authorized request"' in line and "uri=/v2/codenvy-sim/workspace/manifests/" in line
    ]
    assert ("pull", f"{STACK_IMAGE}:latest") in image_events(engine, started) and authorized


def test_the_machine_gets_its_memory_limit(engine, started):
    (machine,) = machines_of(engine, started.id)
    assert machine["HostConfig"]["Memory"] == MEMORY_BYTES


def test_the_machine_joins_the_workspace_network_under_its_alias(engine, started):
    (machine,) = machines_of(engine, started.id)
    assert f"dev-machine.{started.id}" in machine["NetworkSettings"]["Networks"][WORKSPACES]["Aliases"]


def test_the_machine_is_named_as_upstream_names_it(engine, started):
    (machine,) = machines_of(engine, started.id)
    assert re.fullmatch(rf"/{started.id}_machine[0-9a-z]{{16}}_dev_dev-machine", machine["Name"])


def test_the_machine_gets_the_projects_from_fs(engine, started):
    (machine,) = machines_of(engine, started.id)
    assert engine.docker("exec", machine["Id"], "cat", "/projects/src/A.java").stdout == "class A {}"


def test_the_machine_runs_the_agent_from_the_agents_service(engine, started):
    (machine,) = machines_of(engine, started.id)
    fetched = engine.docker("exec", machine["Id"], "wget", "-qO-", "http://127.0.0.1:4401/api/", check=False)
    assert fetched.returncode == 0, fetched.stderr


def test_the_runtime_names_the_machines_container(api, developer, engine, started):
    runtime = api.call("GET", f"/workspace/{started.id}", token=developer.token).json()["runtime"]
    (machine,) = machines_of(engine, started.id)
    assert [m["runtime"]["properties"]["id"] for m in runtime["machines"]] == [machine["Id"]]


def test_starting_a_running_workspace_is_a_conflict(api, developer, started):
    assert api.call("POST", f"/workspace/{started.id}/runtime", token=developer.token).status == 409


def test_stopping_removes_the_machine(engine, snapshotted):
    assert machines_of(engine, snapshotted.id) == []


def test_stopping_removes_the_image_built_for_the_machine(engine, snapshotted):
    built = engine.docker("image", "inspect", machine_image(snapshotted.machine), check=False)
    assert built.returncode != 0 and "No such image" in built.stderr


def test_stopping_copies_the_projects_back_to_fs(engine, server, snapshotted):
    saved = engine.docker("exec", server, "cat", f"{VOLUMES['fs']}/{snapshotted.id}/src/B.java")
    assert saved.stdout == "edited\n"


def test_stopping_with_a_snapshot_pushes_it_to_the_registry(api, developer, snapshotted):
    (snapshot,) = api.call("GET", f"/workspace/{snapshotted.id}/snapshot", token=developer.token).json()
    assert snapshot["machineSource"]["registry"] == REGISTRY and snapshot["machineSource"]["digest"]


def test_the_next_start_restores_the_snapshot(restored):
    assert restored.marker == "kept\n"


def test_the_restored_machine_is_built_from_the_snapshot(engine, restored):
    events = image_events(engine, restored.start)
    assert (
        restored.machine["Config"]["Image"] == machine_image(restored.machine)
        and ("pull", restored.snapshot) in events
        and ("tag", f"{machine_image(restored.machine)}:latest") in events
        and f"Step 1/1 : FROM {restored.snapshot}" in engine.logs("server")
    ), events


def test_the_pulled_snapshot_is_removed_after_the_restore(engine, restored):
    # codenvy/codenvy HostedMachineProviderImpl.java:252-268: removed 10 s after the build pulled it.
    wait_until(
        f"{restored.snapshot} removed from the engine",
        lambda: engine.docker("image", "inspect", restored.snapshot, check=False).returncode != 0,
        timeout=60,
    )
