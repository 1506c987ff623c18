"""Workspace placement: the standalone Swarm manager the server creates workspace machines through
(docker.client.daemon_url), and its node list. Upstream runs `swarm manage` over file discovery of
CODENVY_SWARM_NODES (codenvy/codenvy dockerfiles/init/modules/swarm); so does the program, over TLS."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.certificate_authority import CLIENT_AUTH, SERVER_AUTH, CertificateAuthority
from components.config import Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import ENGINE_TLS_PORT, RELAY_ALIAS, SWARM_ALIAS
from components.ordering import After
from components.script_templates import render_script

TLS_DIR = "/etc/swarm/tls"
NODES_DIR = "/etc/swarm/nodes"
NODE_LIST = f"{NODES_DIR}/node_list"
# How often the manager reads the node list again and refreshes each engine (swarm's defaults are 60 s and
# 30-60 s): an added node takes workspaces, and a dead one is found out, within seconds.
HEARTBEAT = "10s"
ENGINE_REFRESH = ("5s", "10s")
# Connection failures before an engine is Unhealthy and skipped (swarm's default), and how many times a create
# that failed on the chosen engine is placed again (swarm.createretry, 0 by default: one dead engine would
# fail a workspace start until the manager notices).
ENGINE_FAILURE_RETRY = 3
CREATE_RETRY = 2
STOP_GRACE_SECONDS = 10
# A listed engine is validated at the manager's next read of the list (HEARTBEAT), then refreshed.
READY_WAIT_SECONDS = 120
SERVICE_LABEL = ("codenvy.service", "placement")


class PlacementSettings(Settings):
    site_name: str
    image: str
    memory_mb: int
    # Each workspace engine the manager may place on, as host:port (upstream node_list.erb).
    engines: tuple[str, ...]
    # The workspace hosts and their capacity (SiteConfig.node_set), drained ones included.
    node_set: tuple[dict[str, object], ...]
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> PlacementSettings:
        return cls(
            site_name=site.site_name,
            image=site.versioned_image(site.images.swarm),
            memory_mb=site.memory.placement_mb,
            engines=placement_engines(site),
            node_set=tuple(site.node_set),
            containers=ContainerSettings.of(site),
        )


def placement_engines(site: SiteConfig) -> tuple[str, ...]:
    """The node list: each workspace host through its engine relay, drained ones included (the manager keeps
    reaching their workspaces; their maintenance label keeps new ones away). The master's own relay is
    reached on the internal network by name, a worker's at its address."""
    return tuple(
        f"{RELAY_ALIAS if host is site.master else host.address}:{ENGINE_TLS_PORT}" for host in site.workspace_hosts
    )


def node_set_json(settings: PlacementSettings) -> str:
    """The workspace hosts as one line of JSON: nodes.json's content and the declared NODE_SET."""
    return json.dumps(list(settings.node_set), sort_keys=True)


def swarm_command() -> list[str]:
    """`swarm manage` as upstream's entrypoint runs it, with TLS both ways (one certificate: swarm's
    cli/manage.go uses the same TLS config for its clients and for the engines) and faster refreshes."""
    return [
        "manage",
        "-H",
        f"tcp://0.0.0.0:{ENGINE_TLS_PORT}",
        "--tlsverify",
        f"--tlscacert={TLS_DIR}/ca.pem",
        f"--tlscert={TLS_DIR}/cert.pem",
        f"--tlskey={TLS_DIR}/key.pem",
        "--strategy=spread",
        f"--heartbeat={HEARTBEAT}",
        f"--engine-refresh-min-interval={ENGINE_REFRESH[0]}",
        f"--engine-refresh-max-interval={ENGINE_REFRESH[1]}",
        f"--engine-failure-retry={ENGINE_FAILURE_RETRY}",
        f"--cluster-opt=swarm.createretry={CREATE_RETRY}",
        f"file://{NODE_LIST}",
    ]


def health_probe() -> str:
    """The manager's own /_ping, over TLS with its certificate (the image has GNU wget, as upstream's)."""
    return (
        f"wget -q -O /dev/null --ca-certificate={TLS_DIR}/ca.pem --certificate={TLS_DIR}/cert.pem "
        f"--private-key={TLS_DIR}/key.pem https://127.0.0.1:{ENGINE_TLS_PORT}/_ping"
    )


@dataclass(frozen=True, kw_only=True)
class PlacementManagerArgs:
    """What PlacementManager reads, and the resources it needs."""

    settings: PlacementSettings
    host: HostAccess
    ca: CertificateAuthority
    internal_network: docker.Network
    after: After


class PlacementManager(pulumi.ComponentResource):
    """The manager on the master's internal network as SWARM_ALIAS; not published. Its node list is written
    by a command of its own, so adding, draining or removing a node neither replaces nor restarts anything."""

    container: docker.Container

    def __init__(self, name: str, args: PlacementManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:PlacementManager", name, None, opts)
        self._name = name
        site = args.settings.site_name
        self._container_name = f"{site}-swarm"
        cert = args.ca.issue(
            f"{name}-tls",
            common_name=SWARM_ALIAS,
            subject_names=[SWARM_ALIAS, "127.0.0.1"],
            parent=self,
            usages=(*SERVER_AUTH, *CLIENT_AUTH),
        )
        nodes = docker.Volume(
            f"{name}-nodes",
            name=f"{site}-swarm",
            opts=pulumi.ResourceOptions(parent=self, provider=args.host.provider, depends_on=args.after),
        )
        label, service = SERVICE_LABEL
        self.container = site_container(
            f"{name}-container",
            shared=args.settings.containers,
            image=pull_image(f"{name}-image", args.settings.image, args.host.provider, self, args.after),
            container_name=self._container_name,
            memory_mb=args.settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=health_probe(),
            host=args.host,
            parent=self,
            after=args.after,
            extra_labels={label: service},
            command=swarm_command(),
            uploads=[
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/ca.pem", content=args.ca.trust_pem),
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/cert.pem", content=cert.cert_pem),
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/key.pem", content=cert.private_key_pem, permissions="0600"),
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=nodes.name, container_path=NODES_DIR)],
            networks_advanced=[
                docker.ContainerNetworksAdvancedArgs(name=args.internal_network.name, aliases=[SWARM_ALIAS])
            ],
        )
        self._host, self._settings = args.host, args.settings
        self.node_list = args.host.run(
            f"{name}-node-list",
            render_script(
                "placement_nodes",
                container=self._container_name,
                node_list=" ".join(args.settings.engines),
                node_set=node_set_json(args.settings),
                nodes_dir=NODES_DIR,
                site_name=site,
            ),
            parent=self,
            after=[self.container],
        )
        self.register_outputs({"engines": list(args.settings.engines)})

    def wait_until_ready(self, after: After) -> None:
        """A command that waits, once the relays given as `after` run, until the manager reports every listed
        engine Healthy; run again (in place) whenever the list changes. Not on a site whose services are stopped
        (a cold standby)."""
        settings = self._settings
        if not settings.containers.running or not settings.engines:
            return
        self._host.run(
            f"{self._name}-ready",
            render_script(
                "placement_ready",
                container=self._container_name,
                engines=" ".join(settings.engines),
                site_name=settings.site_name,
                tls_dir=TLS_DIR,
                wait_seconds=READY_WAIT_SECONDS,
            ),
            parent=self,
            after=[self.node_list, *after],
        )
