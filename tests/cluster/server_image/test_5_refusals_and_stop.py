"""Starts the limits refuse, a manager out of resources answered with upstream's message, and a clean stop."""

from __future__ import annotations

import base64
import json
from urllib.parse import parse_qs, urlsplit

from tests.cluster.private_engine import Engine
from tests.cluster.server_image.steps import (
    MEMORY_BYTES,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    Api,
    Developer,
    new_user,
    store_limit,
    workspace_config,
)
from tests.cluster.stand_in_services import (
    REGISTRY,
)

# codenvy/codenvy MaintenanceConstraintProvider.java:22-23: the build arg that keeps a build off nodes in maintenance.
MAINTENANCE_CONSTRAINT = ("constraint:com.codenvy.node-state!", "maintenance")


# -- limits -------------------------------------------------------------------------------------------------------


def limited_user(api: Api, admin: str, name: str, resources: list[dict]) -> Developer:
    user = new_user(api, admin, name, f"{name}pass1")
    stored = store_limit(api, admin, user["id"], resources)
    assert stored.status == 201, stored
    return Developer(user, api.login(name, f"{name}pass1"))


def test_a_start_over_the_ram_limit_is_refused_with_upstreams_message(api, admin, registry):
    owner = limited_user(api, admin, "small", [{"type": "RAM", "amount": 128}])
    workspace = api.call("POST", "/workspace", workspace_config("big"), owner.token).json()
    refused = api.call("POST", f"/workspace/{workspace['id']}/runtime", token=owner.token)
    assert (refused.status, refused.json()["message"]) == (
        500,
        "Workspace small/big needs 256MB to start. Your account has 128MB available and 0MB in use. The workspace "
        "can't be start. Stop other workspaces or grant more resources.",
    )


def test_a_workspace_over_the_count_is_refused(api, admin):
    owner = limited_user(api, admin, "single", [{"type": "workspace", "amount": 1}])
    api.call("POST", "/workspace", workspace_config("first"), owner.token)
    refused = api.call("POST", "/workspace", workspace_config("second"), owner.token)
    assert (refused.status, refused.json()["message"]) == (500, "You are not allowed to create more workspaces.")


def test_a_start_over_the_runtime_count_is_refused(api, admin):
    owner = limited_user(api, admin, "idle", [{"type": "runtime", "amount": 0}])
    workspace = api.call("POST", "/workspace", workspace_config("never"), owner.token).json()
    refused = api.call("POST", f"/workspace/{workspace['id']}/runtime", token=owner.token)
    assert (refused.status, refused.json()["message"]) == (500, "You are not allowed to start more workspaces.")


def builds_asked(engine: Engine) -> list[dict]:
    """The builds the full manager was asked for: each one's query and headers."""
    asked = [json.loads(line) for line in engine.logs("full-manager").splitlines() if line.startswith("{")]
    return [
        {"query": parse_qs(urlsplit(call["path"]).query), "headers": call["headers"]}
        for call in asked
        if urlsplit(call["path"]).path.endswith("/build")
    ]


def test_a_manager_out_of_resources_gives_upstreams_message_and_its_reason(refused_start):
    message = refused_start.json()["message"]
    assert (
        refused_start.status == 500
        and message.startswith("The system is out of resources. Please contact your system admin.")
        and "no resources available to schedule container" in message
    )


def test_the_build_is_scheduled_with_the_machines_memory_away_from_nodes_in_maintenance(engine, refused_start):
    (build,) = builds_asked(engine)
    query = build["query"]
    scheduling = {name: query.get(name) for name in ("memory", "memswap", "pull", "forcerm")}
    assert scheduling == {"memory": [str(MEMORY_BYTES)], "memswap": ["-1"], "pull": ["1"], "forcerm": ["1"]} and (
        json.loads(query["buildargs"][0])[MAINTENANCE_CONSTRAINT[0]] == MAINTENANCE_CONSTRAINT[1]
    ), query


def test_the_build_carries_the_registry_credentials(engine, refused_start):
    (build,) = builds_asked(engine)
    config = json.loads(base64.b64decode(build["headers"]["X-Registry-Config"]))
    assert config == {REGISTRY: {"username": REGISTRY_USER, "password": REGISTRY_PASSWORD}}


def test_docker_stop_exits_the_server_cleanly(engine, server):
    engine.docker("stop", server)
    assert engine.docker("inspect", "-f", "{{.State.ExitCode}}", server).stdout.strip() == "0"
