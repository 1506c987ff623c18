"""The master node: PostgreSQL, the application server and HAProxy, with the seed's data locations."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.agents_service import AgentsService, AgentsServiceArgs, AgentsSettings
from components.app_server import AppServer, AppServerArgs, AppServerSettings, ServerSecrets, server_networks
from components.backups import BackupSettings, render_backup
from components.certificate_authority import CertificateAuthority
from components.config import ReplicationMode, Settings, SiteConfig
from components.containers import SITE_LABEL, ContainerSettings, pull_image, site_container
from components.database_replication import DatabaseReplication, DatabaseReplicationArgs, ReplicationSettings
from components.deploy_gates import PrimarySite
from components.host_access import HostAccess
from components.load_balancer import LoadBalancer, LoadBalancerArgs, LoadBalancerSettings
from components.master_layout import (
    DATABASE,
    DATABASE_USER,
    POSTGRES_ALIASES,
    POSTGRES_DATA_DIR,
    POSTGRES_STOP_GRACE_SECONDS,
    MasterData,
)
from components.ordering import After
from components.placement import PlacementManager, PlacementManagerArgs, PlacementSettings
from components.postgres_streaming import CONF_DIR, postgres_command
from components.registry import Registry
from components.script_templates import render_script
from components.versioning import UpgradePlan

DATA_VOLUMES = ("pgdata", "fs", "che-machines", "logs", "instance")


class MasterSettings(Settings):
    site_name: str
    version: str
    postgres_image: str
    postgres_memory_mb: int
    skip_upgrade_backup: bool
    backups: BackupSettings
    app_server: AppServerSettings
    load_balancer: LoadBalancerSettings
    placement: PlacementSettings
    agents: AgentsSettings
    containers: ContainerSettings
    # Present while the database streams to or from a standby (SiteConfig.database_streams).
    replication: ReplicationSettings | None
    # How the site's data follows a primary (SiteConfig.replication_mode): a running archive standby's
    # database must take restores, never stay a replica.
    replication_mode: ReplicationMode | None

    @classmethod
    def of(cls, site: SiteConfig) -> MasterSettings:
        return cls(
            site_name=site.site_name,
            version=site.version,
            postgres_image=site.images.postgres,
            postgres_memory_mb=site.memory.postgres_mb,
            skip_upgrade_backup=site.upgrade.skip_backup,
            backups=BackupSettings.of(site),
            app_server=AppServerSettings.of(site),
            load_balancer=LoadBalancerSettings.of(site),
            placement=PlacementSettings.of(site),
            agents=AgentsSettings.of(site),
            containers=ContainerSettings.of(site),
            replication=ReplicationSettings.of(site) if site.database_streams else None,
            replication_mode=site.replication_mode,
        )


@dataclass(frozen=True, kw_only=True)
class MasterNodeArgs:
    """What MasterNode reads, and the resources it needs. `after`: what must finish on the master first
    (its daemon restarts while it is configured). `primary`: a standby's primary, which a streaming standby's
    database follows. `admin_password`: the initial password of the system admin the server creates."""

    settings: MasterSettings
    host: HostAccess
    workspace_network: docker.Network
    registry: Registry
    ca: CertificateAuthority
    upgrade: UpgradePlan
    admin_password: pulumi.Output[str]
    after: After = ()
    primary: PrimarySite | None = None


class MasterNode(pulumi.ComponentResource):
    """The services of upstream's compose file: PostgreSQL, the server, HAProxy, the placement manager and the
    agents service (the registry is a component of its own). Data volumes are retained on destroy."""

    version: pulumi.Output[str]

    def __init__(self, name: str, args: MasterNodeArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:MasterNode", name, None, opts)
        self._settings = args.settings
        self._host = args.host
        self._after = args.after
        self.internal_network = docker.Network(
            f"{name}-internal",
            name=f"{args.settings.site_name}-internal",
            driver="bridge",
            labels=[docker.NetworkLabelArgs(label=SITE_LABEL, value=args.settings.site_name)],
            opts=self._on_host(),
        )
        volumes = {
            purpose: docker.Volume(
                f"{name}-{purpose}",
                name=f"{args.settings.site_name}-{purpose}",
                opts=self._on_host(retain_on_delete=True),
            )
            for purpose in DATA_VOLUMES
        }
        password = self.database_password = self._database_password(name, args.primary)
        self.replication_password: pulumi.Output[str] | None = None
        self.postgres = self._postgres(name, volumes["pgdata"], password, args.ca, args.primary)
        database_password = self._database_role_password(name, password, self._leave_recovery(name))
        pre_upgrade_backup = self._pre_upgrade_backup(name, args.upgrade)
        child = pulumi.ResourceOptions(parent=self)
        self.placement = placement = PlacementManager(
            f"{name}-placement",
            PlacementManagerArgs(
                settings=args.settings.placement,
                host=args.host,
                ca=args.ca,
                internal_network=self.internal_network,
                after=self._after,
            ),
            child,
        )
        AgentsService(
            f"{name}-agents",
            AgentsServiceArgs(
                settings=args.settings.agents,
                host=args.host,
                networks=[self.internal_network, args.workspace_network],
                after=self._after,
            ),
            child,
        )
        secrets = ServerSecrets(
            password, args.admin_password, args.registry.address, args.registry.username, args.registry.password
        )
        # The server's and HAProxy's resources were this component's own before they had components of their
        # own: they keep their names and, by these aliases, their URNs.
        moved = pulumi.ResourceOptions(aliases=[pulumi.Alias(parent=self)])
        self.app_server = AppServer(
            f"{name}-app",
            AppServerArgs(
                settings=args.settings.app_server,
                host=args.host,
                networks=server_networks(self.internal_network, args.workspace_network),
                volumes=volumes,
                secrets=secrets,
                ca=args.ca,
                moved=moved,
                prefix=name,
                after=self._after,
                container_after=[
                    self.postgres,
                    args.registry,
                    placement.container,
                    *([database_password] if database_password else []),
                    *([pre_upgrade_backup] if pre_upgrade_backup else []),
                ],
            ),
            child,
        )
        LoadBalancer(
            f"{name}-lb",
            LoadBalancerArgs(
                settings=args.settings.load_balancer,
                host=args.host,
                ca=args.ca,
                internal_network=self._internal("haproxy"),
                moved=moved,
                prefix=name,
                after=self._after,
                container_after=[self.app_server.container],
            ),
            child,
        )
        self.version = self.app_server.version
        self.register_outputs({"version": self.version})

    def _database_password(self, name: str, primary: PrimarySite | None) -> pulumi.Output[str]:
        """The server's database password: a replica has the primary's roles, so a standby that follows
        (or followed, until it was promoted) logs in with the primary's; every other site makes its own.
        Secret by construction, not only by the provider's schema, so no engine can leak it."""
        if self._settings.replication_mode is ReplicationMode.STREAMING and primary and primary.database_password:
            return pulumi.Output.secret(primary.database_password)
        generated = random.RandomPassword(
            f"{name}-db-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return pulumi.Output.secret(generated.result)

    def _leave_recovery(self, name: str) -> pulumi.Resource | None:
        """An archive standby's database as a primary of its own: one that streamed until its stack switched
        to `archive` keeps standby.signal in its kept data directory and would stay a read-only replica."""
        settings = self._settings
        if settings.replication_mode is not ReplicationMode.ARCHIVE or not settings.containers.running:
            return None
        return self._database_script(f"{name}-leave-recovery", "promote_database")

    def _database_role_password(
        self, name: str, password: pulumi.Output[str], left_recovery: pulumi.Resource | None
    ) -> pulumi.Resource | None:
        """Sets the server's role to `password` where the database runs: a data directory kept from an earlier
        stack (`make destroy`, then `up`) or a promoted site that leaves its pair keeps the old one otherwise.
        A cold standby's database does not run until it is promoted, which registers this."""
        if not self._settings.containers.running:
            return None
        return self._database_script(
            f"{name}-database-password",
            "database_password",
            stdin=password,
            after=[left_recovery] if left_recovery else [],
        )

    def _database_script(
        self,
        resource_name: str,
        script: str,
        stdin: pulumi.Output[str] | None = None,
        after: After = (),
    ) -> pulumi.Resource:
        """A script run on the master against the site's running PostgreSQL, as its superuser, on its socket."""
        return self._host.run(
            resource_name,
            render_script(
                script,
                container=MasterData(self._settings.site_name).postgres_container,
                database_user=DATABASE_USER,
                node_name=self._host.name,
            ),
            stdin=stdin,
            parent=self,
            after=[self.postgres, *after],
        )

    def _on_host(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._host.provider, depends_on=self._after, **options)

    def _pre_upgrade_backup(self, name: str, upgrade: UpgradePlan) -> pulumi.Resource | None:
        """Backs up before the server of a new version replaces the old one; re-run on every version change."""
        settings = self._settings
        if settings.skip_upgrade_backup:
            if upgrade.kind == "upgrade":
                pulumi.log.warn(
                    f"upgrading {upgrade.deployed} -> {upgrade.target} without a backup (upgrade.skipBackup)", self
                )
            return None
        return self._host.run(
            f"{name}-pre-upgrade-backup",
            render_backup(settings.backups, "pre-upgrade"),
            triggers=[settings.version],
            parent=self,
            after=[self.postgres],
        )

    def _internal(self, *aliases: str) -> docker.ContainerNetworksAdvancedArgs:
        return docker.ContainerNetworksAdvancedArgs(name=self.internal_network.name, aliases=list(aliases))

    def _postgres(
        self,
        name: str,
        data: docker.Volume,
        password: pulumi.Output[str],
        ca: CertificateAuthority,
        primary: PrimarySite | None,
    ) -> docker.Container:
        settings = self._settings
        image = pull_image(f"{name}-postgres-image", settings.postgres_image, self._host.provider, self, self._after)
        replication, ready, conf_volumes, streaming = None, [], [], {}
        if settings.replication is not None:
            replication = DatabaseReplication(
                f"{name}-replication",
                DatabaseReplicationArgs(
                    settings=settings.replication,
                    host=self._host,
                    ca=ca,
                    primary=primary,
                    data_volume=data,
                    after=[image, *self._after],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            self.replication_password = replication.password
            ready = replication.ready
            conf_volumes = [
                docker.ContainerVolumeArgs(
                    volume_name=settings.replication.conf_volume, container_path=CONF_DIR, read_only=True
                )
            ]
            streaming = _streaming_arguments(settings.replication)
        container = site_container(
            f"{name}-postgres",
            shared=settings.containers,
            image=image,
            container_name=MasterData(settings.site_name).postgres_container,
            memory_mb=settings.postgres_memory_mb,
            stop_grace_seconds=POSTGRES_STOP_GRACE_SECONDS,
            # Status only: scripts wait with postgres_ready (over TCP), which a first-boot server never
            # passes. A changed healthcheck is an update the provider does not apply, so it stays as it is.
            healthcheck=f"pg_isready -U {DATABASE_USER} -d {DATABASE}",
            host=self._host,
            parent=self,
            after=[*self._after, *ready],
            envs=[
                f"POSTGRES_DB={DATABASE}",
                f"POSTGRES_USER={DATABASE_USER}",
                pulumi.Output.concat("POSTGRES_PASSWORD=", password),
            ],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=data.name, container_path=POSTGRES_DATA_DIR),
                *conf_volumes,
            ],
            networks_advanced=[self._internal(*POSTGRES_ALIASES)],
            **streaming,
        )
        if replication is not None:
            replication.after_start(container)
        return container


def _streaming_arguments(settings: ReplicationSettings) -> dict:
    """What a streaming PostgreSQL adds besides its configuration volume: its arguments, and its port published
    at the master's own address (the firewall lets only the site's standby masters through)."""
    return {
        "command": postgres_command(),
        "ports": [docker.ContainerPortArgs(internal=5432, external=settings.postgres_port, ip=settings.master_address)],
    }
