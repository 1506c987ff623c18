"""The postgres and server stand-ins as continuous DR runs them: a primary on one simulated host, a hot standby
on another seeded with pg_basebackup over TLS (replication role, slot, passfile), its server idle against the
read-only replica until the replica is promoted. Tests run in file order; promotion comes last."""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.master_layout import DATABASE, DATABASE_USER, POSTGRES_ALIASES, POSTGRES_DATA_DIR, SERVER_PORT
from components.postgres_streaming import CONF_DIR, REPLICATION_ROLE, postgres_command, render_pg_hba
from scripts.sim.node import NodeCommandError
from scripts.sim.waiting import wait_until
from tests.cluster.server_contract import SERVER_XML, VOLUMES, ServerSite
from tests.cluster.sim import Node
from tests.harness import site_config

# A primary site's master and its standby's.
LANE_NODES = 2
SITE = site_config("sim")
POSTGRES = SITE.images.postgres
SERVER = f"{SITE.images.server}:{SITE.version}"
DATABASE_PASSWORD = secrets.token_hex(16)
REPLICATION_PASSWORD = secrets.token_hex(16)
ADMIN_PASSWORD = f"admin-{secrets.token_hex(8)}-1"
# The server's configuration as the contract gives it; its Docker API is never called here.
SERVER_SITE = ServerSite(
    database=DATABASE,
    database_user=DATABASE_USER,
    database_password=DATABASE_PASSWORD,
    admin_password=ADMIN_PASSWORD,
    daemon_url="http://codenvy-swarm:2375",
    registry="127.0.0.1:5000",
)
SERVER_CONF = {"conf": "/opt/codenvy-data/conf", "tomcat-conf": SERVER_XML.rsplit("/", 1)[0]}
SLOT = "codenvy_dr"
POSTGRES_UID = "999:999"
NETWORK = "internal"
# The program's own server arguments (the same on both sites), less the leading `postgres`.
SERVER_SETTINGS = tuple(postgres_command()[1:])
REPLICA_DELAY_SECONDS = 5
SKIPPED_INIT = "PostgreSQL Database directory appears to contain a database; Skipping initialization"
# Idempotent, fed through stdin so the secret never shows in a process list.
ROLE_AND_SLOT = r"""\set ON_ERROR_STOP on
SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT 5 PASSWORD %L',
              :'role', :'password') \gexec
SELECT slot_name FROM pg_create_physical_replication_slot(:'slot', true)
 WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = :'slot');
"""


@dataclass(frozen=True)
class Site:
    """One site's master: the simulated host and the names of its containers there."""

    node: Node
    postgres: str = "postgres"
    server: str = "server"

    def sql(self, statement: str, database: str = DATABASE, check: bool = True) -> subprocess.CompletedProcess:
        """One statement through the container's own socket (pg_hba's `local ... trust`)."""
        argv = ("psql", "-X", "-At", "-v", "ON_ERROR_STOP=1", "-U", DATABASE_USER, "-d", database, "-c", statement)
        return self.node.docker("exec", self.postgres, *argv, check=check)

    def api(self, method: str, path: str, body: str | None = None, token: str | None = None) -> tuple[int, dict]:
        """A call to the server from inside its container, as the admin: the status and the JSON body."""
        token = token or self.login()
        data = ("-H", "Content-Type: application/json", "--data-binary", body) if body is not None else ()
        url = f"http://localhost:{SERVER_PORT}/api{path}"
        curl = ("curl", "-sS", "-H", f"Authorization: {token}", "-X", method, *data, "-w", "\n%{http_code}", url)
        text, _, status = self.node.docker("exec", self.server, *curl).stdout.rpartition("\n")
        return int(status), json.loads(text) if text else {}

    def login(self) -> str:
        """codenvy add-node.sh.erb: POST /api/auth/login, the token in the answer's value."""
        body = json.dumps({"username": "admin", "password": ADMIN_PASSWORD})
        curl = ("curl", "-sS", "-H", "Content-Type: application/json", "--data-binary", body,
                f"http://localhost:{SERVER_PORT}/api/auth/login")  # fmt: skip
        return json.loads(self.node.docker("exec", self.server, *curl).stdout)["value"]


def new_user(name: str) -> str:
    """A UserDto for POST /api/user (che UserValidator: a name, an address, a password of letters and digits)."""
    return json.dumps({"name": name, "email": f"{name}@example.org", "password": f"{name}-pw-1"})


def eventually(what: str, check, seconds: float):
    return wait_until(what, check, timeout=seconds, every=0.2, expected=(NodeCommandError,))


def wait_for(node: Node, container: str, *probe: str, seconds: int = 90) -> None:
    eventually(f"{container} on {node.name}: {' '.join(probe)}", lambda: probe_passes(node, container, probe), seconds)


def probe_passes(node: Node, container: str, probe: tuple[str, ...]) -> bool:
    if node.docker("exec", container, *probe, check=False).returncode == 0:
        return True
    state = node.inspect(container)["State"]
    if not state["Running"]:
        logs = node.docker("logs", container, check=False)
        raise AssertionError(f"{container} on {node.name} exited {state['ExitCode']}:\n{logs.stdout}{logs.stderr}")
    return False


def openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def site_ca(directory: Path) -> Path:
    """A private CA (EC P-256) the replica verifies the primary against."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
            "-subj", "/CN=codenvy-dr-ca", "-keyout", directory / "ca.key", "-out", directory / "ca.crt")  # fmt: skip
    return directory


def server_certificate(ca: Path, address: str) -> tuple[str, str]:
    """A certificate for `address` (IP SAN, so verify-full holds) signed by the CA, and its key."""
    prefix = ca / address
    Path(f"{prefix}.ext").write_text(f"subjectAltName=IP:{address}\nbasicConstraints=critical,CA:FALSE\n")
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", f"/CN={address}",
            "-keyout", f"{prefix}.key", "-out", f"{prefix}.csr")  # fmt: skip
    openssl("x509", "-req", "-in", f"{prefix}.csr", "-CA", ca / "ca.crt", "-CAkey", ca / "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", f"{prefix}.ext", "-out", f"{prefix}.crt")  # fmt: skip
    return Path(f"{prefix}.crt").read_text(), Path(f"{prefix}.key").read_text()


def write_conf_volume(node: Node, volume: str, files: dict[str, str]) -> None:
    """The site's TLS and pg_hba files, owned by the server's uid with mode 0600 (PostgreSQL refuses a key
    that root owns or others can read), written through throw-away containers of the image."""
    mount = ("-v", f"{volume}:/conf")
    node.docker("run", "--rm", *mount, "--entrypoint", "chown", POSTGRES, POSTGRES_UID, "/conf")
    for name, content in files.items():
        write = f"umask 077; cat > /conf/{name}.new && mv /conf/{name}.new /conf/{name}"
        node.docker("run", "--rm", "-i", "--user", POSTGRES_UID, *mount, "--entrypoint", "sh", POSTGRES, "-c", write,
                    stdin=content)  # fmt: skip


def conf_files(ca: Path, own_address: str, peer_address: str) -> dict[str, str]:
    certificate, key = server_certificate(ca, own_address)
    ca_certificate = (ca / "ca.crt").read_text()
    return {
        "server.crt": certificate,
        "server.key": key,
        "ca.crt": ca_certificate,
        "pg_hba.conf": render_pg_hba((peer_address,)),
    }


def run_postgres(site: Site) -> None:
    """The site's PostgreSQL as the program would run it: published on the master's address for the peer."""
    node = site.node
    node.docker("network", "create", NETWORK)
    node.docker(
        "run", "-d", "--name", site.postgres, "--network", NETWORK, *aliases(POSTGRES_ALIASES),
        "-p", f"{node.address}:5432:5432", "-e", f"POSTGRES_DB={DATABASE}", "-e", f"POSTGRES_USER={DATABASE_USER}",
        "-e", f"POSTGRES_PASSWORD={DATABASE_PASSWORD}", "-v", f"pgdata:{POSTGRES_DATA_DIR}",
        "-v", f"pgconf:{CONF_DIR}:ro", POSTGRES, "postgres", *SERVER_SETTINGS,
    )  # fmt: skip
    # Over TCP: the first boot's temporary server answers on the socket only.
    wait_for(node, site.postgres, "pg_isready", "-h", "127.0.0.1", "-U", DATABASE_USER, "-d", DATABASE)


def aliases(names: tuple[str, ...]) -> list[str]:
    return [argument for name in names for argument in ("--network-alias", name)]


def write_volume(node: Node, volume: str, name: str, content: str) -> None:
    """One file into a named volume, through a throw-away container of the server's image."""
    node.docker("run", "--rm", "-i", "-v", f"{volume}:/into", "--entrypoint", "sh", SERVER, "-c",
                f"cat > /into/{name}", stdin=content)  # fmt: skip


def run_server(site: Site) -> None:
    """The application server configured as the contract says (environment, conf/, server.xml), healthy once
    /api/ answers."""
    for path, content in SERVER_SITE.files().items():
        directory, name = path.rsplit("/", 1)
        write_volume(site.node, next(v for v, d in SERVER_CONF.items() if d == directory), name, content)
    env = [item for key, value in SERVER_SITE.environment().items() for item in ("-e", f"{key}={value}")]
    mounts = {**VOLUMES, **SERVER_CONF}
    site.node.docker(
        "run", "-d", "--name", site.server, "--network", NETWORK, *env,
        *(item for volume, path in mounts.items() for item in ("-v", f"{volume}:{path}")), SERVER,
    )  # fmt: skip
    wait_for(site.node, site.server, "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{SERVER_PORT}/api/")


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> Path:
    return site_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def primary(cluster, ca) -> Site:
    """The active site: PostgreSQL with the replication role and the standby's slot, and its server."""
    site, standby_node = Site(cluster[0]), cluster[1]
    write_conf_volume(site.node, "pgconf", conf_files(ca, site.node.address, standby_node.address))
    run_postgres(site)
    variables = ("-v", f"role={REPLICATION_ROLE}", "-v", f"slot={SLOT}", "-v", f"password={REPLICATION_PASSWORD}")
    site.node.docker("exec", "-i", site.postgres, "psql", "-X", "-q", "-At", *variables, "-U", DATABASE_USER,
                     "-d", "postgres", "-f", "-", stdin=ROLE_AND_SLOT)  # fmt: skip
    run_server(site)
    return site


@pytest.fixture(scope="module")
def standby(cluster, ca, primary) -> Site:
    """The hot standby: its data directory seeded from the primary by pg_basebackup -R -S (authenticated by a
    passfile), then the unchanged image started on it, then its server."""
    site, primary_address = Site(cluster[1]), primary.node.address
    files = conf_files(ca, site.node.address, primary_address)
    pgpass = f"{primary_address}:5432:*:{REPLICATION_ROLE}:{REPLICATION_PASSWORD}\n"
    write_conf_volume(site.node, "pgconf", {**files, "replication.pgpass": pgpass})
    source = (
        f"host={primary_address} port=5432 user={REPLICATION_ROLE} sslmode=verify-full "
        f"sslrootcert={CONF_DIR}/ca.crt passfile={CONF_DIR}/replication.pgpass application_name={SLOT}"
    )
    site.node.docker(
        "run", "--rm", "--user", POSTGRES_UID, "-v", f"pgdata:{POSTGRES_DATA_DIR}", "-v", f"pgconf:{CONF_DIR}:ro",
        "--entrypoint", "pg_basebackup", POSTGRES,
        "-D", POSTGRES_DATA_DIR, "-R", "-S", SLOT, "-X", "stream", "-c", "fast", "-d", source,
    )  # fmt: skip
    run_postgres(site)
    run_server(site)
    return site


@pytest.mark.parametrize("tool", ["pg_basebackup", "pg_controldata", "psql"])
def test_postgres_image_carries_the_replication_tools(cluster, tool):
    version = cluster[0].docker("run", "--rm", "--entrypoint", tool, POSTGRES, "--version").stdout
    assert " 15." in version, version


def test_first_boot_fails_on_the_containers_own_server_settings(cluster):
    node = cluster[0]
    name = "postgres-ssl-without-certificate"
    node.docker("run", "-d", "--name", name, "-e", f"POSTGRES_PASSWORD={DATABASE_PASSWORD}",
                POSTGRES, "postgres", "-c", "ssl=on")  # fmt: skip
    exit_code = node.docker("wait", name).stdout.strip()
    logs = node.docker("logs", name)
    logs = f"{logs.stdout}{logs.stderr}"
    assert exit_code != "0" and "init process complete" not in logs, logs


def test_seeded_replica_skips_initialisation(standby):
    assert SKIPPED_INIT in standby.node.docker("logs", standby.postgres).stdout


def test_seeded_replica_keeps_no_password_in_its_settings(standby):
    # pg_basebackup -R writes the connection it used; with a passfile, no password= goes into it.
    settings = standby.node.docker("exec", standby.postgres, "cat", f"{POSTGRES_DATA_DIR}/postgresql.auto.conf")
    conninfo = re.search(r"^primary_conninfo = '(.*)'$", settings.stdout, re.MULTILINE).group(1).replace("''", "'")
    assert "password" not in re.findall(r"(\w+)=", conninfo), conninfo


def test_primary_streams_to_the_standby_host_over_tls(primary, standby):
    statement = "SELECT r.state, s.ssl, r.client_addr FROM pg_stat_replication r JOIN pg_stat_ssl s USING (pid)"
    stream = eventually("a replication stream", lambda: primary.sql(statement).stdout.strip(), 10)
    assert stream == f"streaming|t|{standby.node.address}"


def test_primary_refuses_replication_from_another_address(primary, standby):
    # From the primary's own host: the only hostssl line names the standby's address.
    attempt = primary.node.docker(
        "run", "--rm", "--entrypoint", "psql", POSTGRES,
        f"host={primary.node.address} user={REPLICATION_ROLE} dbname=replication replication=true sslmode=require",
        "-c", "IDENTIFY_SYSTEM", check=False,
    )  # fmt: skip
    assert "no pg_hba.conf entry for replication connection" in attempt.stderr, attempt.stderr


def test_row_inserted_on_the_primary_is_read_on_the_replica(primary, standby):
    primary.sql("CREATE TABLE markers (value text); INSERT INTO markers VALUES ('inserted on the primary')")
    replicated = eventually(
        "the row on the replica",
        lambda: standby.sql("SELECT value FROM markers", check=False).stdout.strip(),
        REPLICA_DELAY_SECONDS,
    )
    assert replicated == "inserted on the primary"


def test_replica_refuses_writes(standby):
    attempt = standby.sql("CREATE TABLE IF NOT EXISTS written_on_the_replica (value text)", check=False)
    assert "read-only transaction" in attempt.stderr, attempt.stderr


def test_standby_server_passes_its_healthcheck(standby):
    health = standby.node.docker("exec", standby.server, "curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}",
                                 f"http://localhost:{SERVER_PORT}/api/")  # fmt: skip
    assert health.stdout == "200"


def test_standby_server_reads_users_created_on_the_primary(primary, standby):
    status, created = primary.api("POST", "/user", new_user("before-failover"))
    assert status == 201, created
    read = eventually("the user on the standby", lambda: standby.api("GET", f"/user/{created['id']}")[1].get("email"),
                      REPLICA_DELAY_SECONDS)  # fmt: skip
    assert read == created["email"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/user", new_user("on-the-standby")),
        ("PUT", "/project/workspace0123456789abcdef/README.md", "written on the standby"),
        ("DELETE", "/resource/free/user-1", None),
    ],
)
def test_standby_server_refuses_writes_as_an_idle_standby(standby, method, path, body):
    status, answer = standby.api(method, path, body)
    assert (status, answer.get("mode")) == (503, "standby"), answer


def test_standby_server_reports_standby_in_its_stats(standby):
    assert standby.api("GET", "/stats")[1]["mode"] == "standby"


@pytest.fixture(scope="module")
def promoted(standby) -> str:
    """The replica promoted in place; what the server container's start time was before."""
    started = standby.node.inspect(standby.server)["State"]["StartedAt"]
    assert standby.sql("SELECT pg_promote(true, 60)").stdout.strip() == "t"
    return started


def test_promoted_server_accepts_a_write(standby, promoted):
    status, answer = standby.api("POST", "/user", new_user("after-failover"))
    assert status == 201, answer


def test_promoted_server_was_not_restarted(standby, promoted):
    assert standby.node.inspect(standby.server)["State"]["StartedAt"] == promoted


def test_promoted_server_reports_active_in_its_stats(standby, promoted):
    assert standby.api("GET", "/stats")[1]["mode"] == "active"
