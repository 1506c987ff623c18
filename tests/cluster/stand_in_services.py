"""The master's services as the contract runs them, on a private engine, for the image tests: the networks,
PostgreSQL, the engine relay, the agents service and the registry."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

from components.config import ImagesConfig
from components.master_layout import DATABASE, DATABASE_USER, POSTGRES_ALIAS
from scripts.sim.waiting import wait_until
from tests.cluster.images import BUSYBOX_IMAGE, WORKSPACE_IMAGE, import_images, program_images
from tests.cluster.private_engine import Certificate, CertificateAuthority, Engine, private_engine

IMAGES = ImagesConfig()
VERSIONS = ("5.22.0", "5.23.0")
SOCAT, AGENTS, SWARM = (f"{repository}:{VERSIONS[0]}" for repository in (IMAGES.socat, IMAGES.agents, IMAGES.swarm))
INTERNAL, WORKSPACES = "internal", "workspaces"
# The registry published on the engine namespace's loopback, where the engine pulls and pushes.
REGISTRY = "127.0.0.1:5000"
STACK_IMAGE = f"{REGISTRY}/codenvy-sim/workspace"


def images_engine(root: Path) -> Iterator[Engine]:
    """A private engine with every image the site and the lane use (a fixture's body)."""
    with private_engine(root, f"codenvy-images-{secrets.token_hex(3)}") as engine:
        images = {**program_images(IMAGES, VERSIONS), BUSYBOX_IMAGE: "busybox", WORKSPACE_IMAGE: "workspace"}
        import_images(engine.host, images)
        yield engine


def create_networks(engine: Engine) -> None:
    """The master's internal network and the site's workspace network."""
    for network in (INTERNAL, WORKSPACES):
        engine.docker("network", "create", network)


def run_postgres(engine: Engine, password: str) -> str:
    """The site's PostgreSQL as the contract names it: codenvy-postgres and postgres on the internal network."""
    engine.docker(
        "run", "-d", "--name", "postgres", "--network", INTERNAL, "--network-alias", POSTGRES_ALIAS,
        "--network-alias", "postgres", "-e", f"POSTGRES_DB={DATABASE}", "-e", f"POSTGRES_USER={DATABASE_USER}",
        "-e", f"POSTGRES_PASSWORD={password}", "-v", "pgdata:/var/lib/postgresql/data", IMAGES.postgres,
    )  # fmt: skip
    engine.wait_for("postgres", "pg_isready", "-h", "127.0.0.1", "-U", DATABASE_USER, "-d", DATABASE)
    return "postgres"


def run_socat(engine: Engine, ca: CertificateAuthority) -> str:
    """The engine relay as the contract runs it, in front of this engine's own socket, as codenvy-socat."""
    cert = ca.issue("codenvy-socat", dns=("codenvy-socat",))
    engine.docker(
        "create", "--name", "socat", "--network", INTERNAL, "--network-alias", "codenvy-socat",
        "-v", f"{engine.socket_path}:/var/run/docker.sock", SOCAT, "-d", "-d",
        "OPENSSL-LISTEN:2376,fork,reuseaddr,cert=/etc/socat/tls/cert.pem,key=/etc/socat/tls/key.pem,"
        "cafile=/etc/socat/tls/ca.pem,verify=1", "UNIX-CONNECT:/var/run/docker.sock",
    )  # fmt: skip
    engine.upload("socat", "/etc/socat/tls/cert.pem", cert.cert.read_text())
    engine.upload("socat", "/etc/socat/tls/key.pem", cert.key.read_text(), mode=0o600)
    engine.upload("socat", "/etc/socat/tls/ca.pem", ca.cert.read_text())
    engine.docker("start", "socat")
    return "socat"


def relay_ping(engine: Engine, ca: CertificateAuthority, client: Certificate | None) -> subprocess.CompletedProcess:
    """GET /_ping through the relay from the engine's namespace, with `client` as the TLS client certificate."""
    address = engine.address("socat", INTERNAL)
    credentials = ["--cert", str(client.cert), "--key", str(client.key)] if client else []
    return engine.inside(
        "curl", "-sS", "--max-time", "10", "--cacert", str(ca.cert), *credentials,
        "--resolve", f"codenvy-socat:2376:{address}", "https://codenvy-socat:2376/_ping",
    )  # fmt: skip


def wait_for_relay(engine: Engine, ca: CertificateAuthority, client: Certificate) -> subprocess.CompletedProcess:
    return wait_until(
        "the relay answering", lambda: (r := relay_ping(engine, ca, client)).returncode == 0 and r, timeout=30
    )


def run_agents(engine: Engine) -> str:
    """The agents service on the workspace network as codenvy-agents."""
    engine.docker("run", "-d", "--name", "agents", "--network", WORKSPACES, "--network-alias", "codenvy-agents", AGENTS)
    engine.wait_for("agents", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9000/agent-binaries/ws-agent.tar.gz")
    return "agents"


def run_registry(engine: Engine, ca: CertificateAuthority, user: str, password: str, docker_config: Path) -> str:
    """The site's registry with TLS and htpasswd, published at REGISTRY, with the stack image pushed to it as
    STACK_IMAGE (the docker CLI's login kept in `docker_config`, not this machine's ~/.docker)."""
    cert = ca.issue("registry", dns=("localhost",), ips=("127.0.0.1",))
    htpasswd = subprocess.run(["htpasswd", "-Bbn", user, password], capture_output=True, text=True, check=True).stdout
    engine.docker(
        "create", "--name", "registry", "-p", f"{REGISTRY}:5000", "-e", "REGISTRY_AUTH=htpasswd",
        "-e", "REGISTRY_AUTH_HTPASSWD_REALM=codenvy", "-e", "REGISTRY_AUTH_HTPASSWD_PATH=/auth/htpasswd",
        "-e", "REGISTRY_HTTP_TLS_CERTIFICATE=/certs/tls.crt", "-e", "REGISTRY_HTTP_TLS_KEY=/certs/tls.key",
        IMAGES.registry,
    )  # fmt: skip
    engine.upload("registry", "/auth/htpasswd", htpasswd)
    engine.upload("registry", "/certs/tls.crt", cert.cert.read_text())
    engine.upload("registry", "/certs/tls.key", cert.key.read_text(), mode=0o600)
    engine.docker("start", "registry")
    login = ["--config", str(docker_config), "login", REGISTRY, "-u", user, "--password-stdin"]
    wait_until(
        "the registry accepting the login",
        lambda: engine.docker(*login, stdin=password.encode(), check=False).returncode == 0,
        timeout=60,
    )
    engine.docker("tag", WORKSPACE_IMAGE, f"{STACK_IMAGE}:latest")
    engine.docker("--config", str(docker_config), "push", f"{STACK_IMAGE}:latest")
    engine.docker("rmi", f"{STACK_IMAGE}:latest")
    return "registry"
