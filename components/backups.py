"""Scheduled backups on the master, with retention, and the restore tool beside them."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.host_access import HostAccess
from components.host_tools import install_tool, schedule_tool
from components.rendering import render_backup, render_restore


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
        installed = [
            install_tool(master, f"{name}-{tool}-tool", site, tool, script, self, depends_on)
            for tool, script in (("backup", render_backup(site, "scheduled")), ("restore", render_restore(site)))
        ]
        if site.backup.schedule is not None:
            log_file = f"{site.backup.directory}/backup.log"
            schedule_tool(master, f"{name}-schedule", site, "backup", site.backup.schedule, log_file, self, installed)
        self.register_outputs({"directory": site.backup.directory})
