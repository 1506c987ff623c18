"""Scheduled backups on the master, with retention, and the restore tool beside them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pulumi

from components.config import BackupConfig, Settings, SiteConfig
from components.host_access import HostAccess
from components.host_tools import Toolbox, install_tool, schedule_tool
from components.master_layout import INSTANCE_DIR, MasterData
from components.ordering import After
from components.script_templates import render_script


class BackupSettings(Settings):
    config: BackupConfig
    site_name: str
    version: str
    # What a backup holds the data from: the site's running database, or, on a cold standby (its services
    # stopped until a promotion restores the primary's newest staged archive), that staged archive.
    source: Literal["database", "staged"]

    @classmethod
    def of(cls, site: SiteConfig) -> BackupSettings:
        source = "database" if site.runs_services else "staged"
        return cls(config=site.backup, site_name=site.site_name, version=site.version, source=source)

    @property
    def data(self) -> MasterData:
        return MasterData(self.site_name)

    @property
    def toolbox(self) -> Toolbox:
        return Toolbox(self.config.tools_directory, self.site_name)


def render_backup(settings: BackupSettings, reason: str) -> str:
    """The backup script; reason `pre-upgrade` backs up only when another version is deployed."""
    return render_script(
        "backup",
        backup_dir=settings.config.directory,
        incoming_dir=settings.config.incoming_directory,
        instance_dir=INSTANCE_DIR,
        keep=str(settings.config.keep),
        reason=reason,
        site_name=settings.site_name,
        source=settings.source,
        target_version=settings.version,
        **settings.data.script_params(),
    )


def render_restore(settings: BackupSettings) -> str:
    return render_script(
        "restore", site_name=settings.site_name, site_version=settings.version, **settings.data.script_params()
    )


@dataclass(frozen=True, kw_only=True)
class BackupsArgs:
    """What Backups reads, and the resources it needs."""

    settings: BackupSettings
    master: HostAccess
    after: After


class Backups(pulumi.ComponentResource):
    """Installs `codenvy-backup-<site>` and `codenvy-restore-<site>` on the master and keeps the backup's
    crontab line; removing the schedule from config removes the line."""

    def __init__(self, name: str, args: BackupsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:Backups", name, None, opts)
        toolbox, config = args.settings.toolbox, args.settings.config
        installed = [
            install_tool(args.master, f"{name}-{tool}-tool", toolbox, tool, script, self, args.after)
            for tool, script in (
                ("backup", render_backup(args.settings, "scheduled")),
                ("restore", render_restore(args.settings)),
            )
        ]
        if config.schedule is not None:
            log_file = f"{config.directory}/backup.log"
            schedule_tool(
                args.master, f"{name}-schedule", toolbox, "backup", config.schedule, log_file, self, installed
            )
        self.register_outputs({"directory": config.directory})
