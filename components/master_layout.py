"""The master's fixed layout: how its containers find each other, the database, and where the site's data
lives (the seed's data-storage table). The services, backups, restores and transfers all read it here."""

from __future__ import annotations

from dataclasses import dataclass

SERVER_ALIAS = "codenvy-server"
POSTGRES_ALIAS = "codenvy-postgres"
SERVER_PORT = 8080
DATABASE = "codenvy"
DATABASE_USER = "codenvy"
# Project data in fs/, the copies mounted into running workspaces in che-machines/, and the server's
# instance folder (codenvy.env, codenvy.ver).
DATA_ROOT = "/home/codenvy/codenvy-data"
INSTANCE_DIR = "/instance"
POSTGRES_DATA_DIR = "/var/lib/postgresql/data"


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

    def script_params(self) -> dict[str, str]:
        """The parameters backup.sh and restore.sh take to find the data (restore needs no INSTANCE_DIR)."""
        return {
            "database": DATABASE,
            "database_user": DATABASE_USER,
            "fs_dir": f"{DATA_ROOT}/fs",
            "postgres": self.postgres_container,
            "server": self.server_container,
        }
