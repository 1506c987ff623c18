"""One Docker host of the site: its daemon settings, registry trust, firewall and Swarm membership."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.host_access import HostAccess
from components.rendering import render_daemon_json, render_install_file, render_nftables, render_script, sha256


class WorkspaceNode(pulumi.ComponentResource):
    """Converges one Docker host of the site (every worker, and the master when the program manages its
    daemon): daemon.json (Docker restarted only when it changed), the registry CA, the firewall for its
    role (outside dev), then, on a worker in overlay mode, a join that is a no-op for members and a Ready
    check from the manager. Removing the node from config drains it on the manager, removes it from the
    swarm, and makes it leave."""

    node_id: pulumi.Output[str] | None

    def __init__(
        self,
        name: str,
        site: SiteConfig,
        host: HostAccess,
        manager: HostAccess,
        registry_ca_pem: pulumi.Input[str],
        join_token: pulumi.Output[str] | None,
        depends_on: list[pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("codenvy:infra:WorkspaceNode", name, None, opts)
        self.node_id = None
        prepared: list[pulumi.Resource] = list(depends_on or [])
        is_manager = host is manager
        runs_workspaces = not is_manager or site.master.host_workspaces
        if host.config.manages_docker:
            prepared = [
                *prepared,
                self._apply_daemon_config(name, site, host, runs_workspaces, prepared),
                self._trust_registry(name, site, host, registry_ca_pem, prepared),
            ]
            if site.firewall_enabled:
                prepared.append(self._apply_firewall(name, site, host, is_manager, runs_workspaces, prepared))
        if join_token is not None and not is_manager:
            self._join_swarm(name, site, host, manager, join_token, prepared)
        self.register_outputs({"node_id": self.node_id})

    def _apply_daemon_config(
        self, name: str, site: SiteConfig, host: HostAccess, runs_workspaces: bool, after: list[pulumi.Resource]
    ) -> pulumi.Resource:
        daemon_json = render_daemon_json(site, host.config, runs_workspaces)
        return host.run(
            f"{name}-daemon-config",
            render_script(
                "apply_daemon_config",
                daemon_json=daemon_json,
                node_name=host.name,
                restart_command=host.config.docker_restart_command,
            ),
            triggers=[sha256(daemon_json)],
            parent=self,
            depends_on=after,
        )

    def _apply_firewall(
        self,
        name: str,
        site: SiteConfig,
        host: HostAccess,
        is_manager: bool,
        runs_workspaces: bool,
        after: list[pulumi.Resource],
    ) -> pulumi.Resource:
        ruleset = render_nftables(site, is_master=is_manager, runs_workspaces=runs_workspaces)
        return host.run(
            f"{name}-firewall",
            render_script("firewall", node_name=host.name, ruleset=ruleset),
            delete_script=render_script("firewall_remove", node_name=host.name),
            parent=self,
            depends_on=after,
        )

    def _trust_registry(
        self,
        name: str,
        site: SiteConfig,
        host: HostAccess,
        ca_pem: pulumi.Input[str],
        after: list[pulumi.Resource],
    ) -> pulumi.Resource:
        script = pulumi.Output.from_input(ca_pem).apply(
            lambda pem: render_install_file(
                f"/etc/docker/certs.d/{site.registry_address}/ca.crt", pem, "registry CA", host.name
            )
        )
        return host.run(f"{name}-registry-ca", script, parent=self, depends_on=after)

    def _join_swarm(
        self,
        name: str,
        site: SiteConfig,
        host: HostAccess,
        manager: HostAccess,
        join_token: pulumi.Output[str],
        after: list[pulumi.Resource],
    ) -> None:
        join_script = join_token.apply(
            lambda token: render_script(
                "swarm_join",
                advertise_addr=host.config.address,
                join_token=token.strip(),
                manager_addr=manager.config.address,
                node_name=host.name,
            )
        )
        join = host.run(
            f"{name}-swarm-join",
            join_script,
            delete_script=render_script("swarm_leave", node_name=host.name),
            parent=self,
            depends_on=after,
        )
        self.node_id = join.stdout.apply(str.strip)
        manager.run(
            f"{name}-membership",
            self.node_id.apply(lambda node_id: render_script("node_ready", node_id=node_id, node_name=host.name)),
            delete_script=self.node_id.apply(
                lambda node_id: render_script("node_remove", node_id=node_id, node_name=host.name)
            ),
            parent=self,
            depends_on=[join],
        )
