"""The stand-in server's configuration, layered as the real server layers it, and refused when incomplete.

Upstream (eclipse/che 5.22.0 core/commons/che-core-commons-inject/.../CheBootstrap.java, "CheBootstrap" below)
binds properties in layers, each overriding the one before (lines 147-155): the files of $CHE_LOCAL_CONF_DIR,
then -Dche.*/-Dcodenvy.* system properties, then CHE_*/CODENVY_* environment variables. The database is no
property at all: it is the JNDI Resource jdbc/codenvy of Tomcat's conf/server.xml (codenvy/codenvy 5.22.0
dockerfiles/init/modules/codenvy/templates/server.xml.erb:52-60). Standard library only.
"""

from __future__ import annotations

import os
import re
import shlex
import xml.etree.ElementTree as ElementTree
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

# CheBootstrap.java:108: the folder whose *.properties files are read.
CONF_DIR_VARIABLE = "CHE_LOCAL_CONF_DIR"
# codenvy/codenvy dockerfiles/codenvy/Dockerfile:36 unpacks Tomcat here; compose mounts the rendered
# server.xml over the tarball's (docker-compose.yml.erb:228).
TOMCAT_HOME = Path("/opt/codenvy-tomcat")
SERVER_XML = TOMCAT_HOME / "conf" / "server.xml"
# ApiInfoService reads the version from the api webapp's manifest (eclipse/che core/che-core-api-core/.../
# ApiInfoService.java: Implementation-Version); the image bakes one per tag.
MANIFEST = TOMCAT_HOME / "webapps" / "api" / "META-INF" / "MANIFEST.MF"
# CheBootstrap.java:118,365-366: the literal NULL binds a property to null.
NULL = "NULL"

# What the contract (the init step's renderings of general/machine/admin.properties) must provide: upstream
# injects each with @Named and no default, so a missing one stops the webapp from starting. The file each
# comes from upstream: general.properties.erb, machine.properties.erb, admin.properties.erb.
REQUIRED = (
    "che.api",  # general.properties.erb:6
    "che.user.workspaces.storage",  # general.properties.erb:8
    "che.limits.user.workspaces.count",  # general.properties.erb:37
    "che.limits.user.workspaces.run.count",  # general.properties.erb:38
    "che.limits.user.workspaces.ram",  # general.properties.erb:39
    "che.limits.workspace.idle.timeout",  # general.properties.erb:43
    "che.workspace.auto_snapshot",  # general.properties.erb:54
    "che.workspace.auto_restore",  # general.properties.erb:57
    "db.jndi.datasource.name",  # general.properties.erb:80
    "machine.project.location",  # machine.properties.erb:6
    "che.docker.registry",  # machine.properties.erb:10
    "docker.client.daemon_url",  # machine.properties.erb:16
    "che.workspace.default_memory_mb",  # machine.properties.erb:48
    "che.docker.registry_for_snapshots",  # machine.properties.erb:79
    "che.docker.swap",  # machine.properties.erb:87
    # The contract's: the site's workspace network, which every machine joins (che's CheInContainerNetworkProvider
    # names this key; the stand-in makes no network per workspace start, see machines.py).
    "che.docker.network",
    "codenvy.admin.name",  # admin.properties.erb:7, AdminUserCreator.java:58-60
    "codenvy.admin.initial_password",  # admin.properties.erb:8, AdminUserCreator.java:62-64
    "codenvy.admin.email",  # admin.properties.erb:9, AdminUserCreator.java:66-68
)
# Keys the contract leaves out, with the value upstream's init step renders for them by default: a constant
# of the template, or the puppet default (dockerfiles/init/manifests/codenvy.pp, "PP") it is filled from.
TEMPLATE_DEFAULTS = {
    "che.docker.namespace": NULL,  # machine.properties.erb:12, PP:246
    "machine.ws_agent.run_command": "~/che/ws-agent/bin/catalina.sh run",  # machine.properties.erb:20, PP:259
    "che.workspace.agent.dev.max_start_time_ms": "300000",  # machine.properties.erb:21, PP:258
    "che.workspace.agent.dev.ping_delay_ms": "2000",  # machine.properties.erb:22
    "che.workspace.agent.dev.ping_conn_timeout_ms": "2000",  # machine.properties.erb:23
    "che.workspace.agent.dev.ping_success_threshold": "1",  # machine.properties.erb:24
    "che.workspace.agent.dev.ping_timeout_error_msg": (  # machine.properties.erb:25
        "Timeout. The Che server is unable to ping your workspace. This implies a network configuration "
        "issue, workspace boot failure, or an unusually slow workspace boot."
    ),
    "che.workspace.hosts": NULL,  # machine.properties.erb:54, PP:256
    "che.docker.always_pull_image": "true",  # machine.properties.erb:57
    "che.docker.api": "1.20",  # machine.properties.erb:58
    "che.docker.privileged": "false",  # machine.properties.erb:72, PP:261
    "che.docker.securityopt": "",  # machine.properties.erb:75, PP:262
    "che.dns.resolvers": "",  # machine.properties.erb:101, PP:313
    "che.docker.pids_limit": "512",  # machine.properties.erb:114
    "che.docker.cpuset_cpus": NULL,  # machine.properties.erb:130, PP:285
    "che.docker.cpu_period": "0",  # machine.properties.erb:139, PP:279
    "che.docker.cpu_quota": "0",  # machine.properties.erb:140, PP:280
    "che.limits.workspace.env.ram": "16gb",  # general.properties.erb:44, PP:243
    "che.workspace.http_proxy": "",  # general.properties.erb:48, PP:305
    "che.workspace.https_proxy": "",  # general.properties.erb:49, PP:306
    "che.workspace.no_proxy": "",  # general.properties.erb:50, PP:309
    "che.auth.reserved_user_names": (  # general.properties.erb:62
        "api,dashboard,factory,ide-resources,main,site,swagger,ws,f,update,install-single,install-multi,"
        "install-codenvy,blog,im,codenvy,che,root"
    ),
    "che.system.super_privileged_mode": "false",  # general.properties.erb:83, PP:318
}
BOOLEANS = (
    "che.workspace.auto_snapshot",
    "che.workspace.auto_restore",
    "che.docker.registry_for_snapshots",
    "che.docker.always_pull_image",
    "che.docker.privileged",
    "che.system.super_privileged_mode",
)
INTEGERS = (
    "che.limits.user.workspaces.count",
    "che.limits.user.workspaces.run.count",
    "che.limits.workspace.idle.timeout",
    "che.workspace.default_memory_mb",
    "che.docker.pids_limit",
    "che.docker.cpu_period",
    "che.docker.cpu_quota",
    "che.workspace.agent.dev.max_start_time_ms",
    "che.workspace.agent.dev.ping_delay_ms",
    "che.workspace.agent.dev.ping_conn_timeout_ms",
    "che.workspace.agent.dev.ping_success_threshold",
)
# eclipse/che core/commons/che-core-commons-lang/.../Size.java:86-87 and its unit table (98-121).
SIZE = re.compile(r"^([0-9]*(\.[0-9]+)?)\s*(\S+)?$")
SIZE_UNITS = {
    "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1024**2, "mb": 1024**2, "mib": 1024**2,
    "g": 1024**3, "gb": 1024**3, "gib": 1024**3, "t": 1024**4, "tb": 1024**4, "tib": 1024**4,
    "p": 1024**5, "pb": 1024**5, "pib": 1024**5,
}  # fmt: skip
# A JDBC URL as server.xml.erb:56 writes it: jdbc:postgresql://host[:port]/database.
JDBC_URL = re.compile(r"^jdbc:postgresql://(?P<host>[^:/]+)(:(?P<port>\d+))?/(?P<database>[^?]+)")


class ConfigurationError(Exception):
    """The server cannot start: what is missing or wrong, and where it was looked for."""


def parse_size(text: str) -> int:
    """Bytes of a human size, as Size.parseSize reads it (Size.java:89-124)."""
    match = SIZE.match(text)
    if match and match.group(1):
        size, suffix = float(match.group(1)), match.group(3)
        if suffix is None:
            return int(size)
        if suffix.lower() in SIZE_UNITS:
            return int(size * SIZE_UNITS[suffix.lower()])
    raise ConfigurationError(f"Invalid size: {text}")


def parse_size_to_megabytes(text: str) -> int:
    """Size.parseSizeToMegabytes (Size.java:70-72)."""
    return parse_size(text) // 1024**2


def read_properties(text: str) -> dict[str, str]:
    """The key=value lines of a properties file as java.util.Properties reads them: '#' and '!' comments, '=' or
    ':' (or blanks) between key and value, the value's leading blanks dropped; the renderings have no
    continuation lines, so none are joined."""
    properties = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        match = re.match(r"^(?P<key>[^=:\s]+)\s*(?:[=:]\s*|$)(?P<value>.*)$", line)
        if not match:
            raise ConfigurationError(f"cannot read the property line {line!r}")
        properties[match.group("key")] = match.group("value")
    return properties


def environment_property(name: str) -> str:
    """CheBootstrap.java:296-310: lower-case, then `__` → `_` and `_` → `.`."""
    return name.lower().replace("__", "=").replace("_", ".").replace("=", "_")


def layered_properties(environ: Mapping[str, str]) -> dict[str, str | None]:
    """The properties CheBootstrap binds, later layers winning; NULL becomes None."""
    properties: dict[str, str | None] = dict(TEMPLATE_DEFAULTS)
    conf_dir = environ.get(CONF_DIR_VARIABLE)
    if conf_dir is None:
        raise ConfigurationError(f"{CONF_DIR_VARIABLE} is not set: there is no configuration to read")
    # CheBootstrap.java:219-225 and bindConf (323-341): every *.properties file of the folder, not its subfolders.
    folder = Path(conf_dir)
    if not folder.is_dir():
        raise ConfigurationError(f"{CONF_DIR_VARIABLE}={conf_dir} is not a folder")
    for path in sorted(folder.glob("*.properties")):
        if path.is_file():
            properties.update(read_properties(path.read_text(encoding="utf-8")))
    # CheBootstrap.java:236-242: -Dche.* and -Dcodenvy.* system properties; catalina.sh hands JAVA_OPTS to the JVM.
    for option in shlex.split(environ.get("JAVA_OPTS", "")):
        if option.startswith(("-Dche.", "-Dcodenvy.")):
            name, _, value = option[2:].partition("=")
            properties[name] = value
    # CheBootstrap.java:253-259: CHE_* and CODENVY_* variables, converted to property names.
    for name, value in environ.items():
        if name.startswith(("CHE_", "CODENVY_")):
            properties[environment_property(name)] = value
    return {name: (None if value == NULL else value) for name, value in properties.items()}


@dataclass(frozen=True)
class DataSource:
    """The JNDI Resource the server's datasource name points at, from Tomcat's server.xml."""

    host: str
    port: int
    database: str
    user: str
    password: str


def read_datasource(server_xml: Path, jndi_name: str) -> DataSource:
    """The Resource of GlobalNamingResources that `jndi_name` names (general.properties.erb:80 gives
    java:/comp/env/jdbc/codenvy; the webapp's context.xml links jdbc/codenvy to the global one)."""
    name = jndi_name.removeprefix("java:/comp/env/").removeprefix("java:comp/env/")
    if not server_xml.is_file():
        raise ConfigurationError(f"{server_xml} is missing: no datasource {name} to connect to")
    try:
        root = ElementTree.parse(server_xml).getroot()  # noqa: S314 - the site's own file
    except ElementTree.ParseError as error:
        raise ConfigurationError(f"{server_xml} is not XML: {error}") from None
    resources = [r for r in root.iterfind("./GlobalNamingResources/Resource") if r.get("name") == name]
    if not resources:
        raise ConfigurationError(f"{server_xml} has no GlobalNamingResources Resource named {name}")
    resource = resources[0]
    if resource.get("driverClassName") != "org.postgresql.Driver":
        raise ConfigurationError(f"{server_xml}: Resource {name} is not a PostgreSQL datasource")
    match = JDBC_URL.match(resource.get("url") or "")
    missing = [attribute for attribute in ("username", "password") if resource.get(attribute) is None]
    if not match or missing:
        raise ConfigurationError(
            f"{server_xml}: Resource {name} needs url=jdbc:postgresql://host:port/database, username and password"
        )
    return DataSource(
        host=match.group("host"),
        port=int(match.group("port") or 5432),
        database=match.group("database"),
        user=resource.get("username") or "",
        password=resource.get("password") or "",
    )


def read_http_port(server_xml: Path) -> int:
    """The port of the HTTP Connector of server.xml's Service (server.xml.erb:91 has 8080)."""
    root = ElementTree.parse(server_xml).getroot()  # noqa: S314 - the site's own file
    for connector in root.iterfind("./Service/Connector"):
        if connector.get("protocol", "HTTP/1.1").startswith(("HTTP/1.1", "org.apache.coyote.http11")):
            return int(connector.get("port", "8080"))
    raise ConfigurationError(f"{server_xml} has no HTTP Connector to serve on")


def read_version(manifest: Path = MANIFEST) -> str:
    """Implementation-Version of the api webapp's manifest, baked into the image per tag."""
    for line in manifest.read_text().splitlines():
        name, _, value = line.partition(":")
        if name.strip() == "Implementation-Version":
            return value.strip()
    raise ConfigurationError(f"{manifest} names no Implementation-Version")


@dataclass(frozen=True)
class Configuration:
    """What the server reads, checked once at start."""

    properties: Mapping[str, str | None]
    datasource: DataSource
    http_port: int
    version: str
    logs_dir: Path
    # Registry URL → {"username", "password"}: what X-Registry-Auth carries for that registry.
    registries: Mapping[str, Mapping[str, str]]

    def text(self, name: str) -> str:
        value = self.properties.get(name)
        return "" if value is None else value

    def optional(self, name: str) -> str | None:
        return self.properties.get(name)

    def flag(self, name: str) -> bool:
        """Java's Boolean.parseBoolean: true only for "true", any case."""
        return self.text(name).lower() == "true"

    def number(self, name: str) -> int:
        return int(self.text(name))


def load(environ: Mapping[str, str] = os.environ, server_xml: Path = SERVER_XML) -> Configuration:
    """The configuration, or a ConfigurationError naming everything that is missing or malformed."""
    properties = layered_properties(environ)
    problems = [f"{name} is not set" for name in REQUIRED if not properties.get(name)]
    for name in INTEGERS:
        value = properties.get(name)
        if value and not re.fullmatch(r"-?\d+", value.strip()):
            problems.append(f"{name}={value} is not an integer")
    for name in ("che.limits.user.workspaces.ram", "che.limits.workspace.env.ram"):
        value = properties.get(name)
        if value and value != "-1":
            try:
                parse_size(value)
            except ConfigurationError as error:
                problems.append(f"{name}: {error}")
    daemon = urlparse(properties.get("docker.client.daemon_url") or "")
    if properties.get("docker.client.daemon_url") and daemon.scheme not in ("https", "http"):
        problems.append(f"docker.client.daemon_url={properties['docker.client.daemon_url']} is not http(s)://")
    registries: dict[str, dict[str, str]] = {}
    try:
        registries = registry_auth(properties)
    except ConfigurationError as error:
        problems.append(str(error))
    # DockerConnectorConfiguration.java:91-93,167-175: an https daemon_url is reached with the certificates of
    # docker.client.certificates_folder (DockerCertificates.java names ca.pem, cert.pem, key.pem). Upstream
    # would try without them; the stand-in refuses to start, as the engines would refuse it anyway.
    if daemon.scheme == "https":
        folder = properties.get("docker.client.certificates_folder")
        missing = [f for f in ("ca.pem", "cert.pem", "key.pem") if not folder or not (Path(folder) / f).is_file()]
        if missing:
            problems.append(f"docker.client.certificates_folder={folder} lacks {', '.join(missing)}")
    if problems:
        raise ConfigurationError("; ".join(problems))
    datasource = read_datasource(server_xml, properties["db.jndi.datasource.name"] or "")
    return Configuration(
        properties=properties,
        datasource=datasource,
        http_port=read_http_port(server_xml),
        version=read_version(),
        logs_dir=Path(environ.get("CHE_LOGS_DIR", "/opt/codenvy-data/logs")),
        registries=registries,
    )


def registry_auth(properties: Mapping[str, str | None]) -> dict[str, dict[str, str]]:
    """che.docker.registry.auth.<name>.{url,username,password}, by registry URL, refused where InitialAuthConfig
    refuses them (eclipse/che plugins/plugin-docker/che-plugin-docker-client/.../InitialAuthConfig.java:72-133)."""
    prefix = "che.docker.registry.auth."
    groups: dict[str, dict[str, str | None]] = {}
    for name, value in properties.items():
        if not name.startswith(prefix):
            continue
        parts = name.removeprefix(prefix).split(".")
        if len(parts) != 2:
            raise ConfigurationError(f"Property '{name}' is not of the form {prefix}registry_name.parameter_name")
        groups.setdefault(parts[0], {})[parts[1]] = value
    registries = {}
    for group, fields in groups.items():
        for field in ("url", "username", "password"):
            if not fields.get(field):
                raise ConfigurationError(f"Property '{prefix}{group}.{field}' is missing.")
        registries[fields["url"] or ""] = {"username": fields["username"] or "", "password": fields["password"] or ""}
    return registries
