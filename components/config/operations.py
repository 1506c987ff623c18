"""Running the site over time: firewall, upgrades, backups and disaster recovery."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Literal

from pydantic import Field

from components.config.fields import AbsolutePath, CronSchedule, Model, SafePath, StackName
from components.config.hosts import PrimarySshEndpoint


class FirewallConfig(Model):
    enabled: bool | None = Field(None, description="nftables rules on every managed host; default: on outside dev.")
    public_cidrs: tuple[IPv4Network, ...] = Field(
        (IPv4Network("0.0.0.0/0"),), description="Who may reach HTTP(S) and workspace ports."
    )
    ssh_cidrs: tuple[IPv4Network, ...] = Field(
        (IPv4Network("0.0.0.0/0"),),
        description="Who may reach each host's SSH port (ssh.port) and a tcp:// Docker API (TLS): administrators.",
    )
    peer_cidrs: tuple[IPv4Network, ...] = Field(
        (), description="Other sites' hosts (e.g. the DR standby) that may pull from the registry."
    )
    persist_file: AbsolutePath = Field(
        "/etc/nftables.conf",
        description="The ruleset the host's nftables service loads at boot (RHEL: /etc/sysconfig/nftables.conf); "
        "the site's table is included from it so it survives a reboot.",
    )


class UpgradeConfig(Model):
    skip_backup: bool = Field(False, description="Skip the pre-upgrade backup (the seed's --skip-backup); warns.")
    allow_major: bool = Field(False, description="Allow a jump to a new major version (after a migration).")


class BackupConfig(Model):
    directory: SafePath = Field(
        "/var/backups/codenvy",
        description="Where archives are kept on the master: an absolute path of letters, digits and . _ / + - "
        "(relative, to the working directory, only in environment dev).",
    )
    tools_directory: SafePath = Field(
        "/usr/local/lib/codenvy",
        description="Where the backup, restore and transfer scripts are installed (absolute outside dev, as "
        "directory).",
    )
    schedule: CronSchedule | None = Field(
        "0 2 * * *", description="Cron schedule of backups on the master; may be null only in dev."
    )
    keep: int = Field(7, ge=1, le=365, description="Archives kept; older ones are deleted after each backup.")

    @property
    def incoming_directory(self) -> str:
        """Where a standby's transfer puts the primary's archives."""
        return f"{self.directory}/incoming"


class DrConfig(Model):
    primary_stack: StackName = Field(description="The primary site's stack, as organization/project/stack.")
    standby: Literal["hot", "cold"] = Field(
        "hot", description="hot: services run idle and backups are restored; cold: containers exist, stopped."
    )
    promote: bool = Field(False, description="Fail over: this standby becomes the active site.")
    transfer_schedule: CronSchedule | None = Field(
        "30 2 * * *", description="Cron schedule of the nightly transfer from the primary; null: on demand only."
    )
    primary_ssh: PrimarySshEndpoint = Field(
        default_factory=PrimarySshEndpoint, description="How the standby master reaches the primary."
    )
    ssh_key_file: AbsolutePath = Field(
        "/root/.ssh/id_ed25519", description="Key on the standby master that the primary master accepts."
    )
