"""The network workspaces share: a Swarm-mode overlay across nodes, or a bridge on a single host."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.config import SiteConfig
from components.host_access import HostAccess
from components.rendering import render_script, workspace_network_name


class OverlayNetwork(pulumi.ComponentResource):
    """Overlay mode: the master initialises Swarm (Raft replaces the seed's ZooKeeper store) and owns an
    attachable overlay network. Bridge mode (the seed's single-host default): a user-defined bridge."""

    network: docker.Network
    manager_address: str
    join_token: pulumi.Output[str] | None
    swarm: pulumi.Resource | None

    def __init__(
        self,
        name: str,
        site: SiteConfig,
        master: HostAccess,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("codenvy:infra:OverlayNetwork", name, None, opts)
        self.manager_address = site.master.address
        self.join_token = None
        self.swarm = None
        options: dict[str, str] = {}
        if site.network.mode == "overlay":
            self.swarm = master.run(
                f"{name}-swarm-init",
                render_script("swarm_init", advertise_addr=site.master.address, node_name=site.master.name),
                parent=self,
                depends_on=depends_on,
                secret_stdout=True,
            )
            self.join_token = pulumi.Output.secret(self.swarm.stdout)
            if site.network.encrypted:
                options["encrypted"] = "true"
        self.network = docker.Network(
            f"{name}-{site.network.mode}",
            name=workspace_network_name(site),
            driver=site.network.mode,
            attachable=True if site.network.mode == "overlay" else None,
            options=options or None,
            labels=[docker.NetworkLabelArgs(label="codenvy.site", value=site.site_name)],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=master.provider,
                depends_on=[self.swarm] if self.swarm else depends_on or [],
            ),
        )
        self.register_outputs({"network": self.network.name, "manager_address": self.manager_address})
