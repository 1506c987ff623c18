"""The shipped dev and dr stacks on one simulated host standing in for "this machine": every role on its
Docker engine, local Commands run on it, the standby beside its primary. Each converges, then previews
empty, as `pulumi up` twice would show."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.cluster.images import WORKSPACE_IMAGE
from tests.cluster.sim import Node, local_engine
from tests.cluster.site_driver import wait_for, workspace_config
from tests.engine.engine import Backend, Engine, EngineError, Result

# One host plays the developer's machine.
LANE_NODES = 1
SERVICES = ("postgres", "server", "haproxy", "registry", "swarm", "agents", "socat")


@pytest.fixture(scope="module")
def backend() -> Backend:
    return Backend()


@pytest.fixture(scope="module")
def dev(cluster, backend, tmp_path_factory) -> tuple[Engine, Result]:
    engine = local_engine("dev", cluster[0], backend, tmp_path_factory.mktemp("dev-workdir"))
    return engine, engine.up()


@pytest.fixture(scope="module")
def dr(cluster, backend, dev, tmp_path_factory) -> tuple[Engine, Result]:
    engine = local_engine("dr", cluster[0], backend, tmp_path_factory.mktemp("dr-workdir"))
    return engine, engine.up()


def running(cluster, site_name: str) -> set[str]:
    names = cluster[0].docker("ps", "--format", "{{.Names}}").stdout.split()
    return {service for service in SERVICES if f"{site_name}-{service}" in names}


def test_dev_stack_runs_every_service_on_this_machine(cluster, dev):
    assert running(cluster, "codenvy") == set(SERVICES)


def test_dev_stack_second_preview_is_empty(dev):
    engine, _ = dev
    assert engine.preview().diff() == []


def test_dr_stack_runs_beside_dev_as_a_hot_standby(cluster, dr):
    assert running(cluster, "codenvy-dr") == set(SERVICES)


def test_dr_stack_second_preview_is_empty(dr):
    engine, _ = dr
    assert engine.preview().diff() == []


def test_dev_preview_is_still_empty_beside_its_standby(dev, dr):
    engine, _ = dev
    assert engine.preview().diff() == []


class ServerFromInside:
    """The dev site's API from inside its server container, as one user: the dev stack publishes on this
    machine's loopback, which is the simulated host's own, not the lane's."""

    def __init__(self, node: Node, user: str, password: str) -> None:
        self.node, self.token = node, None
        self.token = self.call("POST", "/auth/login", {"username": user, "password": password})[1]["value"]

    def call(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        headers = ["-H", "Content-Type: application/json"] + (
            ["-H", f"Authorization: {self.token}"] if self.token else []
        )
        data = ["--data-binary", json.dumps(body)] if body is not None else []
        url = f"http://localhost:8080/api{path}"
        curl = ["curl", "-sS", "-X", method, *headers, *data, "-w", "\n%{http_code}", url]
        text, _, status = self.node.docker("exec", "codenvy-server", *curl).stdout.rpartition("\n")
        return int(status), json.loads(text) if text[:1] in ("{", "[") else text


def answers(node: Node) -> bool:
    probe = ("exec", "codenvy-server", "curl", "-fsS", "-o", "/dev/null", "http://localhost:8080/api/")
    return node.docker(*probe, check=False).returncode == 0


def pushed_stack_image(node: Node, outputs: dict) -> str:
    """The lane's workspace image in the dev site's registry, where che pulls recipe images from."""
    image = f"{outputs['registry']}/lane/workspace:1"
    node.docker("login", outputs["registry"], "-u", outputs["registryUsername"], "--password-stdin",
                stdin=outputs["registryPassword"])  # fmt: skip
    node.docker("tag", WORKSPACE_IMAGE, image)
    node.docker("push", image)
    return image


def test_dev_stack_places_a_workspace_on_this_machines_engine_through_the_manager(cluster, dev):
    """Bridge mode takes the same path as overlay mode: the server, the placement manager, and the master's own
    engine behind its relay."""
    engine, _ = dev
    node, outputs = cluster[0], engine.checkpoint.outputs
    wait_for("the dev server answering", lambda: answers(node))
    admin = ServerFromInside(node, "admin", outputs["adminPassword"])
    secret = "dev-lane-pw-1"  # noqa: S105 - a throwaway user's
    admin.call("POST", "/user", {"name": "dev", "email": "dev@example.com", "password": secret})
    developer = ServerFromInside(node, "dev", secret)
    config = workspace_config("first", pushed_stack_image(node, outputs))
    status, created = developer.call("POST", "/workspace?namespace=dev", config)
    assert status == 201, created
    status, answer = developer.call("POST", f"/workspace/{created['id']}/runtime")
    machines = node.docker("ps", "-q", "--filter", f"label=che:workspace:id={created['id']}").stdout.split()
    assert (status, len(machines)) == (200, 1), answer


# --- `make destroy`, then `make up`: the data volumes stay, a new database password is made ----------------------


def database_password(engine: Engine) -> str:
    (password,) = [
        r.outputs["result"] for r in engine.checkpoint.resources if r.urn.endswith("::codenvy-master-db-password")
    ]
    return password


@pytest.fixture(scope="module")
def dev_again(cluster, dev) -> tuple[str, str]:
    """The dev stack destroyed (its data volumes retained) and brought up again: (old, new) database password."""
    engine, _ = dev
    before = database_password(engine)
    engine.destroy()
    engine.up()
    return before, database_password(engine)


def test_dev_up_after_destroy_serves_from_the_database_it_kept_under_a_new_password(cluster, dev_again):
    before, after = dev_again
    assert before != after, "the password was not made anew: the test would prove nothing"
    wait_for("the dev server answering after destroy and up", lambda: answers(cluster[0]))


# --- a container that could not start (its port taken), then the port freed: the next plain `up` runs it ------

REGISTRY_PORT = 5000
# A process holding the port on this machine, as another service on a developer's machine would.
HOLD_PORT = (
    "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
    f"s.bind(('0.0.0.0', {REGISTRY_PORT})); s.listen(); print('held', flush=True); time.sleep(600)"
)


@pytest.fixture(scope="module")
def registry_start_failed(cluster, dev, dev_again) -> Result:
    """The registry's container removed by hand while its port is taken: the `up` that makes it again fails
    to start it; the port freed, the next `up` (plain, as `make up` runs it)."""
    engine, node = dev[0], cluster[0]
    node.docker("rm", "--force", "codenvy-registry")
    holder = subprocess.Popen([*node.enter_argv(), "python3", "-c", HOLD_PORT], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(EngineError, match="address already in use"):
            engine.up()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    return engine.up()


def test_a_container_whose_start_failed_runs_after_the_next_plain_up(cluster, registry_start_failed):
    assert running(cluster, "codenvy") == set(SERVICES)
