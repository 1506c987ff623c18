"""A whole Codenvy site composed from one validated SiteConfig: each component gets its own settings."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from components.account_limits import AccountLimits, AccountLimitsArgs, ApiAccess, AuditReport, AuditReportArgs
from components.backups import Backups, BackupsArgs, BackupSettings
from components.certificate_authority import (
    CertificateAuthority,
    CertificateAuthorityArgs,
    CertificateAuthoritySettings,
)
from components.config import SiteConfig, is_ip_address
from components.deploy_gates import Deployment, PrimarySite
from components.disaster_recovery import DisasterRecovery, DisasterRecoveryArgs, DisasterRecoverySettings
from components.docker_host import DockerHost, DockerHostArgs, DockerHostSettings
from components.engine_relay import EngineRelay, EngineRelayArgs, EngineRelaySettings
from components.host_access import HostAccess, connect_host
from components.master_node import MasterNode, MasterNodeArgs, MasterSettings
from components.mirror_access import MirrorAccess, MirrorAccessArgs, MirrorSettings
from components.ordering import After
from components.registry import Registry, RegistryArgs, RegistrySettings
from components.release import program_version
from components.stack_outputs import exported
from components.workspace_network import WorkspaceNetwork, WorkspaceNetworkArgs, WorkspaceNetworkSettings


@dataclass(frozen=True, kw_only=True)
class SiteArgs:
    """What Site reads, and the resources it needs."""

    deployment: Deployment


class Site(pulumi.ComponentResource):
    """Master, registry, workspace network and Docker hosts; `exports` is what users and a DR stack read
    (components/stack_outputs.py StackOutputs)."""

    exports: dict[str, pulumi.Input[object]]

    def __init__(self, name: str, args: SiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:Site", name, None, opts)
        site = args.deployment.site
        child = pulumi.ResourceOptions(parent=self)
        hosts = {host.name: connect_host(name, host, site.ssh_private_key, self) for host in site.hosts}
        master = hosts[site.master.name]
        primary = args.deployment.primary
        docker_hosts = DockerHostSettings.of(site, primary)

        ca = CertificateAuthority(
            f"{name}-ca", CertificateAuthorityArgs(settings=CertificateAuthoritySettings.of(site)), child
        )
        # A managed master gets daemon.json and the registry CA too (it pushes to its own registry) before
        # the swarm starts and before any container is created on it: a daemon restart hits nothing running.
        master_ready: list[pulumi.Resource] = []
        if site.master.manages_docker:
            master_ready = [self._docker_host(name, docker_hosts, master, master, ca, None, [])]
        registry = Registry(
            f"{name}-registry",
            RegistryArgs(settings=RegistrySettings.of(site), master=master, ca=ca, after=master_ready),
            child,
        )
        network = WorkspaceNetwork(
            f"{name}-network",
            WorkspaceNetworkArgs(settings=WorkspaceNetworkSettings.of(site), master=master, after=master_ready),
            child,
        )
        self.admin_password = self._admin_password(name, site, primary)
        self.master = MasterNode(
            f"{name}-master",
            MasterNodeArgs(
                settings=MasterSettings.of(site),
                host=master,
                workspace_network=network.network,
                registry=registry,
                ca=ca,
                upgrade=args.deployment.upgrade,
                admin_password=self.admin_password,
                after=master_ready,
                primary=primary,
            ),
            child,
        )
        backups = Backups(
            f"{name}-backups",
            BackupsArgs(settings=BackupSettings.of(site), master=master, after=[self.master]),
            child,
        )
        if site.replication.standby_keys:
            MirrorAccess(
                f"{name}-mirror",
                MirrorAccessArgs(settings=MirrorSettings.of(site), master=master, after=[backups]),
                child,
            )
        self._account_services(name, site, ca)
        if primary is not None:
            # After the backups: a promotion runs the restore tool they install.
            DisasterRecovery(
                f"{name}-dr",
                DisasterRecoveryArgs(
                    settings=DisasterRecoverySettings.of(site),
                    primary=primary,
                    master=master,
                    after=[self.master, backups],
                ),
                child,
            )
        self.nodes = [
            self._docker_host(name, docker_hosts, hosts[node.name], master, ca, network.join_token, [network.network])
            for node in site.nodes
        ]
        relays = self._engine_relays(name, site, hosts, ca, master_ready)
        self.master.placement.wait_until_ready(relays)
        self.exports = _exports(site, self.master, network, registry, self.admin_password)
        self.register_outputs(self.exports)

    def _admin_password(self, name: str, site: SiteConfig, primary: PrimarySite | None) -> pulumi.Output[str]:
        """The system admin's initial password: adminPassword; on a standby, the primary's (its database, admin
        included, is the primary's); else one made for the site. A stack output either way."""
        if site.admin_password is not None:
            return pulumi.Output.secret(site.admin_password.get_secret_value())
        if primary is not None and primary.admin_password:
            return pulumi.Output.secret(primary.admin_password)
        made = random.RandomPassword(
            f"{name}-admin-password", length=24, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        return pulumi.Output.secret(made.result)

    def _engine_relays(
        self,
        name: str,
        site: SiteConfig,
        hosts: dict[str, HostAccess],
        ca: CertificateAuthority,
        master_after: After,
    ) -> list[pulumi.Resource]:
        """A relay on every workspace host, after the host's daemon and firewall are in place. Named for the
        host's address, which its relay publishes on: renaming a node keeps its relay (a relay per name would be
        a second container of the same Docker name on that host before the first one's delete)."""
        settings = EngineRelaySettings.of(site)
        ready: dict[str, list[pulumi.Resource]] = {
            node.name: [docker_host] for node, docker_host in zip(site.nodes, self.nodes, strict=True)
        }
        relayed = (site.master,) if site.master.host_workspaces else ()
        relays: list[pulumi.Resource] = []
        for host in (*relayed, *site.nodes):
            on_master = host is site.master
            relay = EngineRelay(
                f"{name}-relay-{host.address.replace('.', '-')}",
                EngineRelayArgs(
                    settings=settings,
                    host=hosts[host.name],
                    ca=ca,
                    internal_network=self.master.internal_network if on_master else None,
                    after=master_after if on_master else ready[host.name],
                ),
                pulumi.ResourceOptions(parent=self),
            )
            if not host.lost:
                relays.append(relay.container)
        return relays

    def _account_services(self, name: str, site: SiteConfig, ca: CertificateAuthority) -> None:
        """Per-user limits and the audit report, through the site's API once the master serves it."""
        if not (site.limits.users or site.audit.enabled):
            return
        api, site_ca = ApiAccess.of(site), ca.trust_pem if site.https else None
        after: After = [self.master]
        child = pulumi.ResourceOptions(parent=self)
        if site.limits.users:
            AccountLimits(
                f"{name}-limits",
                AccountLimitsArgs(users=site.limits.users, api=api, ca_pem=site_ca, after=after),
                child,
            )
        if site.audit.enabled:
            AuditReport(
                f"{name}-audit",
                AuditReportArgs(config=site.audit, version=site.version, api=api, ca_pem=site_ca, after=after),
                child,
            )

    def _docker_host(
        self,
        name: str,
        settings: DockerHostSettings,
        host: HostAccess,
        manager: HostAccess,
        ca: CertificateAuthority,
        join_token: pulumi.Output[str] | None,
        after: After,
    ) -> DockerHost:
        return DockerHost(
            f"{name}-ws-{host.name}",
            DockerHostArgs(
                settings=settings,
                host=host,
                manager=manager,
                registry_ca_pem=ca.trust_pem,
                join_token=join_token,
                after=after,
            ),
            pulumi.ResourceOptions(parent=self),
        )


def _exports(
    site: SiteConfig,
    master: MasterNode,
    network: WorkspaceNetwork,
    registry: Registry,
    admin_password: pulumi.Output[str],
) -> dict[str, pulumi.Input[object]]:
    return exported(
        program_version=program_version(),
        site_name=site.site_name,
        environment=site.environment,
        role=site.role,
        # Resolves with the server of this version (AppServer.version): a failed upgrade keeps the old one.
        version=master.version,
        url=site.url,
        hostname=site.hostname,
        network_mode=site.network.mode,
        manager_address=network.manager_address,
        registry=registry.address,
        registry_ca_cert=registry.ca_cert_pem,
        registry_username=registry.username,
        registry_password=registry.password,
        nodes=site.node_set,
        license_present=site.license is not None,
        backup_directory=site.backup.directory,
        active=site.is_active,
        standby=site.dr.standby if site.dr and not site.dr.promote else None,
        # Where the site's DNS name must point; only the active site claims it (failover re-points it).
        dns_record=_dns_record(site) if site.is_active else None,
        # What a streaming standby reads: the masters this site streams to, where its PostgreSQL listens,
        # and the replication role's password.
        replication_standbys=list(site.replication.standby_addresses),
        postgres_port=site.master.postgres_port if site.database_streams else None,
        replication_password=master.replication_password,
        # A replica has this site's database roles: a streaming standby's server logs in with this. Exported
        # by both sites of a streaming pair, so after a failback each still finds it in the other's outputs.
        database_password=master.database_password if site.database_streams else None,
        admin_password=admin_password,
    )


def _dns_record(site: SiteConfig) -> dict[str, str]:
    kind = "A" if is_ip_address(site.master.address) else "CNAME"
    return {"name": site.hostname, "type": kind, "value": site.master.address}
