"""PostgreSQL streaming between a site and its standby: TLS and pg_hba.conf for the peer site on both, the
replication role on the site that serves, the replica seeded on a streaming standby, and its promotion."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.certificate_authority import CertificateAuthority
from components.config import ReplicationMode, Settings, SiteConfig
from components.deploy_gates import PrimarySite
from components.fencing import FenceSettings, install_fence
from components.host_access import HostAccess
from components.master_layout import DATABASE_USER, POSTGRES_DATA_DIR, MasterData
from components.ordering import After
from components.postgres_streaming import (
    CONF_DIR,
    PGPASS_FILE,
    PRIMARY_CA_FILE,
    REPLICATION_ROLE,
    SLOT_PREFIX,
    STANDBYS_PGPASS_FILE,
    config_bundle,
    pgpass_entry,
    pgpass_line,
    primary_conninfo,
    render_pg_hba,
    slot_name,
)
from components.script_templates import render_script, sha256


class ReplicationSettings(Settings):
    site_name: str
    master_name: str
    master_address: str
    postgres_port: int
    postgres_image: str
    max_wal_keep_mb: int
    # The serving side: the standby masters this site streams to.
    standby_addresses: tuple[str, ...]
    # The standby side: how its data follows the primary's (SiteConfig.replication_mode); streaming, its
    # database is a replica of the primary's until promoted.
    replication_mode: ReplicationMode | None
    promoted: bool
    reseed: int
    backup_directory: str
    # The serving side's fence (present with standby_addresses).
    fence: FenceSettings | None

    @classmethod
    def of(cls, site: SiteConfig) -> ReplicationSettings:
        dr = site.dr
        return cls(
            site_name=site.site_name,
            master_name=site.master.name,
            master_address=site.master.address,
            postgres_port=site.master.postgres_port,
            postgres_image=site.images.postgres,
            max_wal_keep_mb=site.replication.max_wal_keep_mb,
            standby_addresses=site.replication.standby_addresses,
            replication_mode=site.replication_mode,
            promoted=bool(dr and dr.promote),
            reseed=dr.reseed if dr else 0,
            backup_directory=site.backup.directory,
            fence=FenceSettings.of(site) if site.replication.standby_addresses else None,
        )

    @property
    def data(self) -> MasterData:
        return MasterData(self.site_name)

    @property
    def seeded_from_primary(self) -> bool:
        """Following the primary now: seeded from it, streaming from it."""
        return self.replication_mode is ReplicationMode.STREAMING and not self.promoted

    @property
    def conf_volume(self) -> str:
        return f"{self.site_name}-pgconf"


@dataclass(frozen=True, kw_only=True)
class DatabaseReplicationArgs:
    """What DatabaseReplication reads, and the resources it needs."""

    settings: ReplicationSettings
    host: HostAccess
    ca: CertificateAuthority
    primary: PrimarySite | None
    data_volume: docker.Volume
    after: After


class DatabaseReplication(pulumi.ComponentResource):
    """`ready`: what the PostgreSQL container waits for (the Command that writes its configuration volume,
    and on a following standby the one that seeds the replica into `data_volume`). `after_start(container)`
    adds what needs the running server: the replication role and the fence on the serving side, the
    promotion on a promoted standby."""

    ready: list[pulumi.Resource]
    password: pulumi.Output[str] | None

    def __init__(self, name: str, args: DatabaseReplicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:DatabaseReplication", name, None, opts)
        self._settings, self._host, self._name = args.settings, args.host, name
        self.password = None
        if args.settings.standby_addresses:
            generated = random.RandomPassword(
                f"{name}-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            self.password = pulumi.Output.secret(generated.result)
        volume = docker.Volume(
            f"{name}-conf",
            name=args.settings.conf_volume,
            opts=pulumi.ResourceOptions(parent=self, provider=args.host.provider, depends_on=args.after),
        )
        followed = args.primary if args.settings.replication_mode is ReplicationMode.STREAMING else None
        config = self._write_config(args.ca, followed, [volume, *args.after])
        self.ready = [config]
        if args.settings.seeded_from_primary and args.primary is not None:
            self.ready.append(self._seed(args.primary, args.data_volume, [config, args.data_volume]))

    def _write_config(self, ca: CertificateAuthority, primary: PrimarySite | None, after: After) -> pulumi.Resource:
        settings = self._settings
        cert = ca.issue(
            f"{self._name}-tls",
            common_name=settings.master_address,
            subject_names=[settings.master_address, settings.master_name],
            parent=self,
        )
        primary_address = (primary.manager_address,) if primary else ()
        peers = tuple(sorted({*settings.standby_addresses, *primary_address}))
        files: dict[str, pulumi.Input[str]] = {
            "server.crt": cert.cert_pem,
            "server.key": cert.private_key_pem,
            "pg_hba.conf": render_pg_hba(peers),
        }
        password = primary.replication_password if primary is not None else None
        if primary is not None and primary.ca_cert and password:
            files[PRIMARY_CA_FILE] = primary.ca_cert
            files[PGPASS_FILE] = pulumi.Output.secret(pgpass_line(primary, password))
        if self.password is not None:
            port, standbys = settings.postgres_port, settings.standby_addresses
            files[STANDBYS_PGPASS_FILE] = self.password.apply(
                lambda own: "".join(pgpass_entry(address, port, own) for address in standbys)
            )
        names = list(files)
        bundle = pulumi.Output.secret(
            pulumi.Output.all(*files.values()).apply(
                lambda contents: config_bundle(dict(zip(names, contents, strict=True)))
            )
        )
        script = bundle.apply(
            lambda text: render_script(
                "postgres_config",
                bundle_sha256=sha256(text),
                conf_volume=settings.conf_volume,
                container=settings.data.postgres_container,
                database_user=DATABASE_USER,
                image=settings.postgres_image,
                node_name=settings.master_name,
            )
        )
        return self._host.run(f"{self._name}-config", script, stdin=bundle, parent=self, after=after)

    def _seed(self, primary: PrimarySite, data_volume: docker.Volume, after: After) -> pulumi.Resource:
        settings = self._settings

        def seed_script(reseed_lost_slot: str) -> pulumi.Output[str]:
            return data_volume.name.apply(lambda volume: self._seed_script(primary, volume, reseed_lost_slot))

        return self._host.run(
            f"{self._name}-seed",
            seed_script("yes"),
            # An in-place change (the script's text) runs the update, which copies the data again only when it
            # belongs to another system: over a lost slot it only reports, as the preview warns, since seeding
            # stops the database. Raising dr.reseed replaces the seed, and its create copies the data afresh.
            update_script=seed_script("no"),
            triggers=[str(settings.reseed)],
            parent=self,
            after=after,
        )

    def _seed_script(self, primary: PrimarySite, volume: str, reseed_lost_slot: str) -> str:
        settings = self._settings
        return render_script(
            "replica_seed",
            backup_dir=settings.backup_directory,
            conf_dir=CONF_DIR,
            conf_volume=settings.conf_volume,
            container=settings.data.postgres_container,
            data_dir=POSTGRES_DATA_DIR,
            data_volume=volume,
            image=settings.postgres_image,
            node_name=settings.master_name,
            primary_conninfo=primary_conninfo(primary),
            slot=slot_name(settings.master_address),
            reseed_lost_slot=reseed_lost_slot,
        )

    def after_start(self, container: pulumi.Resource) -> None:
        """The rest, once the server's container exists; registers the component's outputs."""
        settings, common = self._settings, {"container": self._settings.data.postgres_container}
        if self.password is not None:
            self._host.run(
                f"{self._name}-role",
                render_script(
                    "replication_role",
                    database_user=DATABASE_USER,
                    kept_slots=" ".join(slot_name(address) for address in settings.standby_addresses),
                    max_wal_keep_mb=str(settings.max_wal_keep_mb),
                    node_name=settings.master_name,
                    role=REPLICATION_ROLE,
                    slot_prefix=SLOT_PREFIX,
                    **common,
                ),
                stdin=self.password,
                parent=self,
                after=[container],
            )
        if settings.fence is not None:
            install_fence(self._host, f"{self._name}-fence", settings.fence, self, [container])
        if settings.promoted:
            self._host.run(
                f"{self._name}-promote",
                render_script(
                    "promote_database", database_user=DATABASE_USER, node_name=settings.master_name, **common
                ),
                parent=self,
                after=[container],
            )
        self.register_outputs({"streams_to": list(settings.standby_addresses)})
