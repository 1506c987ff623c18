"""Running the site over time: firewall, upgrades, backups and disaster recovery."""

from __future__ import annotations

from enum import StrEnum
from ipaddress import IPv4Network
from itertools import combinations
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator, model_validator

from components.config.errors import ConfigKeyError
from components.config.fields import AbsolutePath, CronSchedule, Ipv4Host, Model, StackName
from components.config.hosts import MIRROR_ACCOUNT, PrimarySshEndpoint, PublicKeyLine
from components.config.system_paths import NftablesRuleset, SiteDirectory


class FirewallConfig(Model):
    enabled: bool | None = Field(
        default=None, description="nftables rules on every managed host; default: on outside dev."
    )
    public_cidrs: tuple[IPv4Network, ...] = Field(
        default=(IPv4Network("0.0.0.0/0"),), description="Who may reach HTTP(S) and workspace ports."
    )
    ssh_cidrs: tuple[IPv4Network, ...] = Field(
        default=(IPv4Network("0.0.0.0/0"),),
        description="Who may reach each host's SSH port (ssh.port) and a tcp:// Docker API (TLS): administrators.",
    )
    peer_cidrs: tuple[IPv4Network, ...] = Field(
        default=(), description="Other sites' hosts (e.g. the DR standby) that may pull from the registry."
    )
    persist_file: NftablesRuleset = Field(
        default="/etc/nftables.conf",
        description="The ruleset the host's nftables service loads at boot (RHEL: /etc/sysconfig/nftables.conf), "
        "under /etc and named nftables.conf or *.nft; the site's table is included from it so it survives a reboot.",
    )

    @field_validator("public_cidrs", "ssh_cidrs", "peer_cidrs")
    @classmethod
    def _one_interval_set(cls, networks: tuple[IPv4Network, ...], info: ValidationInfo) -> tuple[IPv4Network, ...]:
        """An nftables interval set refuses what these keys would make of it: `elements = { }` is a syntax error
        and two overlapping networks are "conflicting intervals" (nft -c), so neither reaches a host."""
        if not networks and info.field_name != "peer_cidrs":
            raise ValueError("must list at least one network (0.0.0.0/0 lets everyone in); an empty set admits no one")
        for first, second in combinations(networks, 2):
            if first.overlaps(second):
                raise ValueError(
                    f"{first} and {second} overlap, which nftables refuses in one set; list each network once (the "
                    "wider one already covers the narrower)"
                )
        return networks


class UpgradeConfig(Model):
    skip_backup: bool = Field(
        default=False, description="Skip the pre-upgrade backup (the seed's --skip-backup); warns."
    )
    allow_major: bool = Field(default=False, description="Allow a jump to a new major version (after a migration).")


class BackupConfig(Model):
    directory: SiteDirectory = Field(
        default="/var/backups/codenvy",
        description="Where archives are kept on the master: a directory of the site's own (never a system or cron "
        "directory), an absolute path of letters, digits and . _ / + - (relative, to the working directory, only "
        "in environment dev).",
    )
    tools_directory: SiteDirectory = Field(
        default="/usr/local/lib/codenvy",
        description="Where the backup, restore and transfer scripts are installed: a directory of the site's own, "
        "never a system or cron directory (absolute outside dev, as directory).",
    )
    schedule: CronSchedule | None = Field(
        default="0 2 * * *", description="Cron schedule of backups on the master; may be null only in dev."
    )
    keep: int = Field(default=7, ge=1, le=365, description="Archives kept; older ones are deleted after each backup.")

    @property
    def incoming_directory(self) -> str:
        """Where a standby's transfer puts the primary's archives."""
        return f"{self.directory}/incoming"


StandbyKind = Literal["hot", "cold"]


class ReplicationMode(StrEnum):
    """How a standby's data follows its primary's: the key dr.replication, resolved once by DrConfig (absent or
    null: by dr.standby). Every layer reads this one value, never a flag derived from it."""

    # The database is a replica of the primary's, streamed over TLS, and project files follow every
    # dr.fileSyncSchedule; a promotion keeps the primary's data, roles and passwords.
    STREAMING = "streaming"
    # The primary's nightly archive is transferred and restored (hot) or staged for a promotion (cold).
    ARCHIVE = "archive"

    @classmethod
    def default_for(cls, standby: StandbyKind) -> ReplicationMode:
        """A hot standby streams; a cold one's database is stopped, so it cannot."""
        return cls.STREAMING if standby == "hot" else cls.ARCHIVE


class DrConfig(Model):
    primary_stack: StackName = Field(description="The primary site's stack, as organization/project/stack.")
    standby: StandbyKind = Field(
        default="hot",
        description="hot: services run idle against a replica of the primary's data; cold: containers exist, "
        "stopped, and the nightly archive is staged for a promotion.",
    )
    replication: ReplicationMode = Field(
        default=None,
        validate_default=True,
        description="streaming: the database streams from the primary and project files follow every "
        "fileSyncSchedule (the primary lists this master in replication.standbyAddresses); archive: the "
        "nightly archive is restored. Default: streaming for hot, archive for cold (which cannot stream).",
    )
    promote: bool = Field(default=False, description="Fail over: this standby becomes the active site.")
    transfer_schedule: CronSchedule | None = Field(
        default="30 2 * * *",
        description="Cron schedule of the nightly archive transfer from the primary (a second line when "
        "streaming: only what changed crosses the network); null: on demand only.",
    )
    file_sync_schedule: CronSchedule = Field(
        default="* * * * *", description="Cron schedule of the project-file sync from the primary when streaming."
    )
    reseed: int = Field(
        default=0, ge=0, description="Raise to seed the replica again from the primary (after a slot was lost, say)."
    )
    primary_ssh: PrimarySshEndpoint = Field(
        default_factory=PrimarySshEndpoint, description="How the standby master reaches the primary."
    )
    ssh_key_file: AbsolutePath = Field(
        default="/root/.ssh/id_ed25519",
        description="Key on the standby master that the primary lists in replication.standbyKeys: a key of its own, "
        "not one that is root on the primary.",
    )

    @field_validator("replication", mode="before")
    @classmethod
    def _by_standby(cls, value: object, info: ValidationInfo) -> object:
        """The mode resolved here, once: absent or null is the default of dr.standby (of its default when standby
        itself was refused, so that its error is the only one reported)."""
        if value is not None:
            return value
        return ReplicationMode.default_for(info.data.get("standby", cls.model_fields["standby"].default))

    @model_validator(mode="after")
    def _cold_cannot_stream(self) -> DrConfig:
        if self.standby == "cold" and self.replication is ReplicationMode.STREAMING:
            raise ConfigKeyError(("replication",), "a cold standby's database is stopped; use standby: hot to stream")
        return self


class ReplicationConfig(Model):
    standby_addresses: tuple[Ipv4Host, ...] = Field(
        default=(),
        description="Masters of standby sites that stream this site's database and pull its project files: "
        "only they may reach its PostgreSQL and SSH through the firewall.",
    )
    standby_keys: tuple[PublicKeyLine, ...] = Field(
        default=(),
        description="Public keys of the standby masters' dr.sshKeyFile ('ssh-ed25519 AAAA…'): each may log in as "
        f"{MIRROR_ACCOUNT} and read this site's project files and backup archives through rsync, nothing else (no "
        "shell, no other file; the database only through the replication role).",
    )
    max_wal_keep_mb: int = Field(
        default=4096,
        ge=64,
        description="WAL kept for a standby that fell behind, MiB; beyond it the standby's slot is dropped and "
        "it must be seeded again (dr.reseed), so a dead standby never fills the primary's disk.",
    )
