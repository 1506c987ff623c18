"""What the server image modules share: the server's image and credentials, its REST API as a client, and the
requests its tests make."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from components.master_layout import DATABASE, DATABASE_USER
from tests.cluster.private_engine import CertificateAuthority, Engine
from tests.cluster.server_contract import CLIENT_CERTS, VOLUMES, ServerSite
from tests.cluster.stand_in_services import (
    IMAGES,
    INTERNAL,
    REGISTRY,
    STACK_IMAGE,
    VERSIONS,
    WORKSPACES,
)

SERVER = f"{IMAGES.server}:{VERSIONS[0]}"
PASSWORD = secrets.token_hex(16)
ADMIN_PASSWORD = f"admin{secrets.token_hex(8)}"
REGISTRY_USER, REGISTRY_PASSWORD = "snapshots", secrets.token_hex(12)
MEMORY_BYTES = 256 * 1024 * 1024
WS_AGENT = "org.eclipse.che.ws-agent"


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


def new_user(api: Api, admin: str, name: str, password: str | None = None) -> dict:
    body = {"name": name, "email": f"{name}@example.org", **({"password": password} if password else {})}
    created = api.call("POST", "/user", body, admin)
    assert created.status == 201, created
    return created.json()


def store_limit(api: Api, admin: str, account_id: str, resources: list[dict]) -> Answer:
    return api.call("POST", "/resource/free", {"accountId": account_id, "resources": resources}, admin)


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
