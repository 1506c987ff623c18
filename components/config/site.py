"""The whole stack file: every section, and the rules that span sections."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Address
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator

from components.config.errors import ConfigKeyError
from components.config.fields import DnsLabel, HostAddress, Model, SemVer
from components.config.hosts import UNPINNED_HOST_KEY_ENVIRONMENTS, HostConfig, MasterConfig, unverified_host_key_option
from components.config.limits import AuditConfig, LimitsConfig
from components.config.operations import BackupConfig, DrConfig, FirewallConfig, UpgradeConfig
from components.config.services import ImagesConfig, LogConfig, MemoryConfig, NetworkConfig, ProxyConfig, RegistryConfig


class SiteConfig(Model):
    site_name: DnsLabel = Field("codenvy", description="Prefix of container, volume and network names.")
    environment: DnsLabel = Field("dev", description="Environment name; only dev may relax TLS.")
    role: Literal["primary", "standby"] = Field("primary", description="primary serves users; standby mirrors one.")
    version: SemVer = Field("5.22.0", description="Codenvy version deployed (the server image tag).")
    hostname: HostAddress = Field("localhost", description="Public DNS name of the site (CODENVY_HOST).")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="Workspace network.")
    master: MasterConfig = Field(default_factory=MasterConfig, description="The master node.")
    nodes: tuple[HostConfig, ...] = Field((), description="Workspace nodes (overlay mode).")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Private registry.")
    images: ImagesConfig = Field(default_factory=ImagesConfig, description="Container images.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="Container memory limits.")
    logs: LogConfig = Field(default_factory=LogConfig, description="Container and daemon log limits.")
    proxy: ProxyConfig = Field(default_factory=ProxyConfig, description="Proxy for the Docker daemons.")
    https: bool = Field(True, description="Serve the site over HTTPS (HTTP redirects to it).")
    ssh_private_key: SecretStr | None = Field(
        None, description="Secret PEM key for SSH commands; absent means the ssh-agent (SSH_AUTH_SOCK)."
    )
    license: SecretStr | None = Field(None, description="Codenvy licence key (secret); both DR sites need one.")
    upgrade: UpgradeConfig = Field(default_factory=UpgradeConfig, description="Upgrade behaviour.")
    backup: BackupConfig = Field(default_factory=BackupConfig, description="Backups of the master's data.")
    dr: DrConfig | None = Field(None, description="Disaster recovery; required when role is standby.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Account limits per user.")
    admin_password: SecretStr | None = Field(
        None, description="Secret password of limits.adminUser; needed for limits.users and audit."
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="The audit report (seed: audit service).")
    firewall: FirewallConfig = Field(default_factory=FirewallConfig, description="Host firewall per role.")

    def _keyed_hosts(self):
        """(key, host) for the master and each node, the key as the stack file spells it."""
        yield ("master",), self.master
        for index, node in enumerate(self.nodes):
            yield ("nodes", index), node

    @model_validator(mode="after")
    def _topology(self) -> SiteConfig:
        if self.network.mode == "bridge" and self.nodes:
            raise ConfigKeyError(
                ("nodes",), "bridge mode runs on one host; list workspace nodes only with network.mode overlay"
            )
        if self.network.mode == "bridge" and self.network.encrypted:
            raise ConfigKeyError(("network", "encrypted"), "applies to overlay mode only")
        if not self.workspace_hosts:
            raise ConfigKeyError(("nodes",), "no host runs workspaces; add nodes or set master.hostWorkspaces true")
        names = Counter(host.name for host in self.hosts)
        addresses = Counter(host.address for host in self.hosts)
        for label, counts in (("name", names), ("address", addresses)):
            repeated = sorted(value for value, count in counts.items() if count > 1)
            if repeated:
                raise ConfigKeyError(("nodes",), f"every host needs its own {label}; repeated: {', '.join(repeated)}")
        if self.master.http_port == self.master.https_port:
            raise ConfigKeyError(("master", "httpsPort"), "must differ from master.httpPort")
        return self

    @model_validator(mode="after")
    def _master_ports_distinct(self) -> SiteConfig:
        """HAProxy, the registry, sshd and a TLS Docker API all listen on the master's host ports."""
        taken = {self.master.ssh_port: "master.ssh.port (sshd)"}
        if self.master.docker_tls_port:
            taken[self.master.docker_tls_port] = "master.dockerHost (the Docker API)"
        for key, port in (
            (("master", "httpPort"), self.master.http_port),
            (("master", "httpsPort"), self.master.https_port),
            (("registry", "port"), self.registry.port),
        ):
            if port in taken:
                raise ConfigKeyError(key, f"{port} is already {taken[port]} on the master; pick a free port")
            taken[port] = ".".join(key)
        return self

    @model_validator(mode="after")
    def _reachable_master(self) -> SiteConfig:
        remote = [host.name for host in self.members if not host.is_local]
        if len(self.members) < 2:
            return self  # one host: its Commands may well reach it over SSH at its loopback address
        for key, host in self._keyed_hosts():
            if remote and IPv4Address(host.address).is_loopback:
                raise ConfigKeyError(
                    (*key, "address"),
                    f"{host.address} is a loopback address, which the remote hosts ({', '.join(remote)}) cannot "
                    "reach; give every host an address the others reach",
                )
        return self

    @model_validator(mode="after")
    def _host_keys_pinned(self) -> SiteConfig:
        if self.environment in UNPINNED_HOST_KEY_ENVIRONMENTS:
            return self
        for key, host in self._keyed_hosts():
            if host.ssh is not None and host.ssh.host_key is None:
                raise ConfigKeyError(
                    (*key, "ssh", "hostKey"),
                    "required outside environments dev and sim, so root scripts and the join token reach this host "
                    "only; copy its line from `ssh-keyscan -t ed25519 ADDRESS` (without the address)",
                )
            unverified = None if host.ssh is None else unverified_host_key_option(host.ssh.options)
            if unverified is not None:
                raise ConfigKeyError(
                    (*key, "ssh", "options"),
                    f"'{unverified}' lets the Docker provider's ssh talk to any host; outside environments dev and "
                    "sim it verifies the host against known_hosts where Pulumi runs (add the host there, e.g. from "
                    "ssh.hostKey)",
                )
        if self.dr is not None and self.dr.primary_ssh.host_key is None:
            raise ConfigKeyError(
                ("dr", "primarySsh", "hostKey"),
                "required outside environments dev and sim, so the transfer fetches from the primary only; copy "
                "its line from `ssh-keyscan -t ed25519 ADDRESS` (without the address)",
            )
        return self

    @model_validator(mode="after")
    def _absolute_paths_outside_dev(self) -> SiteConfig:
        if self.environment != "dev":
            for key, value in (
                (("backup", "directory"), self.backup.directory),
                (("backup", "toolsDirectory"), self.backup.tools_directory),
            ):
                if not value.startswith("/"):
                    raise ConfigKeyError(key, f"must be an absolute path outside environment dev; got {value}")
        return self

    @model_validator(mode="after")
    def _credentials_over_https(self) -> SiteConfig:
        """The admin password goes to the API with every call; outside dev only over HTTPS."""
        calls_api = bool(self.limits.users) or self.audit.enabled
        if self.environment == "dev" or not calls_api:
            return self
        if self.limits.api_url is not None and not self.limits.api_url.startswith("https://"):
            raise ConfigKeyError(
                ("limits", "apiUrl"), "must be https:// outside environment dev (the admin password goes there)"
            )
        if self.limits.api_url is None and not self.https:
            raise ConfigKeyError(
                ("https",),
                "must be true outside environment dev while limits.users or audit send the admin password to the "
                "site's API",
            )
        return self

    @model_validator(mode="after")
    def _key_files_exist(self) -> SiteConfig:
        for key, host in self._keyed_hosts():
            key_file = host.ssh.key_file if host.ssh else None
            if key_file is not None and not Path(key_file).expanduser().is_file():
                raise ConfigKeyError(
                    (*key, "ssh", "keyFile"), f"no file at {key_file} on this machine (where Pulumi runs)"
                )
        return self

    @model_validator(mode="after")
    def _tls_outside_dev(self) -> SiteConfig:
        if not self.registry.tls and self.environment != "dev":
            raise ConfigKeyError(("registry", "tls"), "a registry without TLS is allowed only in environment dev")
        return self

    @model_validator(mode="after")
    def _backups_and_roles(self) -> SiteConfig:
        if self.backup.schedule is None and self.environment != "dev":
            raise ConfigKeyError(("backup", "schedule"), "backups must be scheduled outside environment dev")
        if self.role == "standby" and self.dr is None:
            raise ConfigKeyError(("dr",), "a standby site needs dr.primaryStack (and optionally standby, promote)")
        if self.role == "primary" and self.dr is not None:
            raise ConfigKeyError(("dr",), "only a standby site has a dr section; set role: standby")
        return self

    @model_validator(mode="after")
    def _limits_fit(self) -> SiteConfig:
        largest_mb = int(max(host.ram_gb for host in self.workspace_hosts) * 1024)
        for index, user in enumerate(self.limits.users):
            for limit in user.resources:
                if limit.megabytes is not None and limit.megabytes > largest_mb:
                    raise ConfigKeyError(
                        ("limits", "users", index, "resources"),
                        f"RAM {limit.megabytes} mb for {user.user_id} can never be used: the largest workspace host "
                        f"has {largest_mb} mb",
                    )
        if (self.limits.users or self.audit.enabled) and self.admin_password is None:
            raise ConfigKeyError(
                ("adminPassword",), "limits.users and audit call the API; set it with `pulumi config set --secret`"
            )
        return self

    @property
    def firewall_enabled(self) -> bool:
        return self.environment != "dev" if self.firewall.enabled is None else self.firewall.enabled

    @property
    def is_active(self) -> bool:
        """Serves users: a primary, or a standby that has been promoted."""
        return self.dr is None or self.dr.promote

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
        return f"{self.images.server}:{self.version}"
