"""The master's services: workspace network, registry, images, memory, logs and the daemons' proxy."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from components.config.fields import Model, PinnedImage, PublicPort, image_repository

NetworkMode = Literal["bridge", "overlay"]


class NetworkConfig(Model):
    mode: NetworkMode = Field(
        default="bridge", description="bridge: one host; overlay: a Swarm-mode overlay network across nodes."
    )
    encrypted: bool = Field(default=False, description="Encrypt overlay data-plane traffic (IPsec); overlay mode only.")


class RegistryConfig(Model):
    port: PublicPort = Field(default=5000, description="Host port of the private registry on the master.")
    tls: bool = Field(
        default=True, description="Serve the registry over TLS from the site CA; off is allowed only in dev."
    )
    auth: Literal["htpasswd", "none"] = Field(default="htpasswd", description="Registry authentication.")
    snapshots: bool = Field(
        default=True,
        description="Snapshot a workspace into this registry when it stops and start it from its snapshot, on "
        "any node (che.workspace.auto_snapshot and auto_restore).",
    )


class ImagesConfig(Model):
    """Codenvy's own images are tagged with the site's `version`, as upstream's CLI pins them per release
    (codenvy/codenvy dockerfiles/cli/version/<version>/images); third-party ones are pinned here."""

    server: str = Field(
        default="codenvy/codenvy", description="Repository of the application server; its tag is `version`."
    )
    swarm: str = Field(
        default="codenvy/swarm",
        description="Repository of the placement manager (standalone Swarm); its tag is `version`.",
    )
    socat: str = Field(
        default="codenvy/socat",
        description="Repository of the engine relay on each workspace host; its tag is `version`.",
    )
    agents: str = Field(
        default="codenvy/agents",
        description="Repository of the service workspaces fetch agents from; its tag is `version`.",
    )
    postgres: PinnedImage = Field(default="postgres:15.8", description="PostgreSQL image, pinned.")
    haproxy: PinnedImage = Field(default="haproxy:2.8.5", description="HAProxy image, pinned.")
    registry: PinnedImage = Field(default="registry:2.8.3", description="Docker registry image, pinned.")

    @field_validator("server", "swarm", "socat", "agents")
    @classmethod
    def _repository_only(cls, value: str) -> str:
        if ":" in value.rsplit("/", 1)[-1] or "@" in value:
            raise ValueError("name the repository only; the tag is taken from `version`")
        return image_repository(value)


# The server's JVM starts with a 512 MiB heap (server_config.java_opts, -Xms512m) and keeps a quarter of its limit
# for itself (HEAP_SHARE_OF_LIMIT): 512 / 0.75, rounded up.
SERVER_MIN_MB = 683


class MemoryConfig(Model):
    postgres_mb: int = Field(default=1024, ge=64, description="Memory limit of PostgreSQL, MiB.")
    server_mb: int = Field(default=2048, ge=SERVER_MIN_MB, description="Memory limit of the application server, MiB.")
    haproxy_mb: int = Field(default=256, ge=32, description="Memory limit of HAProxy, MiB.")
    registry_mb: int = Field(default=512, ge=64, description="Memory limit of the registry, MiB.")
    placement_mb: int = Field(default=256, ge=64, description="Memory limit of the placement manager (Swarm), MiB.")
    agents_mb: int = Field(default=128, ge=32, description="Memory limit of the agents service, MiB.")
    relay_mb: int = Field(default=64, ge=16, description="Memory limit of each host's engine relay (socat), MiB.")


class LogConfig(Model):
    max_size: str = Field(
        default="10m",
        pattern=r"^[1-9][0-9]*[kmg]$",
        description="json-file log rotation size (ASCII digits, then k, m or g).",
    )
    max_file: int = Field(default=3, ge=1, le=100, description="json-file rotated files kept.")


# A proxy as daemon.json, the server's JAVA_OPTS (split on spaces) and its env file all read it: scheme, an
# optional user[:password] (other characters percent-encoded), host and port; nothing a shell, an env line
# or a word split would see.
_PROXY_URL = re.compile(
    r"https?://(?:[A-Za-z0-9._~%-]+(?::[A-Za-z0-9._~%-]*)?@)?"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|"
    r"\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?"
)
# One no_proxy entry (Go's httpproxy and Java's nonProxyHosts): a host or domain (.example.com), an address or
# network, optionally with a port, or *.
_NO_PROXY_ENTRY = re.compile(
    r"\*|\.?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*(?:/[0-9]{1,2})?(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\]"
)


def _proxy_url(value: str | None) -> str | None:
    match = None if value is None else _PROXY_URL.fullmatch(value)
    if value is not None and (match is None or not 1 <= int(match.group(1) or 80) <= 65535):
        raise ValueError(
            "must be a proxy URL http(s)://[user[:password]@]host[:port], e.g. http://proxy.example.com:3128 "
            "(ASCII, no spaces or quotes, port 1-65535)"
        )
    return value


def _no_proxy(value: str | None) -> str | None:
    if value is not None and not all(_NO_PROXY_ENTRY.fullmatch(entry.strip()) for entry in value.split(",")):
        raise ValueError(
            "must be hosts, domains (.example.com), addresses or networks (10.0.0.0/8), with optional :port, "
            "separated by commas, e.g. localhost,.corp.example.com,10.0.0.0/8"
        )
    return value


ProxyUrl = Annotated[str | None, AfterValidator(_proxy_url)]
NoProxy = Annotated[str | None, AfterValidator(_no_proxy)]


class ProxyConfig(Model):
    http_proxy: ProxyUrl = Field(
        default=None,
        description="HTTP proxy (http(s)://[user[:password]@]host[:port]) mirrored from the master to every "
        "node's daemon.",
    )
    https_proxy: ProxyUrl = Field(
        default=None, description="HTTPS proxy mirrored to every node's daemon, as httpProxy."
    )
    no_proxy: NoProxy = Field(
        default=None,
        description="Hosts that bypass the proxy: hosts, .domains, addresses or networks, comma-separated.",
    )
