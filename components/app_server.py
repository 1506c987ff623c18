"""The Codenvy application server with the contract of its image: the environment its entrypoint checks, the
conf/ its configuration is read from, and the data folders under /opt/codenvy-data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.certificate_authority import CLIENT_AUTH, CertificateAuthority
from components.config import Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import CONF_DIR, DATA_ROOT, INSTANCE_DIR, SERVER_ALIAS, SERVER_PORT, MasterData
from components.ordering import After
from components.server_config import (
    REGISTRY_AUTH_PREFIX,
    SERVER_XML,
    SWARM_CLIENT_DIR,
    ServerInputs,
    properties_files,
    render_admin_properties,
    render_codenvy_env,
    render_server_xml,
    server_environment,
)

VERSION_LABEL = "codenvy.version"
# The server stops its workspaces' agents and flushes project data before the provider may kill it.
STOP_GRACE_SECONDS = 60
# The data volumes the server mounts: volume purpose -> path in the container (compose: /opt/codenvy-data).
MOUNTS = {
    "fs": f"{DATA_ROOT}/fs",
    "che-machines": f"{DATA_ROOT}/che-machines",
    "logs": f"{DATA_ROOT}/logs",
    "instance": INSTANCE_DIR,
}


class AppServerSettings(Settings):
    site_name: str
    environment: str
    role: str
    version: str
    image: str
    server: ServerInputs
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> AppServerSettings:
        limits = site.limits.defaults
        return cls(
            site_name=site.site_name,
            environment=site.environment,
            role=site.role,
            version=site.version,
            image=site.server_image,
            server=ServerInputs(
                hostname=site.hostname,
                url=site.url,
                https=site.https,
                network_mode=site.network.mode,
                workspace_network_name=site.workspace_network_name,
                registry_address=site.registry_address,
                snapshots=site.registry.snapshots,
                ram_mb=limits.ram_mb,
                environment_ram_mb=int(max(host.ram_gb for host in site.workspace_hosts) * 1024),
                workspaces=limits.workspaces,
                runtimes=limits.runtimes,
                idle_timeout_minutes=limits.idle_timeout_minutes,
                memory_mb=site.memory.server_mb,
                admin_name=site.limits.admin_user,
                http_proxy=site.proxy.http_proxy,
                https_proxy=site.proxy.https_proxy,
                no_proxy=site.proxy.no_proxy,
            ),
            containers=ContainerSettings.of(site),
        )


def server_labels(settings: AppServerSettings) -> dict[str, str]:
    """What the site declares about itself, on the server container where policies can read it. Only
    what replaces the server anyway when it changes: labels force a new container."""
    return {"codenvy.environment": settings.environment, "codenvy.role": settings.role, VERSION_LABEL: settings.version}


class ServerSecrets:
    """The server's secrets, as environment entries and conf/ files (secret by construction)."""

    def __init__(
        self,
        database_password: pulumi.Output[str],
        admin_password: pulumi.Output[str],
        registry_address: str,
        registry_username: str | None,
        registry_password: pulumi.Output[str] | None,
    ) -> None:
        self.environment: list[pulumi.Input[str]] = [pulumi.Output.concat("PGPASSWORD=", database_password)]
        if registry_username is not None and registry_password is not None:
            self.environment += [
                f"{REGISTRY_AUTH_PREFIX}_URL={registry_address}",
                f"{REGISTRY_AUTH_PREFIX}_USERNAME={registry_username}",
                pulumi.Output.concat(f"{REGISTRY_AUTH_PREFIX}_PASSWORD=", registry_password),
            ]
        self.database_password = database_password
        self.admin_password = admin_password


@dataclass(frozen=True, kw_only=True)
class AppServerArgs:
    """What AppServer reads, and the resources it needs."""

    settings: AppServerSettings
    host: HostAccess
    networks: list[docker.ContainerNetworksAdvancedArgs]
    volumes: dict[str, docker.Volume]
    secrets: ServerSecrets
    ca: CertificateAuthority
    # Where the resources moved here had been: the caller that moved them says so, as options with the
    # aliases (pulumi.Alias) that keep their URNs. The engine inherits a component's aliases only when the
    # component itself was found under one (pulumi/pulumi pkg/resource/deploy/step_generator.go
    # generateAliases), and this component was new, so its own `opts` cannot carry them.
    moved: pulumi.ResourceOptions
    # The names those resources had, kept: `<prefix>-<role>`.
    prefix: str
    # What everything here waits for (the master's daemon configured); the container, besides, waits for
    # `container_after`: its database, the registry, the placement manager and the upgrade's backup.
    after: After
    container_after: After


class AppServer(pulumi.ComponentResource):
    """The server container. Its resources were the MasterNode's own before it had this component; the
    aliases in `args.moved` and the names they had (`args.prefix`) keep them, and their URNs, in place."""

    container: docker.Container
    version: pulumi.Output[str]

    def __init__(self, name: str, args: AppServerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:AppServer", name, None, opts)
        moved = list(args.moved.aliases or [])
        inputs = args.settings.server
        self.container = site_container(
            f"{args.prefix}-server",
            shared=args.settings.containers,
            image=pull_image(
                f"{args.prefix}-server-image", args.settings.image, args.host.provider, self, args.after, moved
            ),
            container_name=MasterData(args.settings.site_name).server_container,
            memory_mb=inputs.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=f"curl -fsS -o /dev/null http://localhost:{SERVER_PORT}/api/",
            host=args.host,
            parent=self,
            after=args.container_after,
            aliases=moved,
            envs=[*server_environment(inputs), *args.secrets.environment],
            uploads=[
                *_conf_files(args.settings, args.secrets),
                *self._swarm_client(name, args.ca),
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.env", content=render_codenvy_env(inputs)),
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.ver", content=f"{args.settings.version}\n"),
            ],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=args.volumes[purpose].name, container_path=path)
                for purpose, path in MOUNTS.items()
            ],
            networks_advanced=args.networks,
            extra_labels=server_labels(args.settings),
        )
        # The version the server that exists declares: it resolves only once that server has been created,
        # so a failed upgrade leaves the stack's previous `version` output (the engine keeps outputs that
        # were not registered again), and the upgrade gate still allows going back.
        self.version = self.container.labels.apply(_declared_version)
        self.register_outputs({"version": self.version})

    def _swarm_client(self, name: str, ca: CertificateAuthority) -> list[docker.ContainerUploadArgs]:
        """The certificate the server presents to the placement manager (docker.client.certificates_folder)."""
        cert = ca.issue(f"{name}-swarm-client", common_name=SERVER_ALIAS, subject_names=[], parent=self,
                        usages=CLIENT_AUTH)  # fmt: skip
        return [
            docker.ContainerUploadArgs(file=f"{SWARM_CLIENT_DIR}/ca.pem", content=ca.trust_pem),
            docker.ContainerUploadArgs(file=f"{SWARM_CLIENT_DIR}/cert.pem", content=cert.cert_pem),
            docker.ContainerUploadArgs(
                file=f"{SWARM_CLIENT_DIR}/key.pem", content=cert.private_key_pem, permissions="0600"
            ),
        ]


def _conf_files(settings: AppServerSettings, secrets: ServerSecrets) -> list[docker.ContainerUploadArgs]:
    """The init step's renderings: the properties, the admin's initial credentials, Tomcat's server.xml."""
    admin = settings.server.admin_name
    return [
        *(
            docker.ContainerUploadArgs(file=f"{CONF_DIR}/{file}", content=content)
            for file, content in properties_files(settings.server).items()
        ),
        docker.ContainerUploadArgs(
            file=f"{CONF_DIR}/admin.properties",
            content=pulumi.Output.secret(secrets.admin_password.apply(lambda p: render_admin_properties(admin, p))),
            permissions="0600",
        ),
        docker.ContainerUploadArgs(
            file=SERVER_XML,
            content=pulumi.Output.secret(secrets.database_password.apply(render_server_xml)),
            permissions="0600",
        ),
    ]


def server_networks(internal: docker.Network, workspace: docker.Network) -> list[docker.ContainerNetworksAdvancedArgs]:
    """The server answers as SERVER_ALIAS on the master's internal network and on the workspace network."""
    return [
        docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[SERVER_ALIAS])
        for network in (internal, workspace)
    ]


def _declared_version(labels: Sequence[docker.outputs.ContainerLabel] | None) -> str:
    return next(item.value for item in labels or [] if item.label == VERSION_LABEL)
