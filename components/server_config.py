"""What Codenvy's init step renders for the application server, rendered from the stack config instead: the
properties files in conf/, the server's environment, Tomcat's server.xml and the codenvy.env record.

Every name is upstream's (codenvy/codenvy dockerfiles/init/manifests/codenvy.env for the variables a user
sets, dockerfiles/init/modules/codenvy/templates/*.erb for the properties and the server's env_file);
tests/unit/test_server_contract.py holds them against a table of those files."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from string import Template
from urllib.parse import urlsplit
from xml.sax.saxutils import quoteattr

from components.config import Settings
from components.master_layout import (
    CONF_DIR,
    DATA_ROOT,
    DATABASE,
    DATABASE_USER,
    ENGINE_TLS_PORT,
    POSTGRES_ALIAS,
    POSTGRES_PORT,
    SERVER_PORT,
    SWARM_ALIAS,
    TOMCAT_HOME,
)

SERVER_XML = f"{TOMCAT_HOME}/conf/server.xml"
SERVER_XML_TEMPLATE = Path(__file__).parent / "templates" / "server.xml"
# docker.client.certificates_folder: che's DockerCertificates reads ca.pem, cert.pem and key.pem there.
SWARM_CLIENT_DIR = f"{CONF_DIR}/swarm-client"
DAEMON_URL = f"https://{SWARM_ALIAS}:{ENGINE_TLS_PORT}"
# Upstream's defaults where the stack file has no key of its own (manifests/codenvy.pp).
ADMIN_EMAIL = "admin@codenvy.onprem"
MACHINE_DEFAULT_MEMORY_MB = 1024
# JAVA_OPTS' heap: upstream's CODENVY_SERVER_XMX, kept below the container's memory limit for the JVM's own.
HEAP_SHARE_OF_LIMIT = 0.75
MIN_HEAP_MB = 512
# The registry's credentials, as codenvy.env.erb passes CODENVY_DOCKER_REGISTRY_AUTH_* on (renamed CHE_*).
REGISTRY_AUTH_PREFIX = "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1"


@dataclass(frozen=True)
class Property:
    """One line of a conf/ properties file; `variable` is the codenvy.env name a user sets it with upstream,
    None where the init step derives it."""

    file: str
    key: str
    value: str
    variable: str | None = None


class ServerInputs(Settings):
    """The stack-config values the renderings read (AppServerSettings gathers them)."""

    hostname: str
    url: str
    https: bool
    network_mode: str
    workspace_network_name: str
    registry_address: str
    snapshots: bool
    ram_mb: int
    # The largest workspace host's RAM: no environment larger than that could ever be placed.
    environment_ram_mb: int
    workspaces: int
    runtimes: int
    idle_timeout_minutes: int
    memory_mb: int
    admin_name: str
    http_proxy: str | None = None
    https_proxy: str | None = None
    no_proxy: str | None = None


def properties(inputs: ServerInputs) -> tuple[Property, ...]:
    """Every property the program sets, in the file upstream renders it into."""
    general, machine = "general.properties", "machine.properties"
    snapshots = str(inputs.snapshots).lower()
    return (
        Property(general, "che.api", f"{inputs.url}/api"),
        Property(general, "che.user.workspaces.storage", f"{DATA_ROOT}/fs"),
        Property(general, "che.limits.user.workspaces.count", str(inputs.workspaces),
                 "CODENVY_LIMITS_USER_WORKSPACES_COUNT"),
        Property(general, "che.limits.user.workspaces.run.count", str(inputs.runtimes),
                 "CODENVY_LIMITS_USER_WORKSPACES_RUN_COUNT"),
        Property(general, "che.limits.user.workspaces.ram", f"{inputs.ram_mb}mb", "CODENVY_LIMITS_USER_WORKSPACES_RAM"),
        Property(general, "che.limits.workspace.idle.timeout", str(inputs.idle_timeout_minutes * 60_000),
                 "CODENVY_MACHINE_WS_AGENT_INACTIVE_STOP_TIMEOUT_MS"),
        Property(general, "che.limits.workspace.env.ram", f"{inputs.environment_ram_mb}mb",
                 "CODENVY_LIMITS_WORKSPACE_ENV_RAM"),
        Property(general, "che.workspace.auto_snapshot", snapshots, "CODENVY_WORKSPACE_AUTO_SNAPSHOT"),
        Property(general, "che.workspace.auto_restore", snapshots, "CODENVY_WORKSPACE_AUTO_RESTORE"),
        Property(general, "che.workspace.http_proxy", inputs.http_proxy or "",
                 "CODENVY_HTTP_PROXY_FOR_CODENVY_WORKSPACES"),
        Property(general, "che.workspace.https_proxy", inputs.https_proxy or "",
                 "CODENVY_HTTPS_PROXY_FOR_CODENVY_WORKSPACES"),
        Property(general, "che.workspace.no_proxy", inputs.no_proxy or "", "CODENVY_NO_PROXY_FOR_CODENVY_WORKSPACES"),
        Property(general, "db.jndi.datasource.name", "java:/comp/env/jdbc/codenvy"),
        Property(machine, "machine.project.location", f"{DATA_ROOT}/che-machines"),
        Property(machine, "che.docker.registry", inputs.registry_address,
                 "CODENVY_DOCKER_REGISTRY_FOR_WORKSPACE_SNAPSHOTS"),
        Property(machine, "che.docker.registry_for_snapshots", "true"),
        # Upstream's socat and swarm spoke plain HTTP; here the manager requires a site-CA client certificate.
        Property(machine, "docker.client.daemon_url", DAEMON_URL),
        Property(machine, "docker.client.certificates_folder", SWARM_CLIENT_DIR),
        Property(machine, "che.docker.network_driver", inputs.network_mode, "CODENVY_MACHINE_DOCKER_NETWORK_DRIVER"),
        # One attachable network for every workspace (Swarm mode creates overlays on managers only), which
        # the server is attached to as well (che CheInContainerNetworkProvider).
        Property(machine, "che.docker.network", inputs.workspace_network_name),
        Property(machine, "che.workspace.default_memory_mb", str(MACHINE_DEFAULT_MEMORY_MB),
                 "CODENVY_MACHINE_DEFAULT_MEM_SIZE_MB"),
        # No swap for workspace machines (upstream's default multiplier).
        Property(machine, "che.docker.swap", "0", "CODENVY_MACHINE_DOCKER_MEMORY_SWAP_MULTIPLIER"),
    )  # fmt: skip


def render_properties(entries: Iterable[tuple[str, str]]) -> str:
    """A properties file: key=value lines, as the init step's templates write them."""
    return "".join(f"{key}={value}\n" for key, value in entries)


def properties_files(inputs: ServerInputs) -> dict[str, str]:
    """conf/ file name -> its content, for the files without secrets."""
    files: dict[str, list[tuple[str, str]]] = {}
    for entry in properties(inputs):
        files.setdefault(entry.file, []).append((entry.key, entry.value))
    return {name: render_properties(entries) for name, entries in files.items()}


def render_admin_properties(admin_name: str, initial_password: str) -> str:
    """admin.properties.erb: the system admin the server creates on its first start."""
    return render_properties(
        (
            ("codenvy.admin.name", admin_name),
            ("codenvy.admin.initial_password", initial_password),
            ("codenvy.admin.email", ADMIN_EMAIL),
        )
    )


def render_server_xml(password: str) -> str:
    """Tomcat's server.xml with the JNDI database the server reads (server.xml.erb's jdbc/codenvy)."""
    return Template(SERVER_XML_TEMPLATE.read_text()).substitute(
        username=quoteattr(DATABASE_USER),
        password=quoteattr(password),
        url=quoteattr(f"jdbc:postgresql://{POSTGRES_ALIAS}:{POSTGRES_PORT}/{DATABASE}"),
        port=SERVER_PORT,
    )


def heap_mb(memory_mb: int) -> int:
    return max(MIN_HEAP_MB, int(memory_mb * HEAP_SHARE_OF_LIMIT))


def java_opts(inputs: ServerInputs) -> str:
    """codenvy.env.erb's JAVA_OPTS: the heap, the conf folder, and the proxy for the server's own calls."""
    options = [
        "-Xms512m",
        f"-Xmx{heap_mb(inputs.memory_mb)}m",
        "-server",
        "-XX:+HeapDumpOnOutOfMemoryError",
        f"-XX:HeapDumpPath={DATA_ROOT}/dumps",
        f"-Dche.local.conf.dir={CONF_DIR}/",
        "-Dauth.handler.default=org",
        *_proxy_options("http", inputs.http_proxy),
        *_proxy_options("https", inputs.https_proxy),
    ]
    if inputs.no_proxy:
        hosts = "|".join(dict.fromkeys(host.strip() for host in inputs.no_proxy.split(",") if host.strip()))
        options.append(f"-Dhttp.nonProxyHosts={hosts}")
    return " ".join(options)


def _proxy_options(scheme: str, url: str | None) -> list[str]:
    if not url:
        return []
    parts = urlsplit(url if "://" in url else f"http://{url}")
    # Equivalent whichever scheme carries it: the JDK reads no proxySet property (java.net's networking
    # properties are proxyHost, proxyPort, nonProxyHosts); it is here because upstream's codenvy.env.erb sets it.
    options = [f"-D{scheme}.proxySet=true"] if scheme == "http" else []  # pragma: no mutate
    options += [f"-D{scheme}.proxyHost={parts.hostname}", f"-D{scheme}.proxyPort={parts.port or 80}"]
    if parts.username:
        options += [f"-D{scheme}.proxyUser={parts.username}", f"-D{scheme}.proxyPassword={parts.password or ''}"]
    return options


def server_environment(inputs: ServerInputs) -> list[str]:
    """The server's environment without secrets, as codenvy.env.erb renders its env_file."""
    values = {
        "CODENVY_DATA_DIR": DATA_ROOT,
        "CODENVY_JAVA_DUMPS_DIR": f"{DATA_ROOT}/dumps",
        "CHE_LOGS_DIR": f"{DATA_ROOT}/logs",
        "CHE_LOCAL_CONF_DIR": f"{CONF_DIR}/",
        "CODENVY_HOST": inputs.hostname,
        "PGUSER": DATABASE_USER,
        "CODENVY_TOMCAT_HOME": TOMCAT_HOME,
        "JAVA_OPTS": java_opts(inputs),
    }
    return [f"{name}={value}" for name, value in values.items()]


def render_codenvy_env(inputs: ServerInputs) -> str:
    """The site's codenvy.env, as a user of Codenvy's CLI would have written it: every value the program
    set, under Codenvy's own variable names; kept in the instance folder, so backups carry it. No secrets,
    and not the node list (CODENVY_SWARM_NODES): the placement manager's node list changes without
    replacing the server, and this file is one of the server's uploads."""
    values = {
        "CODENVY_HOST": inputs.hostname,
        "CODENVY_HOST_PROTOCOL": "https" if inputs.https else "http",
        "CODENVY_PGSQL_USERNAME": DATABASE_USER,
        "CODENVY_PGSQL_DATABASE_NAME": DATABASE,
        "CODENVY_ADMIN_NAME": inputs.admin_name,
        "CODENVY_ADMIN_EMAIL": ADMIN_EMAIL,
        "CODENVY_SERVER_XMX": str(heap_mb(inputs.memory_mb)),
        "CODENVY_HTTP_PROXY_FOR_CODENVY": inputs.http_proxy or "",
        "CODENVY_HTTPS_PROXY_FOR_CODENVY": inputs.https_proxy or "",
        "CODENVY_NO_PROXY_FOR_CODENVY": inputs.no_proxy or "",
        **{entry.variable: entry.value for entry in properties(inputs) if entry.variable},
    }
    return "".join(f"{name}={value}\n" for name, value in values.items())
