"""The site's tools on a host: installed as executables, and run by cron when scheduled."""

from __future__ import annotations

import pulumi

from components.config import SiteConfig
from components.host_access import HostAccess
from components.rendering import cron_entry, render_install_file, render_remove_file, render_schedule, tool_path


def install_tool(
    host: HostAccess,
    resource_name: str,
    site: SiteConfig,
    tool: str,
    script: str,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource],
) -> pulumi.Resource:
    """`codenvy-<tool>-<site>` in the site's tools directory, rewritten only when the script changes, and
    removed with the resource (a promoted standby's transfer tool, say) while it is still this script."""
    target, what = tool_path(site, tool), f"{tool} tool"
    return host.run(
        resource_name,
        render_install_file(target, script, what, host.name, mode="0755"),
        delete_script=render_remove_file(target, script, what, host.name),
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
