"""The standby side of disaster recovery: reach the primary, pull its backups nightly, fail over."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.deploy_gates import PrimarySite
from components.host_access import HostAccess
from components.host_tools import install_tool, schedule_tool
from components.rendering import incoming_directory, render_script, render_transfer, tool_path


class DisasterRecovery(pulumi.ComponentResource):
    """On the standby master: a check that the primary's registry answers, and, until promotion, the
    transfer job (`codenvy-transfer-<site>`) and its crontab line. Promotion removes both (their resources'
    deletes remove the tool and the line); the Site then starts the services and exports the DNS record."""

    def __init__(
        self,
        name: str,
        site: SiteConfig,
        primary: PrimarySite,
        master: HostAccess,
        depends_on: list[pulumi.Resource],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("codenvy:infra:DisasterRecovery", name, None, opts)
        assert site.dr is not None, "DisasterRecovery is for a standby site"
        # The gate already compared the primary's outputs before anything was registered; the reference
        # records the relation in the stack, where previews and policies see it.
        self.primary = pulumi.StackReference(
            f"{name}-primary", stack_name=primary.stack, opts=pulumi.ResourceOptions(parent=self)
        )
        # Commands run once; this check runs again when the pair moves to another version (a change of the
        # primary's registry address changes the script and re-runs it too).
        master.run(
            f"{name}-primary-registry",
            render_script("registry_reachable", node_name=master.name, registry=primary.registry),
            triggers=[primary.version],
            parent=self,
        )
        if not site.dr.promote:
            tool = install_tool(
                master, f"{name}-transfer-tool", site, "transfer", render_transfer(site, primary), self, depends_on
            )
            if site.dr.transfer_schedule is not None:
                log_file = f"{incoming_directory(site)}.log"
                schedule = site.dr.transfer_schedule
                schedule_tool(master, f"{name}-transfer-schedule", site, "transfer", schedule, log_file, self, [tool])
        elif site.dr.standby == "cold":
            # A cold standby only staged its archives; the promoting `up` restores the newest into the
            # services it has just started.
            master.run(
                f"{name}-promotion-restore",
                render_script(
                    "promotion_restore",
                    incoming_dir=incoming_directory(site),
                    postgres=f"{site.site_name}-postgres",
                    restore_tool=tool_path(site, "restore"),
                    site_name=site.site_name,
                ),
                parent=self,
                depends_on=depends_on,
            )
        self.register_outputs({"primary": primary.stack, "promoted": site.dr.promote})
