"""The master's fixed layout: how its containers find each other, the database, and where the site's data
lives. Names and paths are upstream's (codenvy/codenvy dockerfiles/init/modules/compose/templates/
docker-compose.yml.erb and the codenvy module's templates); the services, backups, restores and transfers
all read them here."""

from __future__ import annotations

from dataclasses import dataclass

SERVER_ALIAS = "codenvy-server"
SERVER_PORT = 8080
# The server's JDBC URL names the database codenvy-postgres (server.xml.erb); its entrypoint waits for
# `psql -h postgres` (dockerfiles/codenvy/entrypoint.sh). The database answers to both.
POSTGRES_ALIAS = "codenvy-postgres"
POSTGRES_ALIASES = (POSTGRES_ALIAS, "postgres")
POSTGRES_PORT = 5432
# The server's Docker API endpoint (machine.properties.erb: codenvy-swarm), here over TLS on 2376.
SWARM_ALIAS = "codenvy-swarm"
# The master's own engine, behind its TLS relay on the internal network, when the master runs workspaces.
RELAY_ALIAS = "codenvy-socat"
ENGINE_TLS_PORT = 2376
# What workspaces fetch their agents from (haproxy.cfg.erb's agents backend, lighttpd on 9000).
AGENTS_ALIAS = "codenvy-agents"
AGENTS_PORT = 9000
DATABASE = "codenvy"
DATABASE_USER = "codenvy"
# The server's data (compose: /opt/codenvy-data/{fs,che-machines,conf,logs}): project data in fs/, the
# copies mounted into running workspaces in che-machines/, the init step's renderings in conf/.
DATA_ROOT = "/opt/codenvy-data"
CONF_DIR = f"{DATA_ROOT}/conf"
TOMCAT_HOME = "/opt/codenvy-tomcat"
# The program's record of the CLI's instance folder: codenvy.env and the deployed version, which backups keep.
INSTANCE_DIR = "/instance"
POSTGRES_DATA_DIR = "/var/lib/postgresql/data"
# PostgreSQL writes a shutdown checkpoint before it stops, which on a busy database takes a while; a killed
# one only recovers by replaying WAL on the next start (the provider kills at once without a grace period).
POSTGRES_STOP_GRACE_SECONDS = 120


@dataclass(frozen=True)
class MasterData:
    """Where one site keeps its data on the master: what a backup reads and a restore writes."""

    site_name: str

    @property
    def server_container(self) -> str:
        return f"{self.site_name}-server"

    @property
    def postgres_container(self) -> str:
        return f"{self.site_name}-postgres"

    @property
    def fs_volume(self) -> str:
        """The volume holding the project files (MasterNode's DATA_VOLUMES `fs`)."""
        return f"{self.site_name}-fs"

    def script_params(self) -> dict[str, str]:
        """The parameters backup.sh and restore.sh take to find the data (restore needs no INSTANCE_DIR)."""
        return {
            "database": DATABASE,
            "database_user": DATABASE_USER,
            "fs_dir": f"{DATA_ROOT}/fs",
            "postgres": self.postgres_container,
            "server": self.server_container,
        }
