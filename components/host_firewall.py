"""The nftables table each managed host gets for its role: what may reach it, and which of the ports
Docker publishes may be forwarded to, from where."""

from __future__ import annotations

from components.config import FirewallConfig, HostConfig, ReplicationMode, Settings, SiteConfig, is_ip_address
from components.deploy_gates import PrimarySite
from components.master_layout import ENGINE_TLS_PORT

# Swarm mode's ports (replacing the seeds' ZooKeeper 2181 and Docker 2375/23750): cluster members only.
SWARM_TCP_PORTS = (7946,)
SWARM_MANAGER_PORT = 2377
SWARM_UDP_PORTS = (4789, 7946)
# The seeds' port table: Docker publishes workspace ports from the host's ephemeral range.
WORKSPACE_PORTS = "32768-65535"


class FirewallSettings(Settings):
    enabled: bool
    config: FirewallConfig
    # The site's hosts (IPv4, validated), lost ones excluded: who may speak Swarm.
    member_addresses: tuple[str, ...]
    http_port: int
    https_port: int
    registry_port: int
    # The placement manager's host: the only one that reaches a worker's engine relay.
    master_address: str
    # An encrypted overlay carries its traffic in IPsec ESP (IP protocol 50) between the members.
    # The defaults serve settings made by hand (tests); FirewallSettings.of always passes both, so a mutant of
    # either default is equivalent for the program.
    encrypted_overlay: bool = False  # pragma: no mutate
    # The masters of this site's standbys: they alone reach this master's SSH (to sync project files) and its
    # published PostgreSQL (to stream), besides the administrators.
    replication_peers: tuple[str, ...] = ()
    # Who reaches the published PostgreSQL: this site's standby masters (to stream), and on a streaming
    # standby, promoted or not, its primary's master (its fence asks whether this site was promoted).
    database_peers: tuple[str, ...] = ()
    postgres_port: int = 5432  # pragma: no mutate

    @classmethod
    def of(cls, site: SiteConfig, primary: PrimarySite | None = None) -> FirewallSettings:
        streaming = site.replication_mode is ReplicationMode.STREAMING
        followed = (primary.manager_address,) if primary is not None and streaming else ()
        return cls(
            enabled=site.firewall_enabled,
            config=site.firewall,
            member_addresses=tuple(sorted({h.address for h in site.members if is_ip_address(h.address)})),
            http_port=site.master.http_port,
            https_port=site.master.https_port,
            registry_port=site.registry.port,
            master_address=site.master.address,
            # Equivalent mutants (`<=`, `is`): the mode is bridge or overlay, and bridge with encrypted is refused.
            encrypted_overlay=site.network.mode == "overlay" and site.network.encrypted,  # pragma: no mutate
            replication_peers=tuple(sorted(site.replication.standby_addresses)),
            database_peers=tuple(sorted({*site.replication.standby_addresses, *followed})),
            postgres_port=site.master.postgres_port,
        )


def _elements(values) -> str:
    return ", ".join(str(value) for value in values)


def _address_set(name: str, networks) -> str:
    return f"  set {name} {{ type ipv4_addr; flags interval; elements = {{ {_elements(networks)} }} }}"


def _published_rules(rules: FirewallSettings, is_master: bool, runs_workspaces: bool) -> list[str]:
    published = []
    if is_master:
        published += [
            f"ct original proto-dst {{ {rules.http_port}, {rules.https_port} }} ip saddr @public_sources accept",
            f"ct original proto-dst {rules.registry_port} ip saddr @members accept",
        ]
        if rules.config.peer_cidrs:
            published.append(f"ct original proto-dst {rules.registry_port} ip saddr @peers accept")
        if rules.database_peers:
            published.append(f"ct original proto-dst {rules.postgres_port} ip saddr @database_peers accept")
    if runs_workspaces:
        published.append(f"ct original proto-dst {WORKSPACE_PORTS} ip saddr @public_sources accept")
    if runs_workspaces and not is_master:
        published.append(f"ct original proto-dst {ENGINE_TLS_PORT} ip saddr {rules.master_address} accept")
    return [f"ct status dnat meta l4proto tcp {rule}" for rule in published]


def render_nftables(rules: FirewallSettings, host: HostConfig, is_master: bool, runs_workspaces: bool) -> str:
    """The host's nftables table for its role. Input: the host's own SSH port (ssh.port) and its TLS Docker
    API (a tcp:// dockerHost) from firewall.sshCidrs, Swarm (and, on an encrypted overlay, its IPsec ESP) from
    cluster members only. Forward (ports
    Docker publishes): HTTP(S) from firewall.publicCidrs and the registry from members on the master,
    workspace ports from publicCidrs on workspace hosts, a worker's engine relay from the master alone (the
    placement manager), and PostgreSQL only from the site's standby masters (replication.standbyAddresses),
    which reach the master's SSH too, and on a streaming standby from its primary's master; every other
    published port is dropped. firewall.peerCidrs (a DR standby, say) may pull from the registry."""
    admin_ports = sorted({host.ssh_port, *([host.docker_tls_port] if host.docker_tls_port else [])})
    tcp_ports = (*SWARM_TCP_PORTS, SWARM_MANAGER_PORT) if is_master else SWARM_TCP_PORTS
    peers = rules.config.peer_cidrs
    replication = rules.replication_peers if is_master else ()
    database = rules.database_peers if is_master else ()
    lines = [
        "table inet codenvy",
        "delete table inet codenvy",
        "table inet codenvy {",
        f"  set members {{ type ipv4_addr; elements = {{ {_elements(rules.member_addresses)} }} }}",
        _address_set("ssh_sources", rules.config.ssh_cidrs),
        _address_set("public_sources", rules.config.public_cidrs),
        *([_address_set("peers", peers)] if peers else []),
        # Single addresses: no interval flag, unlike the CIDR sets.
        *(
            [f"  set replication_peers {{ type ipv4_addr; elements = {{ {_elements(replication)} }} }}"]
            if replication
            else []
        ),
        *([f"  set database_peers {{ type ipv4_addr; elements = {{ {_elements(database)} }} }}"] if database else []),
        "  chain input {",
        "    type filter hook input priority filter; policy drop;",
        "    ct state established,related accept",
        "    ct state invalid drop",
        '    iif "lo" accept',
        "    meta l4proto { icmp, ipv6-icmp } accept",
        f"    tcp dport {{ {_elements(admin_ports)} }} ip saddr @ssh_sources accept",
        *([f"    tcp dport {host.ssh_port} ip saddr @replication_peers accept"] if replication else []),
        f"    tcp dport {{ {_elements(tcp_ports)} }} ip saddr @members accept",
        f"    udp dport {{ {_elements(SWARM_UDP_PORTS)} }} ip saddr @members accept",
        # Docker's overlay documentation and moby#27541: with --opt encrypted, VXLAN travels inside ESP.
        *(["    meta l4proto esp ip saddr @members accept"] if rules.encrypted_overlay else []),
        "  }",
        "  chain forward {",
        "    type filter hook forward priority filter - 10; policy accept;",
        "    ct state established,related accept",
        *(f"    {rule}" for rule in _published_rules(rules, is_master, runs_workspaces)),
        "    ct status dnat drop",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"
