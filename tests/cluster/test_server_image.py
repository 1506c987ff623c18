"""The application server's image (codenvy/codenvy:<version>) with its stand-in, on a private dockerd in a network
namespace of its own: its entrypoint as upstream's, its configuration read as upstream reads it, its REST API
(login, users, the Resource API, workspaces) answering as upstream's sources do, and a workspace machine placed
through the Docker API behind a TLS relay in front of that engine, with the site's registry for snapshots. The
machine's image is built, not pulled (codenvy/codenvy HostedMachineProviderImpl.pullImage): the engine's own /build
answers here, no manager stands between. The server is configured from the contract itself
(tests/cluster/server_contract.py), not from the program."""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest

from components.master_layout import DATABASE, DATABASE_USER
from scripts.sim.waiting import wait_until
from tests.cluster.private_engine import CertificateAuthority, Engine, have_debootstrap
from tests.cluster.server_contract import CLIENT_CERTS, HTTP_PORT, SERVER_XML, VOLUMES, ServerSite
from tests.cluster.stand_in_services import (
    IMAGES,
    INTERNAL,
    REGISTRY,
    SOCAT,
    STACK_IMAGE,
    VERSIONS,
    WORKSPACES,
    create_networks,
    images_engine,
    run_agents,
    run_postgres,
    run_registry,
    run_socat,
)

SERVER = f"{IMAGES.server}:{VERSIONS[0]}"
PASSWORD = secrets.token_hex(16)
ADMIN_PASSWORD = f"admin{secrets.token_hex(8)}"
REGISTRY_USER, REGISTRY_PASSWORD = "snapshots", secrets.token_hex(12)
MEMORY_BYTES = 256 * 1024 * 1024
WS_AGENT = "org.eclipse.che.ws-agent"
# codenvy/codenvy MaintenanceConstraintProvider.java:22-23: the build arg that keeps a build off nodes in maintenance.
MAINTENANCE_CONSTRAINT = ("constraint:com.codenvy.node-state!", "maintenance")


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[Engine]:
    if not have_debootstrap():
        pytest.skip("building the images needs debootstrap: run scripts/install-cluster-deps")
    yield from images_engine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def networks(engine) -> None:
    create_networks(engine)


@pytest.fixture(scope="module")
def postgres(engine, networks) -> str:
    return run_postgres(engine, PASSWORD)


@pytest.fixture(scope="module")
def socat(engine, networks, ca) -> str:
    return run_socat(engine, ca)


@pytest.fixture(scope="module")
def client_cert(ca):
    """The server's client certificate towards the manager (the contract's swarm-client/cert.pem)."""
    return ca.issue("codenvy-server-client", usage="client")


@pytest.fixture(scope="module")
def agents(engine, networks) -> str:
    return run_agents(engine)


@pytest.fixture(scope="module")
def registry(engine, ca, tmp_path_factory) -> str:
    return run_registry(engine, ca, REGISTRY_USER, REGISTRY_PASSWORD, tmp_path_factory.mktemp("docker-config"))


# -- the application server: its entrypoint -------------------------------------------------------------------------


def test_server_exits_without_postgres_credentials_and_says_so(engine):
    engine.docker("run", "--name", "server-no-credentials", SERVER, check=False)
    code, output = engine.exit_code("server-no-credentials"), engine.logs("server-no-credentials")
    engine.remove("server-no-credentials")
    # entrypoint.sh:41-48: the message, then a bare `exit` (status 0): Tomcat never starts.
    assert (code, "Postgres variables are not set. Exiting" in output) == (0, True), output
    assert "Waiting for Postgres" not in output


def test_server_waits_for_postgres_by_its_service_name(engine, postgres):
    engine.docker("network", "create", "waiting")
    engine.docker("run", "-d", "--name", "server-waiting", "--network", "waiting", "-e", f"PGUSER={DATABASE_USER}",
                  "-e", f"PGPASSWORD={PASSWORD}", SERVER)  # fmt: skip
    try:
        engine.wait_for_log("server-waiting", "[INFO]: Postgres is unavailable. Trying in 5 seconds...")
        engine.docker("network", "connect", "--alias", "postgres", "waiting", postgres)
        engine.wait_for_log("server-waiting", "[INFO]: Postgres is up and running. Starting Codenvy Tomcat...")
    finally:
        engine.remove("server-waiting")
        engine.docker("network", "disconnect", "waiting", postgres, check=False)
        engine.docker("network", "rm", "waiting", check=False)


def test_server_refuses_to_start_without_its_configuration(engine, postgres):
    credentials = ["-e", f"PGUSER={DATABASE_USER}", "-e", f"PGPASSWORD={PASSWORD}"]
    engine.docker("run", "-d", "--name", "server-unconfigured", "--network", INTERNAL, *credentials,
                  "-e", "CHE_LOCAL_CONF_DIR=/opt/codenvy-data/conf/", SERVER)  # fmt: skip
    code, output = engine.exit_code("server-unconfigured", seconds=120), engine.logs("server-unconfigured")
    engine.remove("server-unconfigured")
    assert code != 0 and "docker.client.daemon_url is not set" in output and "codenvy.admin.name is not set" in output


# -- the application server: configured as the contract says ------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    headers: dict[str, str]

    def json(self):
        return json.loads(self.text) if self.text else None


@dataclass(frozen=True)
class Api:
    """The server's REST API, called from the engine's namespace with curl."""

    engine: Engine
    base: str

    def call(
        self, method: str, path: str, body: object = None, token: str | None = None, raw: str | None = None, **headers
    ) -> Answer:
        """One call: `body` sent as JSON, or `raw` as it is; the token in the Authorization header."""
        args = ["curl", "-sS", "-i", "-X", method, "--max-time", "300"]
        for name, value in {**({"Authorization": token} if token else {}), **headers}.items():
            args += ["-H", f"{name}: {value}"]
        if body is not None:
            args += ["-H", "Content-Type: application/json", "--data-binary", json.dumps(body)]
        if raw is not None:
            args += ["--data-binary", raw]
        result = self.engine.inside(*args, self.base + path, timeout=320)
        assert result.returncode == 0, result.stderr
        # Text mode has turned the header lines' CRLF into LF.
        head, _, text = result.stdout.partition("\n\n")
        lines = head.split("\n")
        fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        return Answer(int(lines[0].split()[1]), text, fields)

    def login(self, username: str, password: str) -> str:
        answer = self.call("POST", "/auth/login", {"username": username, "password": password})
        assert answer.status == 200, answer
        return answer.json()["value"]


def contract_site(**overrides) -> ServerSite:
    settings = {
        "database": DATABASE,
        "database_user": DATABASE_USER,
        "database_password": PASSWORD,
        "admin_password": ADMIN_PASSWORD,
        "daemon_url": "https://codenvy-socat:2376",
        "registry": REGISTRY,
        "registry_user": REGISTRY_USER,
        "registry_password": REGISTRY_PASSWORD,
        # CheBootstrap: an environment variable overrides general.properties' che.limits.user.workspaces.count.
        "extra_environment": {"CHE_LIMITS_USER_WORKSPACES_COUNT": "7"},
    }
    return ServerSite(**{**settings, **overrides})


def create_server(engine: Engine, name: str, site: ServerSite, ca: CertificateAuthority, client, *left_out: str):
    """The server container as the program makes it: env file, volumes, uploaded files (but `left_out`), both
    networks; not started."""
    env = [item for key, value in site.environment().items() for item in ("-e", f"{key}={value}")]
    volumes = [item for volume, path in VOLUMES.items() for item in ("-v", f"{name}-{volume}:{path}")]
    engine.docker("create", "--name", name, "--network", INTERNAL, "--network-alias", "codenvy-server", *env,
                  *volumes, SERVER)  # fmt: skip
    for path, content in site.files().items():
        if path not in left_out:
            engine.upload(name, path, content)
    engine.upload(name, f"{CLIENT_CERTS}/ca.pem", ca.cert.read_text())
    engine.upload(name, f"{CLIENT_CERTS}/cert.pem", client.cert.read_text())
    engine.upload(name, f"{CLIENT_CERTS}/key.pem", client.key.read_text(), mode=0o600)
    engine.docker("network", "connect", "--alias", "codenvy-server", WORKSPACES, name)


def run_server(engine: Engine, name: str, site: ServerSite, ca: CertificateAuthority, client) -> None:
    """The server created, started and answering its health check."""
    create_server(engine, name, site, ca, client)
    engine.docker("start", name)
    engine.wait_for(name, "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{HTTP_PORT}/api/", seconds=120)


def test_server_refuses_to_start_without_its_datasource(engine, postgres, ca, client_cert):
    create_server(engine, "server-no-datasource", contract_site(), ca, client_cert, SERVER_XML)
    engine.docker("start", "server-no-datasource")
    code, output = engine.exit_code("server-no-datasource", seconds=120), engine.logs("server-no-datasource")
    engine.remove("server-no-datasource")
    assert code != 0 and f"{SERVER_XML} is missing: no datasource jdbc/codenvy" in output, output


@pytest.fixture(scope="module")
def server(engine, postgres, socat, ca, client_cert) -> str:
    run_server(engine, "server", contract_site(), ca, client_cert)
    return "server"


@pytest.fixture(scope="module")
def api(engine, server) -> Api:
    return Api(engine, f"http://{engine.address(server, INTERNAL)}:{HTTP_PORT}/api")


@pytest.fixture(scope="module")
def admin(api) -> str:
    return api.login("admin", ADMIN_PASSWORD)


def new_user(api: Api, admin: str, name: str, password: str | None = None) -> dict:
    body = {"name": name, "email": f"{name}@example.org", **({"password": password} if password else {})}
    created = api.call("POST", "/user", body, admin)
    assert created.status == 201, created
    return created.json()


def test_server_reports_the_version_of_its_image(api):
    assert api.call("OPTIONS", "/").json()["implementationVersion"] == VERSIONS[0]


def test_each_server_version_is_its_own_image(engine):
    ids = {engine.docker("image", "inspect", "-f", "{{.Id}}", f"{IMAGES.server}:{v}").stdout for v in VERSIONS}
    assert len(ids) == len(VERSIONS)


def test_server_health_check_needs_no_token(api):
    assert api.call("GET", "/").status == 200


def test_server_refuses_a_call_without_a_token(api):
    assert api.call("GET", "/user").status == 401


def test_server_refuses_http_basic_credentials(api):
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    refused = api.call("GET", "/user", Authorization=basic)
    assert refused.status == 403 and "is invalid" in refused.json()["message"]


def test_server_refuses_a_wrong_password_at_login(api):
    assert api.call("POST", "/auth/login", {"username": "admin", "password": "not-it-1"}).status == 401


def test_server_accepts_the_token_as_a_query_parameter(api, admin):
    assert api.call("GET", f"/user?token={admin}").json()["name"] == "admin"


def test_admin_id_is_its_name(api, admin):
    assert api.call("GET", "/user", token=admin).json()["id"] == "admin"


def test_new_user_ids_are_user_and_16_characters(api, admin):
    assert re.fullmatch(r"user[0-9a-z]{16}", new_user(api, admin, "ids")["id"])


def test_server_keeps_users_in_the_database_server_xml_names(engine, api, admin, postgres):
    user = new_user(api, admin, "stored")
    stored = engine.docker("exec", postgres, "psql", "-tA", "-U", DATABASE_USER, "-d", DATABASE,
                           "-c", "SELECT id FROM usr WHERE name = 'stored'").stdout  # fmt: skip
    assert stored.strip() == user["id"]


def test_users_are_found_by_email(api, admin):
    user = new_user(api, admin, "found")
    assert api.call("GET", "/user/find?email=found@example.org", token=admin).json()["id"] == user["id"]


def test_only_admins_create_users(api, admin):
    new_user(api, admin, "plain", "plainpass1")
    token = api.login("plain", "plainpass1")
    assert api.call("POST", "/user", {"name": "other", "email": "other@example.org"}, token).status == 403


def test_admins_list_users_a_page_at_a_time(api, admin):
    new_user(api, admin, "paged")
    page = api.call("GET", "/admin/user?maxItems=1&skipCount=0", token=admin)
    assert page.status == 200 and len(page.json()) == 1 and 'rel="next"' in page.headers.get("Link", "")


def test_the_audit_report_counts_users_and_names_its_file_as_upstream(api, admin):
    report = api.call("GET", "/audit", token=admin)
    disposition = re.fullmatch(r"attachment; filename=report_\d\d-\d\d-\d{4}_\d\d:\d\d:\d\d\.txt",
                               report.headers.get("Content-Disposition", ""))  # fmt: skip
    assert report.text.startswith("Number of users: ") and disposition, report


# -- the Resource API ---------------------------------------------------------------------------------------------


def store_limit(api: Api, admin: str, account_id: str, resources: list[dict]) -> Answer:
    return api.call("POST", "/resource/free", {"accountId": account_id, "resources": resources}, admin)


def test_storing_a_limit_answers_201_with_default_units(api, admin):
    user = new_user(api, admin, "limited")
    stored = store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 2048}])
    assert (stored.status, stored.json()["resources"]) == (201, [{"type": "RAM", "amount": 2048, "unit": "mb"}])


def test_storing_a_limit_replaces_the_one_before(api, admin):
    user = new_user(api, admin, "replaced")
    for amount in (1, 2):
        store_limit(api, admin, user["id"], [{"type": "workspace", "amount": amount}])
    held = api.call("GET", f"/resource/free/{user['id']}", token=admin)
    assert (held.status, held.json()["resources"]) == (200, [{"type": "workspace", "amount": 2, "unit": "item"}])


def test_an_account_without_a_limit_answers_404(api, admin):
    user = new_user(api, admin, "unlimited")
    assert api.call("GET", f"/resource/free/{user['id']}", token=admin).status == 404


@pytest.mark.parametrize("held", [True, False], ids=["held", "none"])
def test_removing_a_limit_answers_204(api, admin, held):
    user = new_user(api, admin, f"removed-{'held' if held else 'none'}")
    if held:
        store_limit(api, admin, user["id"], [{"type": "runtime", "amount": 1}])
    assert api.call("DELETE", f"/resource/free/{user['id']}", token=admin).status == 204


@pytest.mark.parametrize(
    "resources",
    [
        [{"type": "CPU", "amount": 1}],
        [{"type": "RAM", "amount": 1, "unit": "gb"}],
        [{"type": "RAM", "amount": 1}, {"type": "RAM", "amount": 2}],
        [{"type": "timeout", "amount": -2}],
    ],
    ids=["unknown-type", "wrong-unit", "repeated-type", "below-minus-one"],
)
def test_an_invalid_limit_answers_400(api, admin, resources):
    assert store_limit(api, admin, "admin", resources).status == 400


def test_a_limit_for_an_unknown_account_answers_500(api, admin):
    answer = store_limit(api, admin, "nobody", [])
    assert answer.status == 500


def test_limits_are_listed_with_a_link_header(api, admin):
    user = new_user(api, admin, "listed")
    store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 1}])
    listed = api.call("GET", "/resource/free?maxItems=1&skipCount=0", token=admin)
    assert listed.status == 200 and len(listed.json()) == 1 and 'rel="next"' in listed.headers.get("Link", "")


def test_total_resources_fill_in_the_configured_defaults(api, admin):
    user = new_user(api, admin, "totals")
    store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 512}])
    totals = {
        r["type"]: (r["amount"], r["unit"]) for r in api.call("GET", f"/resource/{user['id']}", token=admin).json()
    }
    # general.properties: 4096mb would be the default RAM, 14400000 ms idle; the environment's 7 workspaces win.
    assert totals == {"RAM": (512, "mb"), "timeout": (240, "minute"), "workspace": (7, "item"), "runtime": (10, "item")}


def test_total_resources_of_an_unknown_account_answer_404(api, admin):
    assert api.call("GET", "/resource/nobody", token=admin).status == 404


def test_the_resource_api_needs_the_admin(api, admin):
    new_user(api, admin, "curious", "curious123")
    token = api.login("curious", "curious123")
    assert api.call("GET", "/resource/free", token=token).status == 403


def test_a_user_reads_the_totals_of_their_own_account_only(api, admin):
    user = new_user(api, admin, "owner", "owner1234")
    token = api.login("owner", "owner1234")
    statuses = [api.call("GET", f"/resource/{account}", token=token).status for account in (user["id"], "admin")]
    assert statuses == [200, 403]


# -- workspaces placed through the Docker API -----------------------------------------------------------------------


def workspace_config(name: str, memory: int = MEMORY_BYTES) -> dict:
    """A WorkspaceConfigDto with one dev machine from the stack image (dockerimage: the image is the location)."""
    return {
        "name": name,
        "defaultEnv": "default",
        "environments": {
            "default": {
                "recipe": {"type": "dockerimage", "location": STACK_IMAGE},
                "machines": {"dev-machine": {"attributes": {"memoryLimitBytes": str(memory)}, "agents": [WS_AGENT]}},
            }
        },
    }


@dataclass
class Developer:
    user: dict
    token: str


@pytest.fixture(scope="module")
def developer(api, admin) -> Developer:
    user = new_user(api, admin, "dev", "devpass123")
    return Developer(user, api.login("dev", "devpass123"))


def machines_of(engine: Engine, workspace_id: str) -> list[dict]:
    names = engine.docker("ps", "-aq", "--filter", f"label=che:workspace:id={workspace_id}").stdout.split()
    return [engine.inspect(name) for name in names]


@dataclass(frozen=True)
class Start:
    """A workspace started through the API, and when: the engine's events and the registry's log are read over
    that span."""

    workspace: dict
    since: float
    until: float

    @property
    def id(self) -> str:
        return self.workspace["id"]


def start_workspace(engine: Engine, api: Api, token: str, workspace_id: str) -> Start:
    since = time.time()
    answer = api.call("POST", f"/workspace/{workspace_id}/runtime", token=token)
    assert answer.status == 200, f"{answer}\n{engine.logs('server')[-4000:]}"
    return Start(answer.json(), since, time.time())


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


@pytest.fixture(scope="module")
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


@dataclass(frozen=True)
class Snapshotted:
    start: Start
    machine: dict  # the machine as it ran before the stop

    @property
    def id(self) -> str:
        return self.start.id


@pytest.fixture(scope="module")
def snapshotted(engine, api, developer, started) -> Snapshotted:
    """The running workspace changed inside its machine, then stopped with a snapshot."""
    (machine,) = machines_of(engine, started.id)
    engine.docker("exec", machine["Id"], "sh", "-c", "echo edited > /projects/src/B.java; echo kept > /root/marker")
    stopped = api.call("DELETE", f"/workspace/{started.id}/runtime?create-snapshot=true", token=developer.token)
    assert stopped.status == 204, f"{stopped}\n{engine.logs('server')[-4000:]}"
    return Snapshotted(started, machine)


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


@dataclass(frozen=True)
class Restore:
    start: Start
    machine: dict
    marker: str  # what the file written before the snapshot holds in the restored machine
    snapshot: str  # the snapshot's location: <registry>/<repository>:<tag>


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def refused_start(engine, full_server) -> Answer:
    """A workspace start on the full manager, and its answer."""
    token = full_server.login("admin", ADMIN_PASSWORD)
    workspace = full_server.call("POST", "/workspace", workspace_config("nowhere"), token).json()
    return full_server.call("POST", f"/workspace/{workspace['id']}/runtime", token=token)


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
