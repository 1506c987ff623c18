"""The site's tools on a host: installed as executables, and run by cron when scheduled."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.host_access import HostAccess
from components.rendering import cron_entry, render_install_file, render_schedule, tool_path


def install_tool(
    host: HostAccess,
    resource_name: str,
    site: SiteConfig,
    tool: str,
    script: str,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
) -> pulumi.Resource:
    """`codenvy-<tool>-<site>` in the site's tools directory, rewritten only when the script changes."""
    return host.run(
        resource_name,
        render_install_file(tool_path(site, tool), script, f"{tool} tool", host.name, mode="0755"),
        parent=parent,
        depends_on=depends_on,
    )


def schedule_tool(
    host: HostAccess,
    resource_name: str,
    site: SiteConfig,
    tool: str,
    schedule: str,
    log_file: str,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
) -> pulumi.Resource:
    """One crontab line that runs the tool; removing the resource removes the line."""
    marker = f"codenvy-{tool}-{site.site_name}"
    return host.run(
        resource_name,
        render_schedule(marker, host.name, cron_entry(schedule, tool_path(site, tool), log_file)),
        delete_script=render_schedule(marker, host.name),
        parent=parent,
        depends_on=depends_on,
    )
