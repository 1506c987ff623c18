"""Files and tools on a host: a file put in place only when it differs, the site's tools installed as
executables, and the crontab lines that run them."""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import pulumi

from components.host_access import HostAccess
from components.ordering import After
from components.script_templates import render_script


@dataclass(frozen=True)
class Toolbox:
    """Where a site's tools live on its master, and how each is named: `codenvy-<tool>-<site>`."""

    directory: str
    site_name: str

    def path(self, tool: str) -> str:
        return f"{self.directory}/codenvy-{tool}-{self.site_name}"

    def marker(self, tool: str) -> str:
        """The tag of the tool's crontab line."""
        return f"codenvy-{tool}-{self.site_name}"


def render_install_file(target: str, content: str, what: str, node_name: str, mode: str = "0644") -> str:
    """A script that puts `content` at `target` only when it differs (trailing newlines are not content)."""
    return render_script("install_file", content=content, file_mode=mode, node_name=node_name, target=target, what=what)


def render_remove_file(target: str, content: str, what: str, node_name: str) -> str:
    """A script that removes `target` only while it holds `content` (what the matching install put there)."""
    return render_script("remove_file", content=content, node_name=node_name, target=target, what=what)


def render_schedule(marker: str, node_name: str, entry: str = "", log_file: str = "") -> str:
    """A script that keeps one crontab line tagged `marker`: `entry`, or none when it is empty; and the
    directory of the line's `log_file`, without which cron's shell cannot open the log and runs nothing."""
    log_dir = posixpath.dirname(log_file) if entry and log_file else ""
    return render_script("schedule", entry=entry, log_dir=log_dir, marker=marker, node_name=node_name)


def cron_entry(schedule: str, command: str, log_file: str) -> str:
    return f"{schedule} {command} >> {log_file} 2>&1"


def install_tool(
    host: HostAccess,
    resource_name: str,
    toolbox: Toolbox,
    tool: str,
    script: str,
    parent: pulumi.Resource,
    after: After,
) -> pulumi.Resource:
    """The tool in the site's tools directory, rewritten only when the script changes, and removed with the
    resource (a promoted standby's transfer tool, say) while it is still this script."""
    target, what = toolbox.path(tool), f"{tool} tool"
    return host.run(
        resource_name,
        render_install_file(target, script, what, host.name, mode="0755"),
        delete_script=render_remove_file(target, script, what, host.name),
        parent=parent,
        after=after,
    )


def schedule_tool(
    host: HostAccess,
    resource_name: str,
    toolbox: Toolbox,
    tool: str,
    schedule: str,
    log_file: str,
    parent: pulumi.Resource,
    after: After,
    job: str = "",
) -> pulumi.Resource:
    """One crontab line that runs the tool (with `job` as its argument, tagged for it); removing the
    resource removes the line."""
    marker = toolbox.marker(f"{tool}-{job}" if job else tool)
    command = f"{toolbox.path(tool)} {job}" if job else toolbox.path(tool)
    return host.run(
        resource_name,
        render_schedule(marker, host.name, cron_entry(schedule, command, log_file), log_file),
        delete_script=render_schedule(marker, host.name),
        parent=parent,
        after=after,
    )
