"""A workspace host's Docker engine as the placement manager reaches it: upstream's socat relay
(codenvy/codenvy docker-compose.yml.erb `socat`: TCP 2375 to the engine's socket, in plain text) with a TLS
listener that admits only clients holding a site-CA client certificate, i.e. the manager."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from components.certificate_authority import SERVER_AUTH, CertificateAuthority
from components.config import Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.master_layout import ENGINE_TLS_PORT, RELAY_ALIAS
from components.ordering import After

ENGINE_SOCKET = "/var/run/docker.sock"
TLS_DIR = "/etc/socat/tls"
STOP_GRACE_SECONDS = 5
# The label the policy pack recognises a relay by: the one container that may hold the engine's socket, and
# only behind a listener that verifies client certificates.
SERVICE_LABEL = ("codenvy.service", "engine-relay")


class EngineRelaySettings(Settings):
    site_name: str
    image: str
    memory_mb: int
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> EngineRelaySettings:
        return cls(
            site_name=site.site_name,
            image=site.versioned_image(site.images.socat),
            memory_mb=site.memory.relay_mb,
            containers=ContainerSettings.of(site),
        )


def relay_command() -> list[str]:
    """socat's arguments (the image's entrypoint is socat): TLS in, the engine's socket out; verify=1 makes
    OpenSSL require a client certificate from the CA, and it checks that certificate is a client's."""
    listen = ",".join(
        [
            f"OPENSSL-LISTEN:{ENGINE_TLS_PORT}",
            "fork",
            "reuseaddr",
            f"cert={TLS_DIR}/cert.pem",
            f"key={TLS_DIR}/key.pem",
            f"cafile={TLS_DIR}/ca.pem",
            "verify=1",
        ]
    )
    return ["-d", "-d", listen, f"UNIX-CONNECT:{ENGINE_SOCKET}"]


@dataclass(frozen=True, kw_only=True)
class EngineRelayArgs:
    """What EngineRelay reads, and the resources it needs. `internal_network`: the master's, when this is the
    master's relay; None on a worker."""

    settings: EngineRelaySettings
    host: HostAccess
    ca: CertificateAuthority
    internal_network: docker.Network | None
    after: After


class EngineRelay(pulumi.ComponentResource):
    """One host's relay. On the master it answers on the internal network as RELAY_ALIAS; on a worker it is
    published at the worker's own address, where the firewall admits only the master."""

    container: docker.Container

    def __init__(self, name: str, args: EngineRelayArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:EngineRelay", name, None, opts)
        address = args.host.config.address
        on_master = args.internal_network is not None
        # A lost host's relay stays as it was until the host leaves the stack file, then leaves the state
        # without the provider being asked to reach the host.
        gone = args.host.config.lost
        cert = args.ca.issue(
            f"{name}-tls",
            common_name=RELAY_ALIAS if on_master else address,
            subject_names=[RELAY_ALIAS] if on_master else [address],
            parent=self,
            usages=SERVER_AUTH,
        )
        label, service = SERVICE_LABEL
        # On the master, reached by alias on the internal network; on a worker, published at its address.
        networks = (
            [docker.ContainerNetworksAdvancedArgs(name=args.internal_network.name, aliases=[RELAY_ALIAS])]
            if args.internal_network is not None
            else None
        )
        ports = (
            None
            if on_master
            else [docker.ContainerPortArgs(internal=ENGINE_TLS_PORT, external=ENGINE_TLS_PORT, ip=address)]
        )
        self.container = site_container(
            f"{name}-container",
            shared=args.settings.containers,
            image=pull_image(
                f"{name}-image", args.settings.image, args.host.provider, self, args.after, retain_on_delete=gone
            ),
            container_name=f"{args.settings.site_name}-socat",
            memory_mb=args.settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            # The listener is up: a plain TCP connect, which the relay's TLS side then drops.
            healthcheck=f"socat -u OPEN:/dev/null TCP4:127.0.0.1:{ENGINE_TLS_PORT},connect-timeout=2",
            host=args.host,
            parent=self,
            after=args.after,
            extra_labels={label: service},
            command=relay_command(),
            uploads=[
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/ca.pem", content=args.ca.trust_pem),
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/cert.pem", content=cert.cert_pem),
                docker.ContainerUploadArgs(file=f"{TLS_DIR}/key.pem", content=cert.private_key_pem, permissions="0600"),
            ],
            volumes=[docker.ContainerVolumeArgs(host_path=ENGINE_SOCKET, container_path=ENGINE_SOCKET)],
            retain_on_delete=gone,
            networks_advanced=networks,
            ports=ports,
        )
        self.register_outputs({})
