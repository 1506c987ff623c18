"""Fencing an old primary: on a site that streams to standbys, a tool that makes its database refuse writes once a
standby was promoted past it (run by cron every minute), and the question every preview and up asks that tool
before any resource is registered."""

from __future__ import annotations

import pulumi
import pulumi_command as command

from components.config import Settings, SiteConfig
from components.disaster_recovery import status_command
from components.host_access import HostAccess
from components.host_tools import Toolbox, install_tool, schedule_tool
from components.master_layout import DATABASE_USER, POSTGRES_DATA_DIR, POSTGRES_STOP_GRACE_SECONDS, MasterData
from components.ordering import After
from components.postgres_streaming import CONF_DIR, REPLICATION_ROLE, STANDBYS_PGPASS_FILE
from components.script_templates import render_script

FENCE_TOOL = "fence"
# Cron's finest grain: a returning old primary refuses writes within a minute of reaching its promoted standby.
FENCE_SCHEDULE = "* * * * *"
# The tool's verdicts (its last line is "fence of SITE: VERDICT…"), given to the script and read back here.
SERVING, SUPERSEDED = "serving", "superseded"
# Kept in the data directory beside standby.signal: the seed of a failback removes both with the old data.
REASON_FILE = "codenvy-fence.reason"


class FenceSettings(Settings):
    site_name: str
    node_name: str
    standby_addresses: tuple[str, ...]
    # A standby publishes PostgreSQL on the same port as its primary (the standby's gate holds them equal).
    postgres_port: int
    tools_directory: str

    @classmethod
    def of(cls, site: SiteConfig) -> FenceSettings:
        return cls(
            site_name=site.site_name,
            node_name=site.master.name,
            standby_addresses=site.replication.standby_addresses,
            postgres_port=site.master.postgres_port,
            tools_directory=site.backup.tools_directory,
        )

    @property
    def toolbox(self) -> Toolbox:
        return Toolbox(self.tools_directory, self.site_name)

    @property
    def log_file(self) -> str:
        """Beside the tool: the one directory sure to exist when cron first runs it (cron runs nothing whose
        log it cannot open, and the backup directory is made by the first backup)."""
        return f"{self.toolbox.path(FENCE_TOOL)}.log"


def render_fence(settings: FenceSettings) -> str:
    return render_script(
        "fence",
        container=MasterData(settings.site_name).postgres_container,
        data_dir=POSTGRES_DATA_DIR,
        database_user=DATABASE_USER,
        node_name=settings.node_name,
        passfile=f"{CONF_DIR}/{STANDBYS_PGPASS_FILE}",
        port=str(settings.postgres_port),
        reason_file=f"{POSTGRES_DATA_DIR}/{REASON_FILE}",
        role=REPLICATION_ROLE,
        serving=SERVING,
        site_name=settings.site_name,
        standbys=" ".join(settings.standby_addresses),
        stop_grace=str(POSTGRES_STOP_GRACE_SECONDS),
        superseded=SUPERSEDED,
    )


def install_fence(host: HostAccess, name: str, settings: FenceSettings, parent: pulumi.Resource, after: After) -> None:
    """The fence tool (`codenvy-fence-<site>`) and its crontab line: nobody has to act for an old primary that
    comes back to stop taking writes."""
    toolbox = settings.toolbox
    tool = install_tool(host, f"{name}-tool", toolbox, FENCE_TOOL, render_fence(settings), parent, after)
    schedule_tool(host, f"{name}-schedule", toolbox, FENCE_TOOL, FENCE_SCHEDULE, settings.log_file, parent, [tool])


def superseded_reason(site_name: str, answer: str) -> str | None:
    """Why the tool says a standby superseded the site, or None when it does not say so."""
    verdict = (answer.strip().splitlines() or [""])[-1]
    prefix = f"fence of {site_name}: {SUPERSEDED}: "
    return verdict.removeprefix(prefix) if verdict.startswith(prefix) else None


def ask_master(site: SiteConfig) -> str | None:
    """The deploy gate's question, asked of the fence tool on the site's master through pulumi-command's `run`
    invoke (synchronous: before any resource is registered, in preview as in up). A master that cannot be
    asked, or a tool not installed yet, says nothing: only a standby's answer refuses."""
    tool = FenceSettings.of(site).toolbox.path(FENCE_TOOL)
    answer = command.local.run(command=status_command(site.master, tool)).stdout
    return superseded_reason(site.site_name, answer or "")
