"""HAProxy in front of the application server: HTTP, and HTTPS with a certificate from the site CA."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.certificate_authority import CertificateAuthority
from components.config import Settings, SiteConfig
from components.containers import Aliases, ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import AGENTS_ALIAS, AGENTS_PORT, SERVER_ALIAS, SERVER_PORT
from components.ordering import After

HAPROXY_CFG_PATH = "/usr/local/etc/haproxy/haproxy.cfg"
HAPROXY_CERT_PATH = "/usr/local/etc/haproxy/site.pem"
# The official image's unprivileged account (uid/gid 99) that HAProxy drops to after loading its key.
HAPROXY_USER = "haproxy"
HAPROXY_GROUP = "haproxy"
# HAProxy has nothing to save; a short grace lets it finish answers in flight. Any few seconds do (no test
# can tell 9 from 11), so its mutants are equivalent.
STOP_GRACE_SECONDS = 10  # pragma: no mutate


class LoadBalancerSettings(Settings):
    hostname: str
    https: bool
    master_address: str
    http_port: int
    https_port: int
    image: str
    memory_mb: int
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> LoadBalancerSettings:
        return cls(
            hostname=site.hostname,
            https=site.https,
            master_address=site.master.address,
            http_port=site.master.http_port,
            https_port=site.master.https_port,
            image=site.images.haproxy,
            memory_mb=site.memory.haproxy_mb,
            containers=ContainerSettings.of(site),
        )


_GLOBAL_AND_DEFAULTS = [
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


# Upstream's haproxy.cfg.erb routes /agent-binaries to the agents service, over plain HTTP too: workspaces
# download agents without trusting the site's certificate.
AGENTS_PATH = "/agent-binaries"


def render_haproxy_cfg(https: bool) -> str:
    """HAProxy in front of the server; long tunnel timeouts because the IDE lives on websockets."""
    backends = [
        [
            "backend codenvy",
            "    option httpchk GET /api/",
            f"    server {SERVER_ALIAS} {SERVER_ALIAS}:{SERVER_PORT} check resolvers docker init-addr none",
        ],
        [
            "backend agents",
            f"    server {AGENTS_ALIAS} {AGENTS_ALIAS}:{AGENTS_PORT} check resolvers docker init-addr none",
        ],
    ]
    acl = f"    acl agent_binaries path_beg {AGENTS_PATH}"
    routes = ["    use_backend agents if agent_binaries", "    default_backend codenvy"]
    redirect = ["    http-request redirect scheme https code 301 unless agent_binaries"] if https else []
    http_front = ["frontend http", "    bind :80", acl, *redirect, *routes]
    sections = [_GLOBAL_AND_DEFAULTS, http_front]
    if https:
        sections.append(
            [
                "frontend https",
                f"    bind :443 ssl crt {HAPROXY_CERT_PATH}",
                "    http-request set-header X-Forwarded-Proto https",
                acl,
                *routes,
            ]
        )
    sections += backends
    return "\n\n".join("\n".join(section) for section in sections) + "\n"


@dataclass(frozen=True, kw_only=True)
class LoadBalancerArgs:
    """What LoadBalancer reads, and the resources it needs."""

    settings: LoadBalancerSettings
    host: HostAccess
    ca: CertificateAuthority
    internal_network: docker.ContainerNetworksAdvancedArgs
    # Where the resources moved here had been: the caller that moved them says so, as options with the
    # aliases (pulumi.Alias) that keep their URNs. The engine inherits a component's aliases only when the
    # component itself was found under one (pulumi/pulumi pkg/resource/deploy/step_generator.go
    # generateAliases), and this component was new, so its own `opts` cannot carry them.
    moved: pulumi.ResourceOptions
    # The names those resources had, kept: `<prefix>-<role>`.
    prefix: str
    # What everything here waits for (the master's daemon configured); the container, besides, waits for
    # `container_after`: the server it forwards to.
    after: After
    container_after: After


class LoadBalancer(pulumi.ComponentResource):
    """The site's front door on the master. Its resources were the MasterNode's own before it had this
    component; the aliases in `args.moved` and the names they had (`args.prefix`) keep them, and their URNs,
    in place."""

    container: docker.Container

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:LoadBalancer", name, None, opts)
        moved = list(args.moved.aliases or [])
        uploads = [docker.ContainerUploadArgs(file=HAPROXY_CFG_PATH, content=render_haproxy_cfg(args.settings.https))]
        ports = [docker.ContainerPortArgs(internal=80, external=args.settings.http_port)]
        if args.settings.https:
            uploads.append(self._certificate(f"{args.prefix}-https", args.settings, args.ca, moved))
            ports.append(docker.ContainerPortArgs(internal=443, external=args.settings.https_port))
        self.container = site_container(
            f"{args.prefix}-haproxy",
            shared=args.settings.containers,
            image=pull_image(
                f"{args.prefix}-haproxy-image", args.settings.image, args.host.provider, self, args.after, moved
            ),
            container_name=f"{args.settings.containers.site_name}-haproxy",
            memory_mb=args.settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=f"haproxy -c -q -f {HAPROXY_CFG_PATH}",
            # The image runs as an unprivileged user, who cannot read the root-owned 0600 key the provider
            # uploads; HAProxy starts as root, loads it, and drops to haproxy.cfg's `user`/`group`.
            user="root",
            host=args.host,
            parent=self,
            after=args.container_after,
            aliases=moved,
            uploads=uploads,
            ports=ports,
            networks_advanced=[args.internal_network],
        )
        self.register_outputs({})

    def _certificate(
        self, name: str, settings: LoadBalancerSettings, ca: CertificateAuthority, moved: Aliases
    ) -> docker.ContainerUploadArgs:
        cert = ca.issue(
            name,
            common_name=settings.hostname,
            subject_names=[settings.hostname, settings.master_address],
            parent=self,
            aliases=moved,
        )
        return docker.ContainerUploadArgs(
            file=HAPROXY_CERT_PATH,
            content=pulumi.Output.concat(cert.cert_pem, cert.private_key_pem),
            permissions="0600",
        )
