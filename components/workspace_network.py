"""The network workspaces share: a Swarm-mode overlay across nodes, or a bridge on a single host."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from components.config import NetworkConfig, Settings, SiteConfig
from components.containers import SITE_LABEL
from components.host_access import STATE_DIR, HostAccess, owner
from components.ordering import After
from components.script_templates import render_script

# The type this component had before it was named for what it makes in both modes; the alias keeps every
# resource under it (and their URNs) in place.
FORMER_TYPE = "codenvy:infra:OverlayNetwork"


class WorkspaceNetworkSettings(Settings):
    config: NetworkConfig
    docker_name: str
    site_name: str
    master_name: str
    master_address: str

    @classmethod
    def of(cls, site: SiteConfig) -> WorkspaceNetworkSettings:
        return cls(
            config=site.network,
            docker_name=site.workspace_network_name,
            site_name=site.site_name,
            master_name=site.master.name,
            master_address=site.master.address,
        )


@dataclass(frozen=True, kw_only=True)
class WorkspaceNetworkArgs:
    """What WorkspaceNetwork reads, and the resources it needs."""

    settings: WorkspaceNetworkSettings
    master: HostAccess
    after: After = ()


class WorkspaceNetwork(pulumi.ComponentResource):
    """Overlay mode: the master initialises Swarm (Raft replaces the seed's ZooKeeper store) and owns an
    attachable overlay network. Bridge mode (the seed's single-host default): a user-defined bridge."""

    network: docker.Network
    manager_address: str
    join_token: pulumi.Output[str] | None
    swarm: pulumi.Resource | None

    def __init__(self, name: str, args: WorkspaceNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        aliases = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=FORMER_TYPE)])
        super().__init__("codenvy:infra:WorkspaceNetwork", name, None, pulumi.ResourceOptions.merge(opts, aliases))
        self.manager_address = args.settings.master_address
        self.join_token = None
        self.swarm = None
        mode = args.settings.config.mode
        options: dict[str, str] | None = None
        if mode == "overlay":
            self.swarm = self._init_swarm(name, args.settings, args.master, args.after)
            self.join_token = pulumi.Output.secret(self.swarm.stdout)
            if args.settings.config.encrypted:
                options = {"encrypted": "true"}
        self.network = docker.Network(
            # Encryption is part of the network's identity (its resource name and its Docker name): turning
            # it on or off creates a fresh network beside the old one, not a replacement, because
            # `ignore_changes` would pin a replacement's options to the old ones (pulumi/pulumi
            # step_generator.go processIgnoreChanges copies ignored inputs from the old inputs before any
            # diff, replacements included).
            f"{name}-{mode}" + ("-encrypted" if args.settings.config.encrypted else ""),
            name=args.settings.docker_name,
            driver=mode,
            attachable=True if mode == "overlay" else None,
            options=options,
            labels=[docker.NetworkLabelArgs(label=SITE_LABEL, value=args.settings.site_name)],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=args.master.provider,
                depends_on=[self.swarm] if self.swarm else list(args.after),
                # The provider stores the options the daemon reports, which add the VXLAN IDs it picked
                # (com.docker.network.driver.overlay.vxlanid_list), and `options` forces a new network:
                # without this every later `up` would replace the network and collide with its own name.
                ignore_changes=["options"],
            ),
        )
        self.register_outputs({"network": self.network.name, "manager_address": self.manager_address})

    def _init_swarm(
        self,
        name: str,
        settings: WorkspaceNetworkSettings,
        master: HostAccess,
        after: After,
    ) -> command.local.Command | command.remote.Command:
        init_name = f"{name}-swarm-init"
        ownership = {"node_name": settings.master_name, "owner": owner(init_name), "state_dir": STATE_DIR}
        return master.run(
            init_name,
            render_script("swarm_init", advertise_addr=settings.master_address, swarm_role="manager", **ownership),
            # The swarm goes with the site: `destroy` (or a move to bridge mode) takes the manager out.
            delete_script=render_script("swarm_leave", **ownership),
            parent=self,
            after=after,
            secret_stdout=True,
        )
