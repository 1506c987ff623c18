"""Pure functions that render every file and script the program ships to a host or container."""

from __future__ import annotations

import functools
import hashlib
import json
import shlex
from pathlib import Path

from components.config import HostConfig, SiteConfig, is_ip_address
from components.deploy_gates import PrimarySite

SCRIPTS_DIR = Path(__file__).parent / "scripts"
SERVER_ALIAS = "codenvy-server"
POSTGRES_ALIAS = "codenvy-postgres"
SERVER_PORT = 8080
DATABASE = "codenvy"
DATABASE_USER = "codenvy"
HAPROXY_CFG_PATH = "/usr/local/etc/haproxy/haproxy.cfg"
HAPROXY_CERT_PATH = "/usr/local/etc/haproxy/site.pem"
# The official image's unprivileged account (uid/gid 99) that HAProxy drops to after loading its key.
HAPROXY_USER = "haproxy"
HAPROXY_GROUP = "haproxy"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@functools.cache
def _template(name: str) -> tuple[str, ...]:
    """A script template's lines, read once per process (a site with many nodes renders each many times)."""
    return tuple((SCRIPTS_DIR / f"{name}.sh").read_text().splitlines())


def script_params(name: str) -> tuple[str, ...]:
    """The parameters a script template declares on its `# params:` line."""
    for line in _template(name):
        if line.startswith("# params:"):
            return tuple(line.removeprefix("# params:").split())
    return ()


def render_script(name: str, **params: str) -> str:
    """The template `components/scripts/<name>.sh` with its parameters assigned after `set -euo pipefail`."""
    declared = set(script_params(name))
    given = {key.upper() for key in params}
    if declared != given:
        raise ValueError(f"script {name} takes {sorted(declared)}, got {sorted(given)}")
    lines = _template(name)
    assignments = [f"{key.upper()}={shlex.quote(str(value))}" for key, value in sorted(params.items())]
    at = lines.index("set -euo pipefail") + 1
    return "\n".join([*lines[:at], *assignments, *lines[at:]]) + "\n"


def as_command(script: str) -> str:
    """One command line that runs `script` with bash, whatever the login shell of the host is."""
    return f"bash -c {shlex.quote(script)}"


def render_daemon_json(site: SiteConfig, host: HostConfig, runs_workspaces: bool) -> str:
    """daemon.json for a site host: labels, log limits and the master's proxy; never insecure registries."""
    document: dict[str, object] = {
        "labels": [
            f"codenvy.site={site.site_name}",
            f"codenvy.node={host.name}",
            f"codenvy.workspaces={str(runs_workspaces).lower()}",
            f"codenvy.ram-gb={host.ram_gb:g}",
            f"codenvy.cpus={host.cpus}",
        ],
        "log-driver": "json-file",
        "log-opts": {"max-size": site.logs.max_size, "max-file": str(site.logs.max_file)},
    }
    proxies = {
        key: value
        for key, value in (
            ("http-proxy", site.proxy.http_proxy),
            ("https-proxy", site.proxy.https_proxy),
            ("no-proxy", site.proxy.no_proxy),
        )
        if value
    }
    if proxies:
        # daemon.json "proxies" needs Docker 23 or newer; older daemons refuse the file.
        document["proxies"] = proxies
    return json.dumps(document, indent=2, sort_keys=True)


def render_codenvy_env(site: SiteConfig) -> str:
    """The server's codenvy.env, as in the seed: host name, network mode, registry, limits. No secrets.

    Not the workspace nodes (the seed's CODENVY_SWARM_NODES): in Swarm mode the manager schedules onto
    them, and this text is the server's environment and an upload, which replace the server when they
    change. The node list is written beside it (MasterNode's workspace-nodes command)."""
    driver = "overlay" if site.network.mode == "overlay" else "bridge"
    settings = {
        "CODENVY_HOST": site.hostname,
        "CODENVY_VERSION": site.version,
        "CODENVY_MACHINE_DOCKER_NETWORK_DRIVER": driver,
        "CODENVY_MACHINE_DOCKER_NETWORK": workspace_network_name(site),
        "CODENVY_DOCKER_REGISTRY": site.registry_address,
        "CODENVY_PGSQL_HOST": POSTGRES_ALIAS,
        "CODENVY_PGSQL_DATABASE": DATABASE,
        "CODENVY_PGSQL_USERNAME": DATABASE_USER,
        "CODENVY_HTTPS": str(site.https).lower(),
        "CODENVY_LIMITS_USER_WORKSPACES_RAM": f"{site.limits.defaults.ram_mb}mb",
        "CODENVY_LIMITS_USER_WORKSPACES_COUNT": str(site.limits.defaults.workspaces),
        "CODENVY_LIMITS_USER_WORKSPACES_RUN_COUNT": str(site.limits.defaults.runtimes),
        "CODENVY_LIMITS_WORKSPACE_IDLE_TIMEOUT_MINUTES": str(site.limits.defaults.idle_timeout_minutes),
    }
    return "".join(f"{key}={value}\n" for key, value in settings.items())


def workspace_network_name(site: SiteConfig) -> str:
    """The workspace network's Docker name; an encrypted one is another network (see OverlayNetwork)."""
    return f"{site.site_name}-workspaces" + ("-encrypted" if site.network.encrypted else "")


def render_haproxy_cfg(site: SiteConfig) -> str:
    """HAProxy in front of the server; long tunnel timeouts because the IDE lives on websockets."""
    backend = "\n".join(
        [
            "backend codenvy",
            "    option httpchk GET /api/",
            f"    server {SERVER_ALIAS} {SERVER_ALIAS}:{SERVER_PORT} check resolvers docker init-addr none",
        ]
    )
    http_front = ["frontend http", "    bind :80"]
    if site.https:
        http_front.append("    http-request redirect scheme https code 301")
    else:
        http_front.append("    default_backend codenvy")
    sections = [
        "\n".join(
            [
                "global",
                "    log stdout format raw local0",
                "    maxconn 4096",
                # Started as root to read the root-only key; serves as the image's unprivileged user.
                f"    user {HAPROXY_USER}",
                f"    group {HAPROXY_GROUP}",
                "",
                "defaults",
                "    mode http",
                "    log global",
                "    option httplog",
                "    timeout connect 5s",
                "    timeout client 60s",
                "    timeout server 60s",
                "    timeout tunnel 1h",
                "",
                "resolvers docker",
                "    nameserver dns 127.0.0.11:53",
            ]
        ),
        "\n".join(http_front),
    ]
    if site.https:
        sections.append(
            "\n".join(
                [
                    "frontend https",
                    f"    bind :443 ssl crt {HAPROXY_CERT_PATH}",
                    "    http-request set-header X-Forwarded-Proto https",
                    "    default_backend codenvy",
                ]
            )
        )
    sections.append(backend)
    return "\n\n".join(sections) + "\n"


def render_install_file(target: str, content: str, what: str, node_name: str, mode: str = "0644") -> str:
    """A script that puts `content` at `target` only when it differs (trailing newlines are not content)."""
    return render_script("install_file", content=content, file_mode=mode, node_name=node_name, target=target, what=what)


def render_remove_file(target: str, content: str, what: str, node_name: str) -> str:
    """A script that removes `target` only while it holds `content` (what the matching install put there)."""
    return render_script("remove_file", content=content, node_name=node_name, target=target, what=what)


def render_schedule(marker: str, node_name: str, entry: str = "") -> str:
    """A script that keeps one crontab line tagged `marker`: `entry`, or none when it is empty."""
    return render_script("schedule", entry=entry, marker=marker, node_name=node_name)


def tool_path(site: SiteConfig, tool: str) -> str:
    return f"{site.backup.tools_directory}/codenvy-{tool}-{site.site_name}"


def render_backup(site: SiteConfig, reason: str) -> str:
    """The backup script; reason `pre-upgrade` backs up only when another version is deployed."""
    return render_script(
        "backup",
        backup_dir=site.backup.directory,
        keep=str(site.backup.keep),
        reason=reason,
        site_name=site.site_name,
        target_version=site.version,
    )


def render_restore(site: SiteConfig) -> str:
    return render_script("restore", site_name=site.site_name, site_version=site.version)


def incoming_directory(site: SiteConfig) -> str:
    return f"{site.backup.directory}/incoming"


def render_transfer(site: SiteConfig, primary: PrimarySite) -> str:
    """The standby's transfer job: fetch the primary's newest archive, then restore (hot) or stage (cold)."""
    assert site.dr is not None, "only a standby transfers"
    return render_script(
        "transfer",
        incoming_dir=incoming_directory(site),
        key_file=site.dr.ssh_key_file,
        mode=site.dr.standby,
        primary_addr=primary.manager_address,
        primary_backup_dir=primary.backup_directory,
        primary_host_key=site.dr.primary_ssh.host_key or "",
        primary_port=str(site.dr.primary_ssh.port),
        primary_site=primary.site_name,
        primary_user=site.dr.primary_ssh.user,
        restore_tool=tool_path(site, "restore"),
    )


def cron_entry(schedule: str, command: str, log_file: str) -> str:
    return f"{schedule} {command} >> {log_file} 2>&1"


def site_url(site: SiteConfig) -> str:
    """Where users reach the site: HTTPS unless it is turned off, the port only when not the default."""
    scheme, port, default = (
        ("https", site.master.https_port, 443) if site.https else ("http", site.master.http_port, 80)
    )
    return f"{scheme}://{site.hostname}" + ("" if port == default else f":{port}")


def api_url(site: SiteConfig) -> str:
    return site.limits.api_url or f"{site_url(site)}/api"


# Swarm mode's ports (replacing the seeds' ZooKeeper 2181 and Docker 2375/23750): cluster members only.
SWARM_TCP_PORTS = (7946,)
SWARM_MANAGER_PORT = 2377
SWARM_UDP_PORTS = (4789, 7946)
# The seeds' port table: Docker publishes workspace ports from the host's ephemeral range.
WORKSPACE_PORTS = "32768-65535"


def _elements(values) -> str:
    return ", ".join(str(value) for value in values)


def _address_set(name: str, networks) -> str:
    return f"  set {name} {{ type ipv4_addr; flags interval; elements = {{ {_elements(networks)} }} }}"


def render_nftables(site: SiteConfig, host: HostConfig, is_master: bool, runs_workspaces: bool) -> str:
    """The host's nftables table for its role. Input: the host's own SSH port (ssh.port) and its TLS Docker
    API (a tcp:// dockerHost) from firewall.sshCidrs, Swarm from cluster members only. Forward (ports
    Docker publishes): HTTP(S) from firewall.publicCidrs and the registry from members on the master,
    workspace ports from publicCidrs on workspace hosts; every other published port is dropped, so
    PostgreSQL or a Docker API is never reachable even if published.
    firewall.peerCidrs (a DR standby, say) may pull from the registry too."""
    # Host addresses are IPv4 (validated), so the set is never empty and never mixes families.
    members = sorted({h.address for h in site.members if is_ip_address(h.address)})
    admin_ports = sorted({host.ssh_port, *([host.docker_tls_port] if host.docker_tls_port else [])})
    tcp_ports = (*SWARM_TCP_PORTS, SWARM_MANAGER_PORT) if is_master else SWARM_TCP_PORTS
    published = []
    if is_master:
        published += [
            f"ct original proto-dst {{ {site.master.http_port}, {site.master.https_port} }} "
            "ip saddr @public_sources accept",
            f"ct original proto-dst {site.registry.port} ip saddr @members accept",
        ]
        if site.firewall.peer_cidrs:
            published.append(f"ct original proto-dst {site.registry.port} ip saddr @peers accept")
    if runs_workspaces:
        published.append(f"ct original proto-dst {WORKSPACE_PORTS} ip saddr @public_sources accept")
    forward_rules = [f"ct status dnat meta l4proto tcp {rule}" for rule in published]
    lines = [
        "table inet codenvy",
        "delete table inet codenvy",
        "table inet codenvy {",
        f"  set members {{ type ipv4_addr; elements = {{ {_elements(members)} }} }}",
        _address_set("ssh_sources", site.firewall.ssh_cidrs),
        _address_set("public_sources", site.firewall.public_cidrs),
        *([_address_set("peers", site.firewall.peer_cidrs)] if site.firewall.peer_cidrs else []),
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        '    iif "lo" accept',
        "    meta l4proto { icmp, ipv6-icmp } accept",
        f"    tcp dport {{ {_elements(admin_ports)} }} ip saddr @ssh_sources accept",
        f"    tcp dport {{ {_elements(tcp_ports)} }} ip saddr @members accept",
        f"    udp dport {{ {_elements(SWARM_UDP_PORTS)} }} ip saddr @members accept",
        "  }",
        "  chain forward {",
        "    type filter hook forward priority filter - 10; policy accept;",
        "    ct state established,related accept",
        *(f"    {rule}" for rule in forward_rules),
        "    ct status dnat drop",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"
