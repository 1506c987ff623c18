"""What each host's Docker daemon is told (daemon.json): the site's node labels, log limits and proxy."""

from __future__ import annotations

import json

from components.config import HostConfig, LogConfig, ProxyConfig, Settings, SiteConfig
from components.script_templates import sha256


class DaemonSettings(Settings):
    site_name: str
    logs: LogConfig
    proxy: ProxyConfig

    @classmethod
    def of(cls, site: SiteConfig) -> DaemonSettings:
        return cls(site_name=site.site_name, logs=site.logs, proxy=site.proxy)


# Codenvy's maintenance label (codenvy/codenvy MaintenanceConstraintProvider.java): the server builds every
# machine image with the constraint com.codenvy.node-state!=maintenance, so the placement manager puts no new
# workspace on a node that carries it.
MAINTENANCE_LABEL = "com.codenvy.node-state=maintenance"
# What dockerd re-reads on SIGHUP without a restart (moby daemon/reload.go): of what the program writes, labels.
RELOADABLE_KEYS = ("labels",)


def render_daemon_json(settings: DaemonSettings, host: HostConfig, runs_workspaces: bool) -> str:
    """daemon.json for a site host: labels, log limits and the master's proxy; never insecure registries."""
    document: dict[str, object] = {
        "labels": [
            f"codenvy.site={settings.site_name}",
            f"codenvy.node={host.name}",
            f"codenvy.workspaces={str(runs_workspaces).lower()}",
            f"codenvy.ram-gb={host.ram_gb:g}",
            f"codenvy.cpus={host.cpus}",
            *([MAINTENANCE_LABEL] if host.drain else []),
        ],
        "log-driver": "json-file",
        "log-opts": {"max-size": settings.logs.max_size, "max-file": str(settings.logs.max_file)},
    }
    proxy = settings.proxy
    candidates = (("http-proxy", proxy.http_proxy), ("https-proxy", proxy.https_proxy), ("no-proxy", proxy.no_proxy))
    proxies = {key: value for key, value in candidates if value}
    if proxies:
        # daemon.json "proxies" needs Docker 23 or newer; older daemons refuse the file.
        document["proxies"] = proxies
    # Its layout (indent, key order) is no part of it: dockerd parses JSON, and either order is the same each run.
    return json.dumps(document, indent=2, sort_keys=True)  # pragma: no mutate


def restart_fingerprint(daemon_json: str) -> str:
    """What of daemon.json needs a restart to take effect: everything but what a reload re-reads. Two files
    with the same fingerprint differ only in what SIGHUP applies."""
    document = json.loads(daemon_json)
    restarting = {k: v for k, v in document.items() if k not in RELOADABLE_KEYS}
    # Key order is moot: the keys come from a daemon.json that render_daemon_json wrote sorted.
    return sha256(json.dumps(restarting, sort_keys=True))  # pragma: no mutate
