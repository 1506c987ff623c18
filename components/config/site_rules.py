"""The rules that span sections of a stack file: each raises ConfigKeyError naming the key to change."""

from __future__ import annotations

from collections import Counter
from ipaddress import IPv4Address
from pathlib import Path
from typing import TYPE_CHECKING

from components.config.errors import ConfigKeyError
from components.config.hosts import UNPINNED_HOST_KEY_ENVIRONMENTS, unverified_host_key_option

if TYPE_CHECKING:
    from components.config.site import SiteConfig


def keyed_hosts(site: SiteConfig):
    """(key, host) for the master and each node, the key as the stack file spells it."""
    yield ("master",), site.master
    for index, node in enumerate(site.nodes):
        yield ("nodes", index), node


def topology(site: SiteConfig) -> None:
    if site.network.mode == "bridge" and site.nodes:
        raise ConfigKeyError(
            ("nodes",), "bridge mode runs on one host; list workspace nodes only with network.mode overlay"
        )
    if site.network.mode == "bridge" and site.network.encrypted:
        raise ConfigKeyError(("network", "encrypted"), "applies to overlay mode only")
    if not site.workspace_hosts:
        raise ConfigKeyError(("nodes",), "no host runs workspaces; add nodes or set master.hostWorkspaces true")
    names = Counter(host.name for host in site.hosts)
    addresses = Counter(host.address for host in site.hosts)
    for label, counts in (("name", names), ("address", addresses)):
        repeated = sorted(value for value, count in counts.items() if count > 1)
        if repeated:
            raise ConfigKeyError(("nodes",), f"every host needs its own {label}; repeated: {', '.join(repeated)}")
    if site.master.http_port == site.master.https_port:
        raise ConfigKeyError(("master", "httpsPort"), "must differ from master.httpPort")


def master_ports_distinct(site: SiteConfig) -> None:
    """HAProxy, the registry, sshd and a TLS Docker API all listen on the master's host ports."""
    taken = {site.master.ssh_port: "master.ssh.port (sshd)"}
    if site.database_streams:
        taken[site.master.postgres_port] = "master.postgresPort (PostgreSQL, streaming)"
    if site.master.docker_tls_port:
        taken[site.master.docker_tls_port] = "master.dockerHost (the Docker API)"
    for key, port in (
        (("master", "httpPort"), site.master.http_port),
        (("master", "httpsPort"), site.master.https_port),
        (("registry", "port"), site.registry.port),
    ):
        if port in taken:
            raise ConfigKeyError(key, f"{port} is already {taken[port]} on the master; pick a free port")
        taken[port] = ".".join(key)


def reachable_master(site: SiteConfig) -> None:
    remote = [host.name for host in site.members if not host.is_local]
    if len(site.members) < 2:
        return  # one host: its Commands may well reach it over SSH at its loopback address
    for key, host in keyed_hosts(site):
        if remote and IPv4Address(host.address).is_loopback:
            raise ConfigKeyError(
                (*key, "address"),
                f"{host.address} is a loopback address, which the remote hosts ({', '.join(remote)}) cannot "
                "reach; give every host an address the others reach",
            )


def host_keys_pinned(site: SiteConfig) -> None:
    if site.environment in UNPINNED_HOST_KEY_ENVIRONMENTS:
        return
    for key, host in keyed_hosts(site):
        if host.ssh is not None and host.ssh.host_key is None:
            raise ConfigKeyError(
                (*key, "ssh", "hostKey"),
                "required outside environments dev and sim, so root scripts and the join token reach this host "
                "only; copy its line from `ssh-keyscan -t ed25519 ADDRESS` (without the address)",
            )
        unverified = None if host.ssh is None else unverified_host_key_option(host.ssh.options)
        if unverified is not None:
            raise ConfigKeyError(
                (*key, "ssh", "options"),
                f"'{unverified}' lets the Docker provider's ssh talk to any host; outside environments dev and "
                "sim it verifies the host against known_hosts where Pulumi runs (add the host there, e.g. from "
                "ssh.hostKey)",
            )
    if site.dr is not None and site.dr.primary_ssh.host_key is None:
        raise ConfigKeyError(
            ("dr", "primarySsh", "hostKey"),
            "required outside environments dev and sim, so the transfer fetches from the primary only; copy "
            "its line from `ssh-keyscan -t ed25519 ADDRESS` (without the address)",
        )


def absolute_paths_outside_dev(site: SiteConfig) -> None:
    if site.environment != "dev":
        for key, value in (
            (("backup", "directory"), site.backup.directory),
            (("backup", "toolsDirectory"), site.backup.tools_directory),
        ):
            if not value.startswith("/"):
                raise ConfigKeyError(key, f"must be an absolute path outside environment dev; got {value}")


def credentials_over_https(site: SiteConfig) -> None:
    """The admin password goes to the API with every call; outside dev only over HTTPS."""
    calls_api = bool(site.limits.users) or site.audit.enabled
    if site.environment == "dev" or not calls_api:
        return
    if site.limits.api_url is not None and not site.limits.api_url.startswith("https://"):
        raise ConfigKeyError(
            ("limits", "apiUrl"), "must be https:// outside environment dev (the admin password goes there)"
        )
    if site.limits.api_url is None and not site.https:
        raise ConfigKeyError(
            ("https",),
            "must be true outside environment dev while limits.users or audit send the admin password to the "
            "site's API",
        )


def key_files_exist(site: SiteConfig) -> None:
    for key, host in keyed_hosts(site):
        key_file = host.ssh.key_file if host.ssh else None
        if key_file is not None and not _is_file(key_file):
            raise ConfigKeyError(
                (*key, "ssh", "keyFile"), f"no file at {key_file!r} on this machine (where Pulumi runs)"
            )


def _is_file(name: str) -> bool:
    """A file is there; a name the system cannot look up (`~nosuchuser/…`, too long, a NUL) is none."""
    try:
        return Path(name).expanduser().is_file()
    except (RuntimeError, OSError, ValueError):
        return False


def tls_outside_dev(site: SiteConfig) -> None:
    if not site.registry.tls and site.environment != "dev":
        raise ConfigKeyError(("registry", "tls"), "a registry without TLS is allowed only in environment dev")


def published_database_firewalled(site: SiteConfig) -> None:
    """A streaming site publishes PostgreSQL at its master's address. pg_hba.conf admits only the replication
    role from there, but the port itself, its TLS handshake and its error messages are open to whoever reaches
    it: outside dev the firewall lets only the peer site's master through."""
    if site.environment == "dev" or not site.database_streams or site.firewall_enabled:
        return
    raise ConfigKeyError(
        ("firewall", "enabled"),
        "must be true outside environment dev while PostgreSQL is published at the master's address (a standby "
        "in replication.standbyAddresses, or dr.replication streaming): the firewall lets only the peer site's "
        "master reach it",
    )


def backups_and_roles(site: SiteConfig) -> None:
    if site.backup.schedule is None and site.environment != "dev":
        raise ConfigKeyError(("backup", "schedule"), "backups must be scheduled outside environment dev")
    if site.role == "standby" and site.dr is None:
        raise ConfigKeyError(("dr",), "a standby site needs dr.primaryStack (and optionally standby, promote)")
    if site.role == "primary" and site.dr is not None:
        raise ConfigKeyError(("dr",), "only a standby site has a dr section; set role: standby")


def limits_fit(site: SiteConfig) -> None:
    largest_mb = int(max(host.ram_gb for host in site.workspace_hosts) * 1024)
    for index, user in enumerate(site.limits.users):
        for limit in user.resources:
            if limit.megabytes is not None and limit.megabytes > largest_mb:
                raise ConfigKeyError(
                    ("limits", "users", index, "resources"),
                    f"RAM {limit.megabytes} mb for {user.user_id} can never be used: the largest workspace host "
                    f"has {largest_mb} mb",
                )
    if (site.limits.users or site.audit.enabled) and site.admin_password is None:
        raise ConfigKeyError(
            ("adminPassword",), "limits.users and audit call the API; set it with `pulumi config set --secret`"
        )


def replication_from_an_active_site(site: SiteConfig) -> None:
    """Only the site that serves streams to standbys; a standby's own standbys would be a chain nobody
    fails over along."""
    addresses = site.replication.standby_addresses
    if addresses and not site.is_active:
        raise ConfigKeyError(
            ("replication", "standbyAddresses"), "a standby streams from its primary; list standbys on the primary"
        )
    own = sorted({host.address for host in site.hosts} & set(addresses))
    if own:
        raise ConfigKeyError(
            ("replication", "standbyAddresses"), f"{', '.join(own)} is a host of this site, not of a standby site"
        )


# In the order they are checked: the first that fails is the one reported.
SITE_RULES = (
    replication_from_an_active_site,
    topology,
    master_ports_distinct,
    reachable_master,
    host_keys_pinned,
    absolute_paths_outside_dev,
    credentials_over_https,
    key_files_exist,
    tls_outside_dev,
    published_database_firewalled,
    backups_and_roles,
    limits_fit,
)
