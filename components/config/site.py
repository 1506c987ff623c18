"""The whole stack file: every section, and the rules that span sections."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from components.config.certificates import CertificatesConfig
from components.config.fields import DnsLabel, HostAddress, Model, SemVer
from components.config.hosts import HostConfig, MasterConfig
from components.config.limits import AuditConfig, LimitsConfig
from components.config.operations import (
    BackupConfig,
    DrConfig,
    FirewallConfig,
    ReplicationConfig,
    ReplicationMode,
    UpgradeConfig,
)
from components.config.services import ImagesConfig, LogConfig, MemoryConfig, NetworkConfig, ProxyConfig, RegistryConfig
from components.config.site_rules import SITE_RULES

SiteRole = Literal["primary", "standby"]


class SiteConfig(Model):
    site_name: DnsLabel = Field(default="codenvy", description="Prefix of container, volume and network names.")
    environment: DnsLabel = Field(default="dev", description="Environment name; only dev may relax TLS.")
    role: SiteRole = Field(default="primary", description="primary serves users; standby mirrors one.")
    version: SemVer = Field(default="5.22.0", description="Codenvy version deployed (the server image tag).")
    hostname: HostAddress = Field(default="localhost", description="Public DNS name of the site (CODENVY_HOST).")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="Workspace network.")
    master: MasterConfig = Field(default_factory=MasterConfig, description="The master node.")
    nodes: tuple[HostConfig, ...] = Field(default=(), description="Workspace nodes (overlay mode).")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Private registry.")
    images: ImagesConfig = Field(default_factory=ImagesConfig, description="Container images.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="Container memory limits.")
    logs: LogConfig = Field(default_factory=LogConfig, description="Container and daemon log limits.")
    proxy: ProxyConfig = Field(default_factory=ProxyConfig, description="Proxy for the Docker daemons.")
    https: bool = Field(default=True, description="Serve the site over HTTPS (HTTP redirects to it).")
    certificates: CertificatesConfig = Field(
        default_factory=CertificatesConfig, description="The site CA's generations (its rotation)."
    )
    ssh_private_key: SecretStr | None = Field(
        default=None, description="Secret PEM key for SSH commands; absent means the ssh-agent (SSH_AUTH_SOCK)."
    )
    license: SecretStr | None = Field(default=None, description="Codenvy licence key (secret); both DR sites need one.")
    upgrade: UpgradeConfig = Field(default_factory=UpgradeConfig, description="Upgrade behaviour.")
    backup: BackupConfig = Field(default_factory=BackupConfig, description="Backups of the master's data.")
    dr: DrConfig | None = Field(default=None, description="Disaster recovery; required when role is standby.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Account limits per user.")
    admin_password: SecretStr | None = Field(
        default=None,
        description="Secret initial password of the system admin limits.adminUser, which the server creates on its "
        "first start (codenvy.admin.initial_password); later changes do not change it. Absent: one is made and "
        "exported as the secret output adminPassword, which `make audit` reads. limits.users needs it set.",
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="The audit report (seed: audit service).")
    firewall: FirewallConfig = Field(default_factory=FirewallConfig, description="Host firewall per role.")
    replication: ReplicationConfig = Field(
        default_factory=ReplicationConfig, description="Standby sites streaming this one's data."
    )

    @model_validator(mode="after")
    def _rules_across_sections(self) -> SiteConfig:
        for rule in SITE_RULES:
            rule(self)
        return self

    @property
    def firewall_enabled(self) -> bool:
        return self.environment != "dev" if self.firewall.enabled is None else self.firewall.enabled

    @property
    def is_active(self) -> bool:
        """Serves users: a primary, or a standby that has been promoted."""
        return self.dr is None or self.dr.promote

    @property
    def replication_mode(self) -> ReplicationMode | None:
        """How this site's data follows a primary (dr.replication, as DrConfig resolved it), promoted or not: a
        promoted streaming standby still has the primary's data, roles and passwords. None: a site with no dr
        section follows nobody."""
        return None if self.dr is None else self.dr.replication

    @property
    def database_streams(self) -> bool:
        """PostgreSQL runs ready to stream in either direction (TLS, the peers' hba lines, published at the
        master's address): on a site with standbys and on a streaming standby, promoted or not, so neither
        promotion nor failback changes the container."""
        return bool(self.replication.standby_addresses) or self.replication_mode is ReplicationMode.STREAMING

    @property
    def runs_services(self) -> bool:
        return self.is_active or (self.dr is not None and self.dr.standby == "hot")

    @property
    def hosts(self) -> tuple[HostConfig, ...]:
        """Every host in the stack file, lost ones included (their resources are still in the state)."""
        return (self.master, *self.nodes)

    @property
    def members(self) -> tuple[HostConfig, ...]:
        """The hosts that are part of the site: every host but the lost ones."""
        return tuple(host for host in self.hosts if not host.lost)

    @property
    def workspace_hosts(self) -> tuple[HostConfig, ...]:
        live_nodes = tuple(node for node in self.nodes if not node.lost)
        return (self.master, *live_nodes) if self.master.host_workspaces else live_nodes

    @property
    def node_set(self) -> list[dict[str, object]]:
        """The workspace hosts and their capacity, as exported to users, the server and a DR standby."""
        return [
            {"name": host.name, "address": host.address, "ramGb": host.ram_gb, "cpus": host.cpus}
            for host in self.workspace_hosts
        ]

    @property
    def registry_address(self) -> str:
        return f"{self.master.address}:{self.registry.port}"

    @property
    def server_image(self) -> str:
        return self.versioned_image(self.images.server)

    def versioned_image(self, repository: str) -> str:
        """One of Codenvy's own images, tagged with the site's version as upstream's CLI pins them."""
        return f"{repository}:{self.version}"

    @property
    def url(self) -> str:
        """Where users reach the site: HTTPS unless it is turned off, the port only when not the default."""
        scheme, port, default = (
            ("https", self.master.https_port, 443) if self.https else ("http", self.master.http_port, 80)
        )
        return f"{scheme}://{self.hostname}" + ("" if port == default else f":{port}")

    @property
    def api_url(self) -> str:
        return self.limits.api_url or f"{self.url}/api"

    @property
    def workspace_network_name(self) -> str:
        """The workspace network's Docker name; an encrypted one is another network (see WorkspaceNetwork)."""
        return f"{self.site_name}-workspaces" + ("-encrypted" if self.network.encrypted else "")
