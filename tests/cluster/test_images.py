"""The locally built stand-ins behave like the public images the program pins, on a private dockerd in a
network namespace of its own (its bridges never touch the simulated cluster's addresses)."""

from __future__ import annotations

import io
import json
import os
import secrets
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from components.app_server import AppServerSettings, render_codenvy_env
from components.config import ImagesConfig
from components.load_balancer import HAPROXY_CERT_PATH, HAPROXY_CFG_PATH, render_haproxy_cfg
from components.master_layout import (
    DATA_ROOT,
    DATABASE,
    DATABASE_USER,
    INSTANCE_DIR,
    POSTGRES_ALIAS,
    SERVER_ALIAS,
    SERVER_PORT,
)
from components.script_templates import SCRIPTS_DIR
from scripts.sim.waiting import WaitTimeoutError, wait_until
from tests.cluster.images import BUSYBOX_IMAGE, import_images, program_images
from tests.harness import PROJECT_DIR, site_config

IMAGES = ImagesConfig()
VERSIONS = ("5.22.0", "5.23.0")
SERVER = f"{IMAGES.server}:{VERSIONS[0]}"
PASSWORD = secrets.token_hex(16)
HELLO_CFG = """global
    log stdout format raw local0
defaults
    mode http
    timeout connect 5s
    timeout client 10s
    timeout server 10s
frontend http
    bind :80
    http-request return status 200 content-type text/plain string hello
"""


@dataclass(frozen=True)
class Engine:
    """A dockerd of our own: its socket, and the network namespace its containers are reachable from."""

    host: str
    netns: str

    def docker(self, *args: str, check: bool = True, stdin: bytes | None = None) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker", "-H", self.host, *args], input=stdin, capture_output=True, timeout=120)
        result.stdout, result.stderr = result.stdout.decode(errors="replace"), result.stderr.decode(errors="replace")
        if check and result.returncode != 0:
            raise AssertionError(f"docker {' '.join(args)} failed: {result.stderr.strip()}")
        return result

    def inside(self, *argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """A command on this machine but in the engine's network namespace, where container addresses route."""
        return subprocess.run(
            ["nsenter", f"--net=/var/run/netns/{self.netns}", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **(env or {})},
        )

    def address(self, container: str, network: str = "bridge") -> str:
        template = f'{{{{(index .NetworkSettings.Networks "{network}").IPAddress}}}}'
        return self.docker("inspect", "-f", template, container).stdout.strip()

    def wait_for(self, container: str, *probe: str, seconds: int = 60) -> None:
        try:
            wait_until(
                f"{container}: {' '.join(probe)}",
                lambda: self.docker("exec", container, *probe, check=False).returncode == 0,
                timeout=seconds,
            )
        except WaitTimeoutError as timeout:
            logs = self.docker("logs", container, check=False)
            raise WaitTimeoutError(f"{timeout}\n{logs.stdout}{logs.stderr}") from None


def root_owned_file(engine: Engine, container: str, path: str, content: str, mode: int = 0o644) -> str:
    """Upload a file owned by root, as the docker provider's uploads are."""
    data = content.encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(path.lstrip("/"))
        info.size, info.mode = len(data), mode
        archive.addfile(info, io.BytesIO(data))
    engine.docker("cp", "-", f"{container}:/", stdin=buffer.getvalue())
    return path


def self_signed(directory: Path, name: str) -> tuple[str, str]:
    """A certificate for `name` and its key, in PEM."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={name}",
         "-addext", f"subjectAltName=DNS:{name}", "-keyout", directory / "tls.key", "-out", directory / "tls.crt"],
        check=True, capture_output=True,
    )  # fmt: skip
    return (directory / "tls.crt").read_text(), (directory / "tls.key").read_text()


def https_haproxy(engine: Engine, name: str, tmp_path: Path, *user: str) -> None:
    """HAProxy with the program's HTTPS config and its key uploaded as the provider does: root, 0600."""
    engine.docker("create", "--name", name, *user, IMAGES.haproxy)
    root_owned_file(engine, name, HAPROXY_CFG_PATH, render_haproxy_cfg(site_config("dev").https))
    cert, key = self_signed(tmp_path, "localhost")
    root_owned_file(engine, name, HAPROXY_CERT_PATH, cert + key, mode=0o600)
    engine.docker("start", name)


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[Engine]:
    if shutil.which("debootstrap") is None:
        pytest.skip("building the images needs debootstrap: run scripts/install-cluster-deps")
    root = tmp_path_factory.mktemp("engine")
    netns = f"codenvy-images-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", netns], check=True)
    daemon = None
    try:
        subprocess.run(["ip", "-n", netns, "link", "set", "lo", "up"], check=True)
        sock = f"unix://{root}/sock"
        daemon = subprocess.Popen(
            ["nsenter", f"--net=/var/run/netns/{netns}", "dockerd", "--data-root", f"{root}/data",
             "--exec-root", f"{root}/exec", "--pidfile", f"{root}/pid", "-H", sock],
            stdout=(root / "dockerd.log").open("w"), stderr=subprocess.STDOUT,
        )  # fmt: skip
        engine = Engine(sock, netns)
        try:
            wait_until("dockerd answering", lambda: engine.docker("version", check=False).returncode == 0, timeout=60)
        except WaitTimeoutError as timeout:
            pytest.fail(f"{timeout}:\n{(root / 'dockerd.log').read_text()[-2000:]}")
        import_images(sock, {**program_images(IMAGES, VERSIONS), BUSYBOX_IMAGE: "busybox"})
        yield engine
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
        subprocess.run(["ip", "netns", "del", netns], check=False)
        subprocess.run(["rm", "-rf", "--one-file-system", str(root / "data"), str(root / "exec")], check=False)


def test_haproxy_runs_as_uid_99_by_default(engine):
    user = engine.docker("run", "--rm", IMAGES.haproxy, "id").stdout
    assert user.split()[:2] == ["uid=99(haproxy)", "gid=99(haproxy)"]


def test_haproxy_serves_its_config_on_port_80_without_root(engine):
    engine.docker("create", "--name", "haproxy", IMAGES.haproxy)
    config = root_owned_file(engine, "haproxy", HAPROXY_CFG_PATH, HELLO_CFG)
    engine.docker("start", "haproxy")
    engine.wait_for("haproxy", "haproxy", "-c", "-q", "-f", config)  # the program's health check
    page = engine.docker("run", "--rm", BUSYBOX_IMAGE, "wget", "-qO-", f"http://{engine.address('haproxy')}/")
    assert page.stdout == "hello"


def test_haproxy_as_its_default_user_cannot_read_a_root_only_key(engine, tmp_path):
    https_haproxy(engine, "haproxy-default-user", tmp_path)
    exit_code = engine.docker("wait", "haproxy-default-user").stdout.strip()
    logs = engine.docker("logs", "haproxy-default-user").stderr
    assert exit_code != "0" and f"cannot open the file '{HAPROXY_CERT_PATH}'" in logs, logs


def test_haproxy_started_as_root_serves_https_and_drops_to_haproxy(engine, tmp_path):
    https_haproxy(engine, "haproxy-root", tmp_path, "--user", "root")
    engine.wait_for("haproxy-root", "haproxy", "-c", "-q", "-f", HAPROXY_CFG_PATH)
    url = f"https://{engine.address('haproxy-root')}/"
    status = engine.inside("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", url).stdout
    assert status == "503", "TLS served with the uploaded key; no server behind it yet"
    listing = engine.docker("exec", "haproxy-root", "busybox", "ps", "-o", "user,comm").stdout
    processes = {tuple(line.split()) for line in listing.splitlines()[1:]}
    assert {("root", "haproxy"), ("haproxy", "haproxy")} <= processes, listing


@pytest.fixture(scope="module")
def postgres(engine) -> str:
    """The site's PostgreSQL as the program configures it, on a user-defined network, initialised on start."""
    engine.docker("network", "create", "internal")
    engine.docker(
        "run", "-d", "--name", "postgres", "--network", "internal", "--network-alias", POSTGRES_ALIAS,
        "-e", f"POSTGRES_DB={DATABASE}", "-e", f"POSTGRES_USER={DATABASE_USER}", "-e", f"POSTGRES_PASSWORD={PASSWORD}",
        "-v", "pgdata:/var/lib/postgresql/data", IMAGES.postgres,
    )  # fmt: skip
    engine.wait_for("postgres", "pg_isready", "-h", "127.0.0.1", "-U", DATABASE_USER, "-d", DATABASE)
    return "postgres"


def pid_1_runs(engine: Engine, container: str) -> str:
    return engine.docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")[0]


def test_postgres_is_ready_for_the_scripts_only_once_its_first_boot_is_over(engine):
    """The entrypoint's first-boot server answers on the socket; the scripts' readiness check must not."""
    engine.docker("create", "--name", "postgres-first-boot", "-e", f"POSTGRES_PASSWORD={PASSWORD}", IMAGES.postgres)
    root_owned_file(engine, "postgres-first-boot", "/docker-entrypoint-initdb.d/slow.sh", "sleep 5\n")
    engine.docker("start", "postgres-first-boot")
    engine.wait_for("postgres-first-boot", "pg_isready", "-q")
    assert pid_1_runs(engine, "postgres-first-boot") != "postgres", "the socket answered the first-boot server"
    wait = (SCRIPTS_DIR / "lib" / "postgres_ready.sh").read_text() + "wait_for_postgres postgres-first-boot 60\n"
    subprocess.run(["bash", "-c", wait], env={**os.environ, "DOCKER_HOST": engine.host}, check=True, timeout=90)
    assert pid_1_runs(engine, "postgres-first-boot") == "postgres"
    engine.docker("rm", "-f", "postgres-first-boot")


def test_postgres_initialises_the_site_database(engine, postgres):
    owner = engine.docker("exec", postgres, "psql", "-tA", "-U", DATABASE_USER, "-d", DATABASE,
                          "-c", "SELECT current_user, current_database()").stdout  # fmt: skip
    assert owner.strip() == f"{DATABASE_USER}|{DATABASE}"


def test_postgres_refuses_a_wrong_password_over_the_network(engine, postgres):
    attempt = engine.docker(
        "run", "--rm", "--network", "internal", "-e", "PGPASSWORD=wrong", IMAGES.postgres,
        "psql", "-h", POSTGRES_ALIAS, "-U", DATABASE_USER, "-d", DATABASE, "-c", "SELECT 1", check=False,
    )  # fmt: skip
    assert "password authentication failed" in attempt.stderr


def test_postgres_carries_the_backup_tools(engine, postgres):
    dump = engine.docker("exec", postgres, "sh", "-c", f"pg_dump -Fc -U {DATABASE_USER} -d {DATABASE} | wc -c")
    assert int(dump.stdout) > 0
    assert engine.docker("exec", postgres, "sh", "-c", "command -v pg_restore").returncode == 0


@pytest.fixture(scope="module")
def server(engine, postgres) -> str:
    """The application server with the environment, files and volumes the program gives it."""
    env = [
        *render_codenvy_env(AppServerSettings.of(site_config("dev"))).splitlines(),
        f"CODENVY_PGSQL_PASSWORD={PASSWORD}",
    ]
    engine.docker(
        "create", "--name", "server", "--network", "internal", "--network-alias", SERVER_ALIAS,
        *(item for variable in env for item in ("-e", variable)),
        "-v", f"fs:{DATA_ROOT}/fs", "-v", f"instance:{INSTANCE_DIR}", SERVER,
    )  # fmt: skip
    root_owned_file(engine, "server", f"{INSTANCE_DIR}/codenvy.ver", f"{VERSIONS[0]}\n")
    engine.docker("start", "server")
    engine.wait_for("server", "curl", "-fsS", "-o", "/dev/null", f"http://localhost:{SERVER_PORT}/api/")
    return "server"


def api(engine: Engine, method: str, path: str, body: str | None = None) -> dict:
    url = f"http://{engine.address('server', 'internal')}:{SERVER_PORT}/api{path}"
    data = ["--data-binary", body] if body is not None else []
    result = engine.inside("curl", "-fsS", "-u", f"admin:{PASSWORD}", "-X", method, *data, url)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_server_reports_the_version_the_program_uploads(engine, server):
    health = engine.docker("exec", server, "curl", "-fsS", f"http://localhost:{SERVER_PORT}/api/")
    assert json.loads(health.stdout)["version"] == VERSIONS[0]


def test_server_keeps_users_in_postgres(engine, server, postgres):
    user = api(engine, "POST", "/user", json.dumps({"email": "dev1@example.org"}))
    stored = engine.docker("exec", postgres, "psql", "-tA", "-U", DATABASE_USER, "-d", DATABASE,
                           "-c", "SELECT id FROM users WHERE email = 'dev1@example.org'").stdout  # fmt: skip
    assert stored.strip() == str(user["id"])


def test_server_writes_project_files_under_the_fs_volume(engine, server):
    owner = api(engine, "POST", "/user", json.dumps({"email": "dev2@example.org"}))
    workspace = api(engine, "POST", "/workspace", json.dumps({"owner": owner["id"], "name": "wksp"}))
    api(engine, "PUT", f"/project/{workspace['id']}/src/A.java", "class A {}")
    stored = engine.docker("exec", server, "cat", f"{DATA_ROOT}/fs/{workspace['id']}/src/A.java")
    assert stored.stdout == "class A {}"


def test_server_satisfies_the_programs_resource_api_client(engine, server):
    environment = {
        "CODENVY_API_URL": f"http://{engine.address('server', 'internal')}:{SERVER_PORT}/api",
        "CODENVY_ADMIN_PASSWORD": PASSWORD,
        "CODENVY_LIMITS": json.dumps([{"type": "RAM", "amount": 2048}, {"type": "workspace", "amount": 10}]),
    }
    client = [sys.executable, str(PROJECT_DIR / "components" / "resource_api.py"), "limits", "apply", "user-1"]
    runs = [engine.inside(*client, env=environment) for _ in range(2)]
    assert [run.stdout.strip() for run in runs] == [
        "limits of user-1: set RAM=2048 mb, workspace=10 item",
        "limits of user-1: unchanged",
    ], runs[0].stderr


def test_each_server_version_is_its_own_image(engine):
    ids = {engine.docker("image", "inspect", "-f", "{{.Id}}", f"{IMAGES.server}:{v}").stdout for v in VERSIONS}
    assert len(ids) == len(VERSIONS)


@pytest.mark.parametrize("container", ["postgres", "server"])
def test_docker_stop_exits_cleanly(engine, server, container):
    engine.docker("stop", container)
    assert engine.docker("inspect", "-f", "{{.State.ExitCode}}", container).stdout.strip() == "0"


def test_registry_serves_tls_from_the_programs_env(engine, tmp_path):
    cert, key = self_signed(tmp_path, "registry")
    engine.docker(
        "create", "--name", "registry", "-e", "REGISTRY_HTTP_DEBUG_ADDR=127.0.0.1:5001",
        "-e", "REGISTRY_HTTP_TLS_CERTIFICATE=/certs/tls.crt", "-e", "REGISTRY_HTTP_TLS_KEY=/certs/tls.key",
        IMAGES.registry,
    )  # fmt: skip
    root_owned_file(engine, "registry", "/certs/tls.crt", cert)
    root_owned_file(engine, "registry", "/certs/tls.key", key, mode=0o600)
    engine.docker("start", "registry")
    engine.wait_for("registry", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:5001/debug/health")
    address = engine.address("registry")
    served = engine.inside("curl", "-sS", "--cacert", str(tmp_path / "tls.crt"), "--resolve",
                           f"registry:5000:{address}", "https://registry:5000/v2/")  # fmt: skip
    assert served.returncode == 0 and served.stdout.strip() == "{}", served.stderr
