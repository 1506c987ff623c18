"""The agents service: what workspaces fetch their ws-agent (and exec and terminal agents) from, as upstream's
`agents` service serves them (codenvy/codenvy dockerfiles/agents: lighttpd on 9000, /agent-binaries/)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.config import Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import AGENTS_ALIAS, AGENTS_PORT
from components.ordering import After

WS_AGENT_PATH = "/agent-binaries/ws-agent.tar.gz"
STOP_GRACE_SECONDS = 5


class AgentsSettings(Settings):
    site_name: str
    image: str
    memory_mb: int
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> AgentsSettings:
        return cls(
            site_name=site.site_name,
            image=site.versioned_image(site.images.agents),
            memory_mb=site.memory.agents_mb,
            containers=ContainerSettings.of(site),
        )


@dataclass(frozen=True, kw_only=True)
class AgentsServiceArgs:
    """What AgentsService reads, and the resources it needs."""

    settings: AgentsSettings
    host: HostAccess
    networks: list[docker.Network]
    after: After


class AgentsService(pulumi.ComponentResource):
    """On the internal network (HAProxy routes /agent-binaries to it) and on the workspace network, where
    machines on any node download their agents without going through the site's public URL and its CA."""

    container: docker.Container

    def __init__(self, name: str, args: AgentsServiceArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:AgentsService", name, None, opts)
        self.container = site_container(
            f"{name}-container",
            shared=args.settings.containers,
            image=pull_image(f"{name}-image", args.settings.image, args.host.provider, self, args.after),
            container_name=f"{args.settings.site_name}-agents",
            memory_mb=args.settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=f"wget -q -O /dev/null http://127.0.0.1:{AGENTS_PORT}{WS_AGENT_PATH}",
            host=args.host,
            parent=self,
            after=args.after,
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=network.name, aliases=[AGENTS_ALIAS])
                for network in args.networks
            ],
        )
        self.register_outputs({})
