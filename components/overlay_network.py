"""The network workspaces share: a Swarm-mode overlay across nodes, or a bridge on a single host."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.config import SiteConfig
from components.host_access import STATE_DIR, HostAccess, owner
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
        options: dict[str, str] | None = None
        if site.network.mode == "overlay":
            init_name = f"{name}-swarm-init"
            ownership = {"node_name": site.master.name, "owner": owner(init_name), "state_dir": STATE_DIR}
            self.swarm = master.run(
                init_name,
                render_script("swarm_init", advertise_addr=site.master.address, swarm_role="manager", **ownership),
                # The swarm goes with the site: `destroy` (or a move to bridge mode) takes the manager out.
                delete_script=render_script("swarm_leave", **ownership),
                parent=self,
                depends_on=depends_on,
                secret_stdout=True,
            )
            self.join_token = pulumi.Output.secret(self.swarm.stdout)
            if site.network.encrypted:
                options = {"encrypted": "true"}
        self.network = docker.Network(
            # Encryption is part of the network's identity (its resource name and, through
            # workspace_network_name, its Docker name): turning it on or off creates a fresh network beside
            # the old one, not a replacement, because `ignore_changes` would pin a replacement's options to
            # the old ones (pulumi/pulumi step_generator.go processIgnoreChanges copies ignored inputs from
            # the old inputs before any diff, replacements included).
            f"{name}-{site.network.mode}" + ("-encrypted" if site.network.encrypted else ""),
            name=workspace_network_name(site),
            driver=site.network.mode,
            attachable=True if site.network.mode == "overlay" else None,
            options=options,
            labels=[docker.NetworkLabelArgs(label="codenvy.site", value=site.site_name)],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=master.provider,
                depends_on=[self.swarm] if self.swarm else depends_on or [],
                # The provider stores the options the daemon reports, which add the VXLAN IDs it picked
                # (com.docker.network.driver.overlay.vxlanid_list), and `options` forces a new network:
                # without this every later `up` would replace the network and collide with its own name.
                ignore_changes=["options"],
            ),
        )
        self.register_outputs({"network": self.network.name, "manager_address": self.manager_address})
