"""The site's private Docker registry on the master: TLS from the site CA, data on a volume."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.certificate_authority import CertificateAuthority
from components.config import RegistryConfig, Settings, SiteConfig
from components.containers import ContainerSettings, pull_image, site_container
from components.host_access import HostAccess
from components.ordering import After

REGISTRY_USER = "codenvy"
CERT_DIR = "/certs"
HTPASSWD_FILE = "/auth/htpasswd"
# The registry's debug listener stays on loopback inside the container; the healthcheck reads it.
HEALTH_ADDR = "127.0.0.1:5001"
# Time to finish pushes in flight before the provider removes or replaces the container (it kills otherwise).
STOP_GRACE_SECONDS = 30
# The label the policy pack identifies the registry container by (registry-serves-tls).
SERVICE_LABEL = ("codenvy.service", "registry")


class RegistrySettings(Settings):
    config: RegistryConfig
    # host:port every node pulls from; the TLS certificate's common name.
    address: str
    image: str
    memory_mb: int
    master_name: str
    master_address: str
    hostname: str
    containers: ContainerSettings

    @classmethod
    def of(cls, site: SiteConfig) -> RegistrySettings:
        return cls(
            config=site.registry,
            address=site.registry_address,
            image=site.images.registry,
            memory_mb=site.memory.registry_mb,
            master_name=site.master.name,
            master_address=site.master.address,
            hostname=site.hostname,
            containers=ContainerSettings.of(site),
        )


@dataclass(frozen=True, kw_only=True)
class RegistryArgs:
    """What Registry reads, and the resources it needs. `after`: what must finish on the master first
    (its daemon restarts while it is configured)."""

    settings: RegistrySettings
    master: HostAccess
    ca: CertificateAuthority
    after: After = ()


class Registry(pulumi.ComponentResource):
    """Where workspace snapshots live; reachable at `address` by every node that trusts `ca_cert_pem`."""

    address: str
    ca_cert_pem: pulumi.Output[str]
    username: str | None
    password: pulumi.Output[str] | None

    def __init__(self, name: str, args: RegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:Registry", name, None, opts)
        self._settings = args.settings
        self.address = args.settings.address
        self.ca_cert_pem = args.ca.trust_pem
        self.username = None
        self.password = None
        env = ["REGISTRY_STORAGE_DELETE_ENABLED=true", f"REGISTRY_HTTP_DEBUG_ADDR={HEALTH_ADDR}"]
        uploads: list[docker.ContainerUploadArgs] = []
        if args.settings.config.tls:
            self._serve_tls(name, args.ca, env, uploads)
        if args.settings.config.auth == "htpasswd":
            self._require_login(name, env, uploads)
        self.data = docker.Volume(
            f"{name}-data",
            name=f"{args.settings.containers.site_name}-registry-data",
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.master.provider, retain_on_delete=True, depends_on=list(args.after)
            ),
        )
        self.container = self._container(name, args.master, env, uploads, args.after)
        self.register_outputs({"address": self.address, "ca_cert_pem": self.ca_cert_pem, "username": self.username})

    def _serve_tls(
        self, name: str, ca: CertificateAuthority, env: list[str], uploads: list[docker.ContainerUploadArgs]
    ) -> None:
        settings = self._settings
        cert = ca.issue(
            f"{name}-tls",
            common_name=self.address,
            subject_names=[settings.master_address, settings.master_name, settings.hostname],
            parent=self,
        )
        env += [f"REGISTRY_HTTP_TLS_CERTIFICATE={CERT_DIR}/tls.crt", f"REGISTRY_HTTP_TLS_KEY={CERT_DIR}/tls.key"]
        uploads += [
            docker.ContainerUploadArgs(file=f"{CERT_DIR}/tls.crt", content=cert.cert_pem),
            docker.ContainerUploadArgs(file=f"{CERT_DIR}/tls.key", content=cert.private_key_pem, permissions="0600"),
        ]

    def _require_login(self, name: str, env: list[str], uploads: list[docker.ContainerUploadArgs]) -> None:
        credentials = random.RandomPassword(
            f"{name}-password",
            # Equivalent at any nearby length: no reader counts it, and bcrypt (htpasswd) reads up to 72 bytes.
            length=32,  # pragma: no mutate
            special=False,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.username = REGISTRY_USER
        self.password = pulumi.Output.secret(credentials.result)
        env += [
            "REGISTRY_AUTH=htpasswd",
            f"REGISTRY_AUTH_HTPASSWD_REALM={self._settings.containers.site_name} registry",
            f"REGISTRY_AUTH_HTPASSWD_PATH={HTPASSWD_FILE}",
        ]
        uploads.append(
            docker.ContainerUploadArgs(
                file=HTPASSWD_FILE,
                content=pulumi.Output.secret(pulumi.Output.concat(REGISTRY_USER, ":", credentials.bcrypt_hash)),
            )
        )

    def _container(
        self,
        name: str,
        master: HostAccess,
        env: list[str],
        uploads: list[docker.ContainerUploadArgs],
        after: After,
    ) -> docker.Container:
        settings = self._settings
        label, service = SERVICE_LABEL
        return site_container(
            f"{name}-container",
            shared=settings.containers,
            image=pull_image(f"{name}-image", settings.image, master.provider, self, after),
            container_name=f"{settings.containers.site_name}-registry",
            extra_labels={label: service},
            memory_mb=settings.memory_mb,
            stop_grace_seconds=STOP_GRACE_SECONDS,
            healthcheck=f"wget -q -O /dev/null http://{HEALTH_ADDR}/debug/health",
            host=master,
            parent=self,
            after=after,
            envs=env,
            uploads=uploads,
            ports=[docker.ContainerPortArgs(internal=5000, external=settings.config.port)],
            volumes=[docker.ContainerVolumeArgs(volume_name=self.data.name, container_path="/var/lib/registry")],
        )
