"""Scheduled backups on the master, with retention, and the restore tool beside them."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.host_access import HostAccess
from components.rendering import (
    cron_entry,
    render_backup,
    render_install_file,
    render_restore,
    render_schedule,
    tool_path,
)


class Backups(pulumi.ComponentResource):
    """Installs `codenvy-backup-<site>` and `codenvy-restore-<site>` on the master and keeps the backup's
    crontab line; removing the schedule from config removes the line."""

    def __init__(
        self,
        name: str,
        site: SiteConfig,
        master: HostAccess,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("codenvy:infra:Backups", name, None, opts)
        tools = [("backup", render_backup(site, "scheduled")), ("restore", render_restore(site))]
        installed = [
            master.run(
                f"{name}-{tool}-tool",
                render_install_file(tool_path(site, tool), script, f"{tool} tool", master.name, mode="0755"),
                parent=self,
                depends_on=depends_on,
            )
            for tool, script in tools
        ]
        if site.backup.schedule is not None:
            marker = f"codenvy-backup-{site.site_name}"
            entry = cron_entry(site.backup.schedule, tool_path(site, "backup"), f"{site.backup.directory}/backup.log")
            master.run(
                f"{name}-schedule",
                render_schedule(marker, master.name, entry),
                delete_script=render_schedule(marker, master.name),
                parent=self,
                depends_on=installed,
            )
        self.register_outputs({"directory": site.backup.directory})
