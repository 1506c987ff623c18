"""The standby side of disaster recovery: reach the primary, pull its backups nightly, fail over."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.deployment import PrimarySite
from components.host_access import HostAccess
from components.rendering import (
    cron_entry,
    incoming_directory,
    render_install_file,
    render_schedule,
    render_script,
    render_transfer,
    tool_path,
)


class DisasterRecovery(pulumi.ComponentResource):
    """On the standby master: a check that the primary's registry answers, and, until promotion, the
    transfer job (`codenvy-transfer-<site>`) and its crontab line. Promotion removes both; the Site then
    starts the services and exports the DNS record."""

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
        master.run(
            f"{name}-primary-registry",
            render_script("registry_reachable", node_name=master.name, registry=primary.registry),
            parent=self,
        )
        if not site.dr.promote:
            tool = master.run(
                f"{name}-transfer-tool",
                render_install_file(
                    tool_path(site, "transfer"), render_transfer(site, primary), "transfer tool", master.name, "0755"
                ),
                parent=self,
                depends_on=depends_on,
            )
            if site.dr.transfer_schedule is not None:
                marker = f"codenvy-transfer-{site.site_name}"
                entry = cron_entry(
                    site.dr.transfer_schedule,
                    tool_path(site, "transfer"),
                    f"{incoming_directory(site)}.log",
                )
                master.run(
                    f"{name}-transfer-schedule",
                    render_schedule(marker, master.name, entry),
                    delete_script=render_schedule(marker, master.name),
                    parent=self,
                    depends_on=[tool],
                )
        self.register_outputs({"primary": primary.stack, "promoted": site.dr.promote})
