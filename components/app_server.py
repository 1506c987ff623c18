"""The Codenvy application server: its codenvy.env, its data mounts, and the workspace-node list beside it."""

from __future__ import annotations

import json

import pulumi
import pulumi_docker as docker

from components.config import DefaultLimits, Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import (
    DATA_ROOT,
    DATABASE,
    DATABASE_USER,
    INSTANCE_DIR,
    POSTGRES_ALIAS,
    SERVER_ALIAS,
    SERVER_PORT,
    MasterData,
)
from components.script_templates import render_script

# The workspace nodes, in the instance folder where the seed listed them (CODENVY_SWARM_NODES).
NODES_FILE = f"{INSTANCE_DIR}/workspace-nodes.json"
VERSION_LABEL = "codenvy.version"
# The server stops its workspaces' agents and flushes project data before the provider may kill it.
STOP_GRACE_SECONDS = 60
# The data volumes the server mounts: volume purpose -> path in the container.
MOUNTS = {"fs": f"{DATA_ROOT}/fs", "che-machines": f"{DATA_ROOT}/che-machines", "instance": INSTANCE_DIR}


class AppServerSettings(Settings):
    site_name: str
    environment: str
    role: str
    version: str
    image: str
    memory_mb: int
    hostname: str
    https: bool
    network_mode: str
    workspace_network_name: str
    registry_address: str
    limits: DefaultLimits
    # The workspace hosts and their capacity (SiteConfig.node_set).
    node_set: tuple[dict[str, object], ...]
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> AppServerSettings:
        return cls(
            site_name=site.site_name,
            environment=site.environment,
            role=site.role,
            version=site.version,
            image=site.server_image,
            memory_mb=site.memory.server_mb,
            hostname=site.hostname,
            https=site.https,
            network_mode=site.network.mode,
            workspace_network_name=site.workspace_network_name,
            registry_address=site.registry_address,
            limits=site.limits.defaults,
            node_set=tuple(site.node_set),
            containers=ContainerSettings.of(site),
        )


def server_labels(settings: AppServerSettings) -> dict[str, str]:
    """What the site declares about itself, on the server container where policies can read it. Only
    what replaces the server anyway when it changes: labels force a new container."""
    return {"codenvy.environment": settings.environment, "codenvy.role": settings.role, VERSION_LABEL: settings.version}


def node_set_json(settings: AppServerSettings) -> str:
    """The workspace nodes as one line of JSON: the nodes file's content and the declared NODE_SET."""
    return json.dumps(list(settings.node_set), sort_keys=True)


def render_codenvy_env(settings: AppServerSettings) -> str:
    """The server's codenvy.env, as in the seed: host name, network mode, registry, limits. No secrets.

    Not the workspace nodes (the seed's CODENVY_SWARM_NODES): in Swarm mode the manager schedules onto
    them, and this text is the server's environment and an upload, which replace the server when they
    change. The node list is written beside it (AppServer's workspace-nodes command)."""
    limits = settings.limits
    values = {
        "CODENVY_HOST": settings.hostname,
        "CODENVY_VERSION": settings.version,
        "CODENVY_MACHINE_DOCKER_NETWORK_DRIVER": "overlay" if settings.network_mode == "overlay" else "bridge",
        "CODENVY_MACHINE_DOCKER_NETWORK": settings.workspace_network_name,
        "CODENVY_DOCKER_REGISTRY": settings.registry_address,
        "CODENVY_PGSQL_HOST": POSTGRES_ALIAS,
        "CODENVY_PGSQL_DATABASE": DATABASE,
        "CODENVY_PGSQL_USERNAME": DATABASE_USER,
        "CODENVY_HTTPS": str(settings.https).lower(),
        "CODENVY_LIMITS_USER_WORKSPACES_RAM": f"{limits.ram_mb}mb",
        "CODENVY_LIMITS_USER_WORKSPACES_COUNT": str(limits.workspaces),
        "CODENVY_LIMITS_USER_WORKSPACES_RUN_COUNT": str(limits.runtimes),
        "CODENVY_LIMITS_WORKSPACE_IDLE_TIMEOUT_MINUTES": str(limits.idle_timeout_minutes),
    }
    return "".join(f"{key}={value}\n" for key, value in values.items())


class AppServer(pulumi.ComponentResource):
    """The server container and the node list written into its instance folder. Its resources were the
    MasterNode's own (`former_parent`, named `former_name`) before it had this component; the alias to that
    parent and the names they had keep them, and their URNs, in place."""

    container: docker.Container
    version: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        settings: AppServerSettings,
        host: HostAccess,
        networks: list[docker.ContainerNetworksAdvancedArgs],
        volumes: dict[str, docker.Volume],
        secrets: list[pulumi.Input[str]],
        former_parent: pulumi.Resource,
        former_name: str,
        depends_on: list[pulumi.Resource],
        host_ready: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`secrets`: the database and registry credentials, as NAME=value environment entries."""
        super().__init__("codenvy:infra:AppServer", name, None, opts)
        moved = [pulumi.Alias(parent=former_parent)]
        codenvy_env = render_codenvy_env(settings)
        self.container = site_container(
            f"{former_name}-server",
            shared=settings.containers,
            image=pull_image(f"{former_name}-server-image", settings.image, host.provider, self, host_ready, moved),
            container_name=MasterData(settings.site_name).server_container,
            memory_mb=settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=f"curl -fsS -o /dev/null http://localhost:{SERVER_PORT}/api/",
            provider=host.provider,
            parent=self,
            depends_on=depends_on,
            aliases=moved,
            envs=[*codenvy_env.splitlines(), *secrets],
            uploads=[
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.env", content=codenvy_env),
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.ver", content=f"{settings.version}\n"),
            ],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=volumes[purpose].name, container_path=path)
                for purpose, path in MOUNTS.items()
            ],
            networks_advanced=networks,
            extra_labels=server_labels(settings),
        )
        # Writes the node list into the server's instance folder; a node change re-runs only this.
        host.run(
            f"{former_name}-workspace-nodes",
            render_script(
                "workspace_nodes",
                container=MasterData(settings.site_name).server_container,
                node_set=node_set_json(settings),
                target=NODES_FILE,
            ),
            parent=self,
            aliases=moved,
            depends_on=[self.container],
        )
        # The version the server that exists declares: it resolves only once that server has been created,
        # so a failed upgrade leaves the stack's previous `version` output (the engine keeps outputs that
        # were not registered again), and the upgrade gate still allows going back.
        self.version = self.container.labels.apply(_declared_version)
        self.register_outputs({"version": self.version})


def server_networks(internal: docker.Network, workspace: docker.Network) -> list[docker.ContainerNetworksAdvancedArgs]:
    """The server answers as SERVER_ALIAS on the master's internal network and on the workspace network."""
    return [
        docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[SERVER_ALIAS])
        for network in (internal, workspace)
    ]


def _declared_version(labels: list[docker.outputs.ContainerLabel] | None) -> str:
    return next(item.value for item in labels or [] if item.label == VERSION_LABEL)
