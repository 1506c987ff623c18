"""What this site's standbys may read of it over SSH: an unprivileged account whose keys run only the mirror tool,
which serves the project files and the backup archives read-only, through rrsync."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.backups import BackupSettings
from components.config import MIRROR_ACCOUNT, Settings, SiteConfig
from components.host_access import HostAccess
from components.host_tools import install_tool
from components.ordering import After
from components.script_templates import render_script

# The account's home, root's: only sshd reads it (authorized_keys), the account never writes anything.
MIRROR_HOME = f"/var/lib/{MIRROR_ACCOUNT}"
# Debian's rsync (>= 3.2.4) ships it here; it confines a forced rsync to one directory (rrsync(1)).
RRSYNC = "/usr/bin/rrsync"


class MirrorSettings(Settings):
    standby_keys: tuple[str, ...]
    backups: BackupSettings

    @classmethod
    def of(cls, site: SiteConfig) -> MirrorSettings:
        return cls(standby_keys=site.replication.standby_keys, backups=BackupSettings.of(site))

    @property
    def sudoers_file(self) -> str:
        # sudo skips a file in sudoers.d whose name holds a dot; a site name (a DNS label) has none.
        return f"/etc/sudoers.d/{MIRROR_ACCOUNT}-{self.backups.site_name}"

    @property
    def serve_tool(self) -> str:
        return self.backups.toolbox.path("mirror")


def render_serve(settings: MirrorSettings) -> str:
    """The mirror tool (codenvy-mirror-<site>): one read-only rsync of fs/ or archives/, for root."""
    return render_script(
        "mirror_serve",
        backup_dir=settings.backups.config.directory,
        fs_volume=settings.backups.data.fs_volume,
        rrsync=RRSYNC,
        site_name=settings.backups.site_name,
    )


def render_account(settings: MirrorSettings, node_name: str) -> str:
    return render_script(
        "mirror_account",
        account=MIRROR_ACCOUNT,
        keys="\n".join(settings.standby_keys),
        mirror_home=MIRROR_HOME,
        node_name=node_name,
        rrsync=RRSYNC,
        serve_tool=settings.serve_tool,
        sudoers_file=settings.sudoers_file,
    )


def render_account_removal(settings: MirrorSettings, node_name: str) -> str:
    return render_script(
        "mirror_account_remove",
        account=MIRROR_ACCOUNT,
        mirror_home=MIRROR_HOME,
        node_name=node_name,
        sudoers_file=settings.sudoers_file,
    )


@dataclass(frozen=True, kw_only=True)
class MirrorAccessArgs:
    """What MirrorAccess reads, and the resources it needs."""

    settings: MirrorSettings
    master: HostAccess
    after: After


class MirrorAccess(pulumi.ComponentResource):
    """On the master of a site with standbys (replication.standbyKeys): the mirror tool, then the account whose
    keys may run only it. Removing the keys from config removes the keys and the rule, then the tool."""

    def __init__(self, name: str, args: MirrorAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:MirrorAccess", name, None, opts)
        toolbox = args.settings.backups.toolbox
        tool = install_tool(
            args.master, f"{name}-tool", toolbox, "mirror", render_serve(args.settings), self, args.after
        )
        args.master.run(
            f"{name}-account",
            render_account(args.settings, args.master.name),
            delete_script=render_account_removal(args.settings, args.master.name),
            parent=self,
            after=[tool],
        )
        self.register_outputs({"account": MIRROR_ACCOUNT, "keys": len(args.settings.standby_keys)})
