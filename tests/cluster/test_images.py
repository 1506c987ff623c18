"""The locally built stand-ins behave like the public images the program pins: PostgreSQL, HAProxy, the registry,
and Codenvy's engine relay, agents service, placement manager and the lane's workspace machine image, on a
private dockerd in a network namespace of its own (tests/cluster/private_engine.py). The application server's
image has its own package, server_image/."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator

import pytest

from components.load_balancer import HAPROXY_CERT_PATH, HAPROXY_CFG_PATH, render_haproxy_cfg
from components.master_layout import DATABASE, DATABASE_USER, POSTGRES_ALIAS
from components.script_templates import SCRIPTS_DIR
from tests.cluster.image_flavours import SWARM_PACKAGE
from tests.cluster.images import BUSYBOX_IMAGE, WORKSPACE_IMAGE, load_real_swarm
from tests.cluster.private_engine import CertificateAuthority, Engine, have_debootstrap
from tests.cluster.stand_in_services import (
    IMAGES,
    INTERNAL,
    SWARM,
    WORKSPACES,
    create_networks,
    images_engine,
    relay_ping,
    run_agents,
    run_postgres,
    run_socat,
    wait_for_relay,
)
from tests.harness import site_config

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


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Iterator[Engine]:
    if not have_debootstrap():
        pytest.skip("building the images needs debootstrap: run scripts/install-cluster-deps")
    yield from images_engine(tmp_path_factory.mktemp("engine"))


@pytest.fixture(scope="module")
def ca(tmp_path_factory) -> CertificateAuthority:
    return CertificateAuthority(tmp_path_factory.mktemp("ca"))


# -- haproxy, postgres, registry -----------------------------------------------------------------------------------


def self_signed(ca: CertificateAuthority, name: str) -> tuple[str, str]:
    return ca.self_signed(name).pem()


def https_haproxy(engine: Engine, name: str, ca: CertificateAuthority, *user: str) -> None:
    """HAProxy with the program's HTTPS config and its key uploaded as the provider does: root, 0600."""
    engine.docker("create", "--name", name, *user, IMAGES.haproxy)
    engine.upload(name, HAPROXY_CFG_PATH, render_haproxy_cfg(site_config("dev").https))
    cert, key = self_signed(ca, "localhost")
    engine.upload(name, HAPROXY_CERT_PATH, cert + key, mode=0o600)
    engine.docker("start", name)


def test_haproxy_runs_as_uid_99_by_default(engine):
    user = engine.docker("run", "--rm", IMAGES.haproxy, "id").stdout
    assert user.split()[:2] == ["uid=99(haproxy)", "gid=99(haproxy)"]


def test_haproxy_serves_its_config_on_port_80_without_root(engine):
    engine.docker("create", "--name", "haproxy", IMAGES.haproxy)
    config = engine.upload("haproxy", HAPROXY_CFG_PATH, HELLO_CFG)
    engine.docker("start", "haproxy")
    engine.wait_for("haproxy", "haproxy", "-c", "-q", "-f", config)  # the program's health check
    page = engine.docker("run", "--rm", BUSYBOX_IMAGE, "wget", "-qO-", f"http://{engine.address('haproxy')}/")
    engine.remove("haproxy")
    assert page.stdout == "hello"


def test_haproxy_as_its_default_user_cannot_read_a_root_only_key(engine, ca):
    https_haproxy(engine, "haproxy-default-user", ca)
    exit_code = engine.exit_code("haproxy-default-user")
    logs = engine.logs("haproxy-default-user")
    engine.remove("haproxy-default-user")
    assert exit_code != 0 and f"cannot open the file '{HAPROXY_CERT_PATH}'" in logs, logs


def test_haproxy_started_as_root_serves_https_and_drops_to_haproxy(engine, ca):
    https_haproxy(engine, "haproxy-root", ca, "--user", "root")
    engine.wait_for("haproxy-root", "haproxy", "-c", "-q", "-f", HAPROXY_CFG_PATH)
    url = f"https://{engine.address('haproxy-root')}/"
    status = engine.inside("curl", "-sk", "-o", "/dev/null", "-w", "%{http_code}", url).stdout
    listing = engine.docker("exec", "haproxy-root", "busybox", "ps", "-o", "user,comm").stdout
    engine.remove("haproxy-root")
    assert status == "503", "TLS served with the uploaded key; no server behind it yet"
    processes = {tuple(line.split()) for line in listing.splitlines()[1:]}
    assert {("root", "haproxy"), ("haproxy", "haproxy")} <= processes, listing


@pytest.fixture(scope="module")
def networks(engine) -> None:
    create_networks(engine)


@pytest.fixture(scope="module")
def postgres(engine, networks) -> str:
    return run_postgres(engine, PASSWORD)


def pid_1_runs(engine: Engine, container: str) -> str:
    return engine.docker("exec", container, "cat", "/proc/1/cmdline").stdout.split("\0")[0]


def test_postgres_is_ready_for_the_scripts_only_once_its_first_boot_is_over(engine):
    """The entrypoint's first-boot server answers on the socket; the scripts' readiness check must not."""
    engine.docker("create", "--name", "postgres-first-boot", "-e", f"POSTGRES_PASSWORD={PASSWORD}", IMAGES.postgres)
    engine.upload("postgres-first-boot", "/docker-entrypoint-initdb.d/slow.sh", "sleep 5\n")
    engine.docker("start", "postgres-first-boot")
    engine.wait_for("postgres-first-boot", "pg_isready", "-q")
    assert pid_1_runs(engine, "postgres-first-boot") != "postgres", "the socket answered the first-boot server"
    wait = (SCRIPTS_DIR / "lib" / "postgres_ready.sh").read_text() + "wait_for_postgres postgres-first-boot 60\n"
    subprocess.run(
        ["bash", "-c", wait], env={"PATH": "/usr/bin:/bin", "DOCKER_HOST": engine.host}, check=True, timeout=90
    )
    assert pid_1_runs(engine, "postgres-first-boot") == "postgres"
    engine.remove("postgres-first-boot")


def test_postgres_initialises_the_site_database(engine, postgres):
    owner = engine.docker("exec", postgres, "psql", "-tA", "-U", DATABASE_USER, "-d", DATABASE,
                          "-c", "SELECT current_user, current_database()").stdout  # fmt: skip
    assert owner.strip() == f"{DATABASE_USER}|{DATABASE}"


def test_postgres_refuses_a_wrong_password_over_the_network(engine, postgres):
    attempt = engine.docker(
        "run", "--rm", "--network", INTERNAL, "-e", "PGPASSWORD=wrong", IMAGES.postgres,
        "psql", "-h", POSTGRES_ALIAS, "-U", DATABASE_USER, "-d", DATABASE, "-c", "SELECT 1", check=False,
    )  # fmt: skip
    assert "password authentication failed" in attempt.stderr


def test_postgres_carries_the_backup_tools(engine, postgres):
    dump = engine.docker("exec", postgres, "sh", "-c", f"pg_dump -Fc -U {DATABASE_USER} -d {DATABASE} | wc -c")
    assert int(dump.stdout) > 0
    assert engine.docker("exec", postgres, "sh", "-c", "command -v pg_restore").returncode == 0


def test_registry_serves_tls_from_the_programs_env(engine, ca):
    cert, key = self_signed(ca, "registry")
    engine.docker(
        "create", "--name", "registry-tls", "-e", "REGISTRY_HTTP_DEBUG_ADDR=127.0.0.1:5001",
        "-e", "REGISTRY_HTTP_TLS_CERTIFICATE=/certs/tls.crt", "-e", "REGISTRY_HTTP_TLS_KEY=/certs/tls.key",
        IMAGES.registry,
    )  # fmt: skip
    engine.upload("registry-tls", "/certs/tls.crt", cert)
    engine.upload("registry-tls", "/certs/tls.key", key, mode=0o600)
    engine.docker("start", "registry-tls")
    engine.wait_for("registry-tls", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:5001/debug/health")
    address = engine.address("registry-tls")
    served = engine.inside("curl", "-sS", "--cacert", str(ca.directory / "registry-self.pem"), "--resolve",
                           f"registry:5000:{address}", "https://registry:5000/v2/")  # fmt: skip
    engine.remove("registry-tls")
    assert served.returncode == 0 and served.stdout.strip() == "{}", served.stderr


# -- socat, agents, the workspace image, swarm ---------------------------------------------------------------


@pytest.fixture(scope="module")
def socat(engine, networks, ca) -> str:
    return run_socat(engine, ca)


@pytest.fixture(scope="module")
def client_cert(ca):
    return ca.issue("codenvy-server-client", usage="client")


def test_socat_relays_to_the_engine_for_a_site_ca_client(engine, socat, ca, client_cert):
    assert wait_for_relay(engine, ca, client_cert).stdout == "OK"


def test_socat_refuses_a_client_without_a_certificate(engine, socat, ca, client_cert):
    wait_for_relay(engine, ca, client_cert)
    refused = relay_ping(engine, ca, None)
    assert refused.returncode != 0 and refused.stdout != "OK", refused


def test_socat_refuses_a_certificate_of_another_ca(engine, socat, ca, client_cert):
    wait_for_relay(engine, ca, client_cert)
    refused = relay_ping(engine, ca, ca.self_signed("stranger"))
    assert refused.returncode != 0 and refused.stdout != "OK", refused


@pytest.fixture(scope="module")
def agents(engine, networks) -> str:
    return run_agents(engine)


def test_agents_serve_the_ws_agent_archive_on_9000(engine, agents):
    listing = engine.docker(
        "run", "--rm", "--network", WORKSPACES, BUSYBOX_IMAGE, "sh", "-c",
        "wget -qO- http://codenvy-agents:9000/agent-binaries/ws-agent.tar.gz | tar tzf -",
    ).stdout.split()  # fmt: skip
    assert "bin/catalina.sh" in listing


@pytest.mark.parametrize(
    "path",
    ["linux_amd64/exec/exec-agent-linux_amd64.tar.gz", "linux_amd64/terminal/websocket-terminal-linux_amd64.tar.gz"],
)
def test_agents_serve_the_exec_and_terminal_archives(engine, agents, path):
    fetched = engine.docker("run", "--rm", "--network", WORKSPACES, BUSYBOX_IMAGE, "wget", "-q", "-O", "/dev/null",
                            f"http://codenvy-agents:9000/agent-binaries/{path}", check=False)  # fmt: skip
    assert fetched.returncode == 0, fetched.stderr


def test_workspace_image_keeps_running_with_the_agent_tools(engine):
    engine.docker("run", "-d", "--name", "machine", WORKSPACE_IMAGE)
    tools = engine.docker("exec", "machine", "sh", "-c", "command -v wget tar httpd", check=False)
    running = engine.inspect("machine")["State"]["Running"]
    engine.remove("machine")
    assert running and tools.returncode == 0, tools.stderr


@pytest.mark.skipif(not SWARM_PACKAGE.is_dir(), reason="the placement manager's stand-in is not in this tree yet")
def test_swarm_image_runs_its_manager_as_the_entrypoint(engine):
    config = engine.inspect(SWARM)["Config"]
    mode = engine.docker("run", "--rm", "--entrypoint", "stat", SWARM, "-c", "%a", "/swarm").stdout.strip()
    assert (config["Entrypoint"], mode) == (["/swarm"], "755")


def _image_id(engine: Engine, image: str) -> str:
    return engine.docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip()


def test_a_saved_swarm_image_takes_the_stand_ins_name_when_the_lane_is_given_one(engine, tmp_path):
    saved = tmp_path / "swarm.tar"
    engine.docker("save", "-o", str(saved), BUSYBOX_IMAGE)
    for _ in range(2):
        load_real_swarm(engine.host, "codenvy/swarm:lane-option", saved)
    assert _image_id(engine, "codenvy/swarm:lane-option") == _image_id(engine, BUSYBOX_IMAGE)


def test_a_saved_swarm_tarball_must_hold_exactly_one_image(engine, tmp_path):
    saved = tmp_path / "two.tar"
    engine.docker("save", "-o", str(saved), BUSYBOX_IMAGE, WORKSPACE_IMAGE)
    with pytest.raises(RuntimeError, match="holds 2 images, not one"):
        load_real_swarm(engine.host, "codenvy/swarm:lane-option", saved)


def test_docker_stop_exits_postgres_cleanly(engine, postgres):
    engine.docker("stop", postgres)
    assert engine.docker("inspect", "-f", "{{.State.ExitCode}}", postgres).stdout.strip() == "0"
