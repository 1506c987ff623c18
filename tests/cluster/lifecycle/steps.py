"""What more than one stage of the lifecycle lane reads: the site's state on its hosts, and the lane's versions."""

from __future__ import annotations

from pathlib import Path

from tests.cluster.host_state import changes_when_run_again, files_under, host_state
from tests.cluster.site_driver import Site

UPGRADE_VERSION = "5.23.0"
# The admin, which exists from the server's first start on: its ID is its name (codenvy AdminUserCreator).
LIMITED_USER = "admin"


def node_state(primary: Site, hostname: str) -> str:
    listing = primary.master.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    return dict(line.split() for line in listing.splitlines()).get(hostname, "absent")


def site_state(site: Site) -> dict[str, dict[str, str]]:
    """Every host's state, and what the local Commands keep where Pulumi runs: the audit reports."""
    hosts = {name: host_state(node) for name, node in site.nodes.items()}
    audit = site.config.get("codenvy-infra:audit", {}).get("directory")
    return {**hosts, "local": files_under(Path(audit), audit)} if audit else hosts


def scripts_run_again(site: Site) -> None:
    """Every script of the site run once more changes nothing it was run on."""
    changed, printed = changes_when_run_again(lambda: site_state(site), site.engine)
    assert changed == [], printed


MISSING_VERSION = "5.24.0"  # no engine here has Codenvy's 5.24.0 images, and nothing can be pulled
