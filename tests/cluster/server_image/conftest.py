"""The application server's image (codenvy/codenvy:<version>) with its stand-in, on a private dockerd in a network
namespace of its own: its entrypoint as upstream's, its configuration read as upstream reads it, its REST API
(login, users, the Resource API, workspaces) answering as upstream's sources do, and a workspace machine placed
through the Docker API behind a TLS relay in front of that engine, with the site's registry for snapshots. The
machine's image is built, not pulled (codenvy/codenvy HostedMachineProviderImpl.pullImage): the engine's own /build
answers here, no manager stands between. The server is configured from the contract itself
(tests/cluster/server_contract.py), not from the program. The services are package-scoped fixtures started once;
the numbered modules run in order, the last one stopping the server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.cluster.private_engine import CertificateAuthority, Engine, have_debootstrap
from tests.cluster.server_contract import HTTP_PORT, ServerSite
from tests.cluster.server_image.steps import (
    ADMIN_PASSWORD,
    PASSWORD,
    REGISTRY_PASSWORD,
    REGISTRY_USER,
    Answer,
    Api,
    Developer,
    Start,
    contract_site,
    create_server,
    machines_of,
    new_user,
    workspace_config,
)
from tests.cluster.stand_in_services import (
    INTERNAL,
    SOCAT,
    create_networks,
    images_engine,
    run_agents,
    run_postgres,
    run_registry,
    run_socat,
)


@pytest.fixture(scope="package")
def engine(tmp_path_factory) -> Iterator[Engine]:
    if not have_debootstrap():
        pytest.skip("building the images needs debootstrap: run scripts/install-cluster-deps")
    yield from images_engine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="package")
def ca(tmp_path_factory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="package")
def networks(engine) -> None:
    create_networks(engine)


@pytest.fixture(scope="package")
def postgres(engine, networks) -> str:
    return run_postgres(engine, PASSWORD)


@pytest.fixture(scope="package")
def socat(engine, networks, ca) -> str:
    return run_socat(engine, ca)


@pytest.fixture(scope="package")
def client_cert(ca):
    """The server's client certificate towards the manager (the contract's swarm-client/cert.pem)."""
    return ca.issue("codenvy-server-client", usage="client")


@pytest.fixture(scope="package")
def agents(engine, networks) -> str:
    return run_agents(engine)


@pytest.fixture(scope="package")
def registry(engine, ca, tmp_path_factory) -> str:
    return run_registry(engine, ca, REGISTRY_USER, REGISTRY_PASSWORD, tmp_path_factory.mktemp("docker-config"))


def run_server(engine: Engine, name: str, site: ServerSite, ca: CertificateAuthority, client) -> None:
    """The server created, started and answering its health check."""
    create_server(engine, name, site, ca, client)
    engine.docker("start", name)
    engine.wait_for(name, "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{HTTP_PORT}/api/", seconds=120)


@pytest.fixture(scope="package")
def server(engine, postgres, socat, ca, client_cert) -> str:
    run_server(engine, "server", contract_site(), ca, client_cert)
    return "server"


@pytest.fixture(scope="package")
def api(engine, server) -> Api:
    return Api(engine, f"http://{engine.address(server, INTERNAL)}:{HTTP_PORT}/api")


@pytest.fixture(scope="package")
def admin(api) -> str:
    return api.login("admin", ADMIN_PASSWORD)


@pytest.fixture(scope="package")
def developer(api, admin) -> Developer:
    user = new_user(api, admin, "dev", "devpass123")
    return Developer(user, api.login("dev", "devpass123"))


def start_workspace(engine: Engine, api: Api, token: str, workspace_id: str) -> Start:
    since = time.time()
    answer = api.call("POST", f"/workspace/{workspace_id}/runtime", token=token)
    assert answer.status == 200, f"{answer}\n{engine.logs('server')[-4000:]}"
    return Start(answer.json(), since, time.time())


@pytest.fixture(scope="package")
def started(engine, api, developer, agents, registry) -> Iterator[Start]:
    """A workspace with a project file, started: its machine placed through the relay, the agent up."""
    created = api.call("POST", "/workspace?namespace=dev", workspace_config("wksp"), developer.token)
    assert created.status == 201, created
    workspace = created.json()
    written = api.call("PUT", f"/project/{workspace['id']}/src/A.java", token=developer.token, raw="class A {}")
    assert written.status == 201, written
    yield start_workspace(engine, api, developer.token, workspace["id"])
    for machine in machines_of(engine, workspace["id"]):  # whatever a failed test left running
        engine.remove(machine["Id"])


@dataclass(frozen=True)
class Snapshotted:
    start: Start
    machine: dict  # the machine as it ran before the stop

    @property
    def id(self) -> str:
        return self.start.id


@pytest.fixture(scope="package")
def snapshotted(engine, api, developer, started) -> Snapshotted:
    """The running workspace changed inside its machine, then stopped with a snapshot."""
    (machine,) = machines_of(engine, started.id)
    engine.docker("exec", machine["Id"], "sh", "-c", "echo edited > /projects/src/B.java; echo kept > /root/marker")
    stopped = api.call("DELETE", f"/workspace/{started.id}/runtime?create-snapshot=true", token=developer.token)
    assert stopped.status == 204, f"{stopped}\n{engine.logs('server')[-4000:]}"
    return Snapshotted(started, machine)


@dataclass(frozen=True)
class Restore:
    start: Start
    machine: dict
    marker: str  # what the file written before the snapshot holds in the restored machine
    snapshot: str  # the snapshot's location: <registry>/<repository>:<tag>


@pytest.fixture(scope="package")
def restored(engine, api, developer, snapshotted) -> Restore:
    """The snapshotted workspace started again (so restored from its snapshot), looked at, and stopped."""
    (snapshot,) = api.call("GET", f"/workspace/{snapshotted.id}/snapshot", token=developer.token).json()
    source = snapshot["machineSource"]
    start = start_workspace(engine, api, developer.token, snapshotted.id)
    try:
        (machine,) = machines_of(engine, snapshotted.id)
        marker = engine.docker("exec", machine["Id"], "cat", "/root/marker", check=False).stdout
    finally:
        stopped = api.call(
            "DELETE", f"/workspace/{snapshotted.id}/runtime?create-snapshot=false", token=developer.token
        )
        for left in machines_of(engine, snapshotted.id):
            engine.remove(left["Id"])
    assert stopped.status == 204, stopped
    return Restore(start, machine, marker, f"{source['registry']}/{source['repository']}:{source['tag']}")


# -- the manager out of resources -----------------------------------------------------------------------------------

# A manager with no node left to place a build or a container on: docker/swarm v1.2.8 schedules a build as it
# schedules a container (cluster/swarm/cluster.go BuildImage: the build args' constraints, the memory) and refuses
# either with its scheduler's error, as plain text (api/handlers.go postBuild: httpError). Image inspections succeed.
# Each POST is printed (its path and headers) for the tests to read what the server asked for.
FULL_MANAGER = """
import http.server, json, ssl, urllib.parse
class Full(http.server.BaseHTTPRequestHandler):
    def reply(self, status, body, kind):
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        print(json.dumps({"path": self.path, "headers": dict(self.headers.items())}), flush=True)
        path = urllib.parse.urlsplit(self.path).path
        if path.endswith("/build") or path.endswith("/containers/create"):
            self.reply(500, b"no resources available to schedule container\\n", "text/plain; charset=utf-8")
        else:
            self.reply(404, b"page not found\\n", "text/plain")
    def do_GET(self):
        if self.path.endswith("/json") and "/images/" in self.path:
            self.reply(200, json.dumps({"Config": {"Cmd": ["tail", "-f", "/dev/null"]}}).encode(), "application/json")
        else:
            self.reply(404, b"page not found\\n", "text/plain")
    do_DELETE = do_GET
server = http.server.ThreadingHTTPServer(("", 2376), Full)
context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile="/tls/ca.pem")
context.load_cert_chain("/tls/cert.pem", "/tls/key.pem")
context.verify_mode = ssl.CERT_REQUIRED
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"""


@pytest.fixture(scope="package")
def full_server(engine, postgres, ca, client_cert, api) -> Api:
    """A second server of the site, pointed at a manager with no room left."""
    cert = ca.issue("full-manager", dns=("full-manager",))
    engine.docker("create", "--name", "full-manager", "--network", INTERNAL, "--network-alias", "full-manager",
                  "--entrypoint", "python3", SOCAT, "-c", FULL_MANAGER)  # fmt: skip
    engine.upload("full-manager", "/tls/ca.pem", ca.cert.read_text())
    engine.upload("full-manager", "/tls/cert.pem", cert.cert.read_text())
    engine.upload("full-manager", "/tls/key.pem", cert.key.read_text())
    engine.docker("start", "full-manager")
    run_server(engine, "server-full", contract_site(daemon_url="https://full-manager:2376"), ca, client_cert)
    return Api(engine, f"http://{engine.address('server-full', INTERNAL)}:{HTTP_PORT}/api")


@pytest.fixture(scope="package")
def refused_start(engine, full_server) -> Answer:
    """A workspace start on the full manager, and its answer."""
    token = full_server.login("admin", ADMIN_PASSWORD)
    workspace = full_server.call("POST", "/workspace", workspace_config("nowhere"), token).json()
    return full_server.call("POST", f"/workspace/{workspace['id']}/runtime", token=token)
