"""The application server's side of the contract, written from the contract itself rather than from the
program's renderers, so the image tests check the stand-in against what any deployment of the contract gives it:
the environment, the files in /opt/codenvy-data/conf, Tomcat's server.xml, and the named volumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

DATA_DIR = "/opt/codenvy-data"
CONF_DIR = f"{DATA_DIR}/conf"
SERVER_XML = "/opt/codenvy-tomcat/conf/server.xml"
CLIENT_CERTS = f"{CONF_DIR}/swarm-client"
HTTP_PORT = 8080
VOLUMES = {"fs": f"{DATA_DIR}/fs", "che-machines": f"{DATA_DIR}/che-machines", "logs": f"{DATA_DIR}/logs"}


@dataclass
class ServerSite:
    """What one deployment decides: the site's names, secrets and limits."""

    database: str
    database_user: str
    database_password: str
    admin_password: str
    daemon_url: str
    registry: str
    workspace_network: str = "workspaces"
    admin_name: str = "admin"
    admin_email: str = "admin@example.org"
    default_memory_mb: int = 256
    user_ram: str = "4096mb"
    workspaces_count: int = 30
    runtimes_count: int = 10
    idle_timeout_ms: int = 14_400_000
    auto_snapshot: bool = False
    auto_restore: bool = True
    registry_user: str | None = None
    registry_password: str | None = None
    extra_environment: Mapping[str, str] = field(default_factory=dict)

    def general_properties(self) -> str:
        return properties({
            "che.api": "http://codenvy.test/api",
            "che.user.workspaces.storage": f"{DATA_DIR}/fs",
            "che.limits.user.workspaces.count": self.workspaces_count,
            "che.limits.user.workspaces.run.count": self.runtimes_count,
            "che.limits.user.workspaces.ram": self.user_ram,
            "che.limits.workspace.idle.timeout": self.idle_timeout_ms,
            "che.workspace.auto_snapshot": str(self.auto_snapshot).lower(),
            "che.workspace.auto_restore": str(self.auto_restore).lower(),
            "che.workspace.http_proxy": "",
            "che.workspace.https_proxy": "",
            "che.workspace.no_proxy": "",
            "db.jndi.datasource.name": "java:/comp/env/jdbc/codenvy",
        })  # fmt: skip

    def machine_properties(self) -> str:
        return properties({
            "machine.project.location": f"{DATA_DIR}/che-machines",
            "che.docker.registry": self.registry,
            "che.docker.registry_for_snapshots": "true",
            "docker.client.daemon_url": self.daemon_url,
            "docker.client.certificates_folder": CLIENT_CERTS,
            "che.docker.network_driver": "bridge",
            "che.docker.network": self.workspace_network,
            "che.workspace.default_memory_mb": self.default_memory_mb,
            "che.docker.swap": 0,
        })  # fmt: skip

    def admin_properties(self) -> str:
        return properties({
            "codenvy.admin.name": self.admin_name,
            "codenvy.admin.email": self.admin_email,
            "codenvy.admin.initial_password": self.admin_password,
        })  # fmt: skip

    def server_xml(self) -> str:
        """A Tomcat server.xml as upstream's server.xml.erb shapes it: the JNDI datasource and the 8080 connector."""
        url = f"jdbc:postgresql://codenvy-postgres:5432/{self.database}"
        return f"""<?xml version="1.0" encoding="UTF-8"?>
<Server port="8005" shutdown="SHUTDOWN">
  <GlobalNamingResources>
    <Resource name="jdbc/codenvy" auth="Container" type="javax.sql.DataSource" maxTotal="20" maxIdle="10"
              driverClassName="org.postgresql.Driver" url={quoteattr(url)}
              username={quoteattr(self.database_user)} password={quoteattr(self.database_password)}
              validationQuery="Select 1"/>
  </GlobalNamingResources>
  <Service name="Catalina">
    <Connector port="{HTTP_PORT}" protocol="HTTP/1.1" connectionTimeout="20000" redirectPort="8443"/>
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="true" autoDeploy="false"/>
    </Engine>
  </Service>
</Server>
"""

    def environment(self) -> dict[str, str]:
        """The server's env_file (upstream codenvy.env.erb as the contract lists it)."""
        variables = {
            "CODENVY_DATA_DIR": DATA_DIR,
            "CODENVY_JAVA_DUMPS_DIR": f"{DATA_DIR}/dumps",
            "CHE_LOGS_DIR": f"{DATA_DIR}/logs",
            "CHE_LOCAL_CONF_DIR": f"{CONF_DIR}/",
            "CODENVY_HOST": "codenvy.test",
            "PGUSER": self.database_user,
            "PGPASSWORD": self.database_password,
            "CODENVY_TOMCAT_HOME": "/opt/codenvy-tomcat",
            "JAVA_OPTS": f"-Xms512m -Xmx1024m -server -Dche.local.conf.dir={CONF_DIR}/",
        }
        if self.registry_user is not None:
            variables.update({
                "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_URL": self.registry,
                "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_USERNAME": self.registry_user,
                "CHE_DOCKER_REGISTRY_AUTH_REGISTRY1_PASSWORD": self.registry_password or "",
            })  # fmt: skip
        return {**variables, **self.extra_environment}

    def files(self) -> dict[str, str]:
        """Every file the init step uploads into the server, by path."""
        return {
            f"{CONF_DIR}/general.properties": self.general_properties(),
            f"{CONF_DIR}/machine.properties": self.machine_properties(),
            f"{CONF_DIR}/admin.properties": self.admin_properties(),
            SERVER_XML: self.server_xml(),
        }


def properties(values: Mapping[str, object]) -> str:
    return "".join(f"{key}={value}\n" for key, value in values.items())
