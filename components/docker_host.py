"""One Docker host of the site: its daemon settings, registry trust, firewall and Swarm membership."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.config import Settings, SiteConfig
from components.deploy_gates import PrimarySite
from components.docker_daemon import DaemonSettings, render_daemon_json, restart_fingerprint
from components.host_access import STATE_DIR, HostAccess, owner
from components.host_firewall import FirewallSettings, render_nftables
from components.host_tools import render_install_file
from components.ordering import After
from components.script_templates import render_script, sha256

# The swarm node label naming the membership resource that may remove the node.
OWNER_LABEL = "codenvy.owner"
# The type this component had while it was named for workers only (it configures the master too); the
# alias keeps every resource under it (and their URNs) in place.
FORMER_TYPE = "codenvy:infra:WorkspaceNode"


class DockerHostSettings(Settings):
    daemon: DaemonSettings
    registry_address: str
    master_hosts_workspaces: bool
    firewall: FirewallSettings

    @classmethod
    def of(cls, site: SiteConfig, primary: PrimarySite | None = None) -> DockerHostSettings:
        return cls(
            daemon=DaemonSettings.of(site),
            registry_address=site.registry_address,
            master_hosts_workspaces=site.master.host_workspaces,
            firewall=FirewallSettings.of(site, primary),
        )


@dataclass(frozen=True, kw_only=True)
class DockerHostArgs:
    """What DockerHost reads, and the resources it needs. `join_token` is the swarm-init output, present in
    overlay mode; its value is not used: each node reads the current join token from the manager when it is
    added."""

    settings: DockerHostSettings
    host: HostAccess
    manager: HostAccess
    registry_ca_pem: pulumi.Input[str]
    join_token: pulumi.Output[str] | None
    after: After = ()


class DockerHost(pulumi.ComponentResource):
    """Converges one Docker host of the site (every worker, and the master when the program manages its
    daemon): daemon.json (Docker restarted only when it changed), the registry CA, the firewall for its
    role (outside dev, persisted for the host's boot), then, on a worker in overlay mode, a join with the
    manager's current token that is a no-op for members, and Ready checks from the manager (again after
    each daemon.json change). Removing the node from config drains it on the manager, removes it from
    the swarm, and makes it leave. A node marked `lost` is removed from the swarm and forgotten without
    contacting it, once the manager confirms it is not Ready."""

    node_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: DockerHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        aliases = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=FORMER_TYPE)])
        super().__init__("codenvy:infra:DockerHost", name, None, pulumi.ResourceOptions.merge(opts, aliases))
        self.node_id = None
        prepared: list[pulumi.Resource] = list(args.after)
        is_manager = args.host is args.manager
        joins = args.join_token is not None and not is_manager
        if args.host.config.lost:
            self._forget(name, args.settings, args.host, args.manager, joins, prepared)
            self.register_outputs({"node_id": self.node_id})
            return
        runs_workspaces = not is_manager or args.settings.master_hosts_workspaces
        daemon_json = None
        if args.host.config.manages_docker:
            daemon_json = render_daemon_json(args.settings.daemon, args.host.config, runs_workspaces)
            prepared = [
                *prepared,
                self._apply_daemon_config(name, args.host, daemon_json, prepared),
                self._trust_registry(name, args.settings.registry_address, args.host, args.registry_ca_pem, prepared),
            ]
            if args.settings.firewall.enabled:
                prepared.append(
                    self._apply_firewall(name, args.settings.firewall, args.host, is_manager, runs_workspaces, prepared)
                )
        if joins:
            self._join_swarm(name, args.host, args.manager, daemon_json, prepared)
        self.register_outputs({"node_id": self.node_id})

    def _apply_daemon_config(self, name: str, host: HostAccess, daemon_json: str, after: After) -> pulumi.Resource:
        return host.run(
            f"{name}-daemon-config",
            render_script(
                "apply_daemon_config",
                daemon_json=daemon_json,
                node_name=host.name,
                reload_command=host.config.docker_reload_command,
                restart_command=host.config.docker_restart_command,
                restart_fingerprint=restart_fingerprint(daemon_json),
            ),
            triggers=[sha256(daemon_json)],
            parent=self,
            after=after,
        )

    def _apply_firewall(
        self,
        name: str,
        rules: FirewallSettings,
        host: HostAccess,
        is_manager: bool,
        runs_workspaces: bool,
        after: After,
    ) -> pulumi.Resource:
        resource_name = f"{name}-firewall"
        common = {
            "nftables_conf": rules.config.persist_file,
            "node_name": host.name,
            "owner": owner(resource_name),
            "state_dir": STATE_DIR,
        }
        ruleset = render_nftables(rules, host.config, is_master=is_manager, runs_workspaces=runs_workspaces)
        return host.run(
            resource_name,
            render_script("firewall", ruleset=ruleset, **common),
            delete_script=render_script("firewall_remove", **common),
            parent=self,
            after=after,
        )

    def _trust_registry(
        self,
        name: str,
        registry_address: str,
        host: HostAccess,
        ca_pem: pulumi.Input[str],
        after: After,
    ) -> pulumi.Resource:
        script = pulumi.Output.from_input(ca_pem).apply(
            lambda pem: render_install_file(
                f"/etc/docker/certs.d/{registry_address}/ca.crt", pem, "registry CA", host.name
            )
        )
        return host.run(f"{name}-registry-ca", script, parent=self, after=after)

    def _join_swarm(
        self,
        name: str,
        host: HostAccess,
        manager: HostAccess,
        daemon_json: str | None,
        after: After,
    ) -> None:
        # Read when this node is added, so a token rotated on the manager since the swarm began is the one used.
        token = manager.run(
            f"{name}-join-token",
            render_script("swarm_join_token", node_name=manager.name),
            parent=self,
            after=after,
            secret_stdout=True,
        )
        join_name = f"{name}-swarm-join"
        join = host.run(
            join_name,
            render_script(
                "swarm_join",
                advertise_addr=host.config.address,
                manager_addr=manager.config.address,
                node_name=host.name,
                owner=owner(join_name),
                state_dir=STATE_DIR,
                swarm_role="worker",
            ),
            delete_script=render_script(
                "swarm_leave", node_name=host.name, owner=owner(join_name), state_dir=STATE_DIR
            ),
            stdin=pulumi.Output.secret(token.stdout),
            parent=self,
            after=after,
        )
        self.node_id = node_id = join.stdout.apply(str.strip)
        membership_name = f"{name}-membership"
        claim = {"node_name": host.name, "owner": owner(membership_name), "owner_label": OWNER_LABEL}
        membership = manager.run(
            membership_name,
            node_id.apply(lambda node: render_script("node_ready", node_id=node, **claim)),
            delete_script=node_id.apply(lambda node: render_script("node_remove", node_id=node, **claim)),
            parent=self,
            after=[join],
        )
        if daemon_json is not None:
            # The node's Docker restarts when its daemon.json changes; the node must be Ready again after it.
            manager.run(
                f"{name}-ready",
                node_id.apply(
                    lambda node: render_script(
                        "node_ready", node_id=node, node_name=host.name, owner="", owner_label=OWNER_LABEL
                    )
                ),
                triggers=[sha256(daemon_json)],
                parent=self,
                after=[membership],
            )

    def _forget(
        self,
        name: str,
        settings: DockerHostSettings,
        host: HostAccess,
        manager: HostAccess,
        joined: bool,
        after: After,
    ) -> None:
        """A lost host's resources, once the manager confirms it is not Ready: kept in the program with their
        old inputs and dropped from the state without contacting the host when the node leaves the stack
        file. Its membership is not registered, so the manager drains it and removes it from the swarm."""
        confirmed = manager.run(
            f"{name}-lost",
            render_script("node_lost", node_addr=host.config.address, node_name=host.name),
            parent=self,
            after=after,
        )
        forgotten = []
        if host.config.manages_docker:
            forgotten += [f"{name}-daemon-config", f"{name}-registry-ca"]
            if settings.firewall.enabled:
                forgotten.append(f"{name}-firewall")
        if joined:
            forgotten.append(f"{name}-swarm-join")
        for resource_name in forgotten:
            host.forget(resource_name, parent=self, after=[confirmed])
