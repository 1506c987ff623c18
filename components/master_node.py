"""The master node: PostgreSQL, the application server and HAProxy, with the seed's data locations."""

from __future__ import annotations

import json

import pulumi
import pulumi_docker as docker
import pulumi_random as random

from components.certificate_authority import CertificateAuthority
from components.config import SiteConfig
from components.containers import pull_image, site_container
from components.host_access import HostAccess
from components.registry import Registry
from components.rendering import (
    DATABASE,
    DATABASE_USER,
    HAPROXY_CERT_PATH,
    HAPROXY_CFG_PATH,
    POSTGRES_ALIAS,
    SERVER_ALIAS,
    SERVER_PORT,
    render_backup,
    render_codenvy_env,
    render_haproxy_cfg,
    render_script,
    site_url,
)
from components.versioning import UpgradePlan

# The seed's data-storage table: project data in fs/, the copies mounted into running workspaces in
# che-machines/, and the server's instance folder (codenvy.env, codenvy.ver).
DATA_ROOT = "/home/codenvy/codenvy-data"
INSTANCE_DIR = "/instance"
# The workspace nodes, in the instance folder where the seed listed them (CODENVY_SWARM_NODES).
NODES_FILE = f"{INSTANCE_DIR}/workspace-nodes.json"
VERSION_LABEL = "codenvy.version"

# How long each service may take to stop before the provider removes or replaces its container (it kills
# at once otherwise). PostgreSQL writes a shutdown checkpoint, which on a busy database takes a while; a
# killed one only recovers by replaying WAL on the next start. The server stops its workspaces' agents
# and flushes project data; the registry finishes uploads in flight; HAProxy has nothing to save.
POSTGRES_STOP_GRACE_SECONDS = 120
SERVER_STOP_GRACE_SECONDS = 60
HAPROXY_STOP_GRACE_SECONDS = 10


def server_labels(site: SiteConfig) -> dict[str, str]:
    """What the site declares about itself, on the server container where policies can read it. Only
    what replaces the server anyway when it changes: labels force a new container."""
    return {
        "codenvy.environment": site.environment,
        "codenvy.role": site.role,
        VERSION_LABEL: site.version,
    }


def server_container_name(site: SiteConfig) -> str:
    return f"{site.site_name}-server"


def node_set_json(site: SiteConfig) -> str:
    """The workspace nodes as one line of JSON: the nodes file's content and the declared NODE_SET."""
    return json.dumps(site.node_set, sort_keys=True)


class MasterNode(pulumi.ComponentResource):
    """The services users talk to. Data volumes are retained when the stack is destroyed."""

    url: str
    version: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        site: SiteConfig,
        host: HostAccess,
        workspace_network: docker.Network,
        registry: Registry,
        ca: CertificateAuthority,
        upgrade: UpgradePlan,
        opts: pulumi.ResourceOptions | None = None,
        host_ready: list[pulumi.Resource] | None = None,
    ) -> None:
        """`host_ready`: what must finish on the master first (its daemon restarts while it is configured)."""
        super().__init__("codenvy:infra:MasterNode", name, None, opts)
        self._site = site
        self._host = host
        self._host_ready = host_ready or []
        self.url = site_url(site)

        self.internal_network = docker.Network(
            f"{name}-internal",
            name=f"{site.site_name}-internal",
            driver="bridge",
            labels=[docker.NetworkLabelArgs(label="codenvy.site", value=site.site_name)],
            opts=self._on_host(),
        )
        volumes = {
            purpose: docker.Volume(
                f"{name}-{purpose}",
                name=f"{site.site_name}-{purpose}",
                opts=self._on_host(retain_on_delete=True),
            )
            for purpose in ("pgdata", "fs", "che-machines", "instance")
        }
        db_password = random.RandomPassword(
            f"{name}-db-password", length=32, special=False, opts=pulumi.ResourceOptions(parent=self)
        )
        # Secret by construction, not only by the provider's schema, so no engine can leak it.
        password = pulumi.Output.secret(db_password.result)
        self.postgres = self._postgres(name, volumes["pgdata"], password)
        self.pre_upgrade_backup = self._pre_upgrade_backup(name, upgrade)
        self.server = self._server(name, volumes, password, workspace_network, registry)
        self.workspace_nodes = self._workspace_nodes(name)
        self.haproxy = self._haproxy(name, ca)
        # The version the server that exists declares: it resolves only once that server has been created,
        # so a failed upgrade leaves the stack's previous `version` output (the engine keeps outputs that
        # were not registered again), and the upgrade gate still allows going back.
        self.version = self.server.labels.apply(_declared_version)
        self.register_outputs({"url": self.url, "version": self.version})

    def _on_host(self, **options) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._host.provider, depends_on=self._host_ready, **options)

    def _pre_upgrade_backup(self, name: str, upgrade: UpgradePlan) -> pulumi.Resource | None:
        """Backs up before the server of a new version replaces the old one; re-run on every version change."""
        site = self._site
        if site.upgrade.skip_backup:
            if upgrade.kind == "upgrade":
                pulumi.log.warn(
                    f"upgrading {upgrade.deployed} -> {upgrade.target} without a backup (upgrade.skipBackup)", self
                )
            return None
        return self._host.run(
            f"{name}-pre-upgrade-backup",
            render_backup(site, "pre-upgrade"),
            triggers=[site.version],
            parent=self,
            depends_on=[self.postgres],
        )

    def _internal(self, alias: str) -> docker.ContainerNetworksAdvancedArgs:
        return docker.ContainerNetworksAdvancedArgs(name=self.internal_network.name, aliases=[alias])

    def _postgres(self, name: str, data: docker.Volume, password: pulumi.Output[str]) -> docker.Container:
        site = self._site
        return site_container(
            f"{name}-postgres",
            site=site,
            image=pull_image(
                f"{name}-postgres-image", site.images.postgres, self._host.provider, self, self._host_ready
            ),
            container_name=f"{site.site_name}-postgres",
            memory_mb=site.memory.postgres_mb,
            stop_grace_seconds=POSTGRES_STOP_GRACE_SECONDS,
            healthcheck=f"pg_isready -U {DATABASE_USER} -d {DATABASE}",
            provider=self._host.provider,
            parent=self,
            depends_on=self._host_ready,
            envs=[
                f"POSTGRES_DB={DATABASE}",
                f"POSTGRES_USER={DATABASE_USER}",
                pulumi.Output.concat("POSTGRES_PASSWORD=", password),
            ],
            volumes=[docker.ContainerVolumeArgs(volume_name=data.name, container_path="/var/lib/postgresql/data")],
            networks_advanced=[self._internal(POSTGRES_ALIAS)],
        )

    def _server(
        self,
        name: str,
        volumes: dict[str, docker.Volume],
        db_password: pulumi.Output[str],
        workspace_network: docker.Network,
        registry: Registry,
    ) -> docker.Container:
        site = self._site
        codenvy_env = render_codenvy_env(site)
        secrets: list[pulumi.Input[str]] = [pulumi.Output.concat("CODENVY_PGSQL_PASSWORD=", db_password)]
        if registry.password is not None:
            secrets += [
                f"CODENVY_DOCKER_REGISTRY_USERNAME={registry.username}",
                pulumi.Output.concat("CODENVY_DOCKER_REGISTRY_PASSWORD=", registry.password),
            ]
        return site_container(
            f"{name}-server",
            site=site,
            image=pull_image(f"{name}-server-image", site.server_image, self._host.provider, self, self._host_ready),
            container_name=server_container_name(site),
            memory_mb=site.memory.server_mb,
            stop_grace_seconds=SERVER_STOP_GRACE_SECONDS,
            healthcheck=f"curl -fsS -o /dev/null http://localhost:{SERVER_PORT}/api/",
            provider=self._host.provider,
            parent=self,
            depends_on=[self.postgres, registry, *([self.pre_upgrade_backup] if self.pre_upgrade_backup else [])],
            envs=[*codenvy_env.splitlines(), *secrets],
            uploads=[
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.env", content=codenvy_env),
                docker.ContainerUploadArgs(file=f"{INSTANCE_DIR}/codenvy.ver", content=f"{site.version}\n"),
            ],
            volumes=[
                docker.ContainerVolumeArgs(volume_name=volumes["fs"].name, container_path=f"{DATA_ROOT}/fs"),
                docker.ContainerVolumeArgs(
                    volume_name=volumes["che-machines"].name, container_path=f"{DATA_ROOT}/che-machines"
                ),
                docker.ContainerVolumeArgs(volume_name=volumes["instance"].name, container_path=INSTANCE_DIR),
            ],
            networks_advanced=[
                self._internal(SERVER_ALIAS),
                docker.ContainerNetworksAdvancedArgs(name=workspace_network.name, aliases=[SERVER_ALIAS]),
            ],
            extra_labels=server_labels(site),
        )

    def _workspace_nodes(self, name: str) -> pulumi.Resource:
        """Writes the node list into the server's instance folder; a node change re-runs only this."""
        return self._host.run(
            f"{name}-workspace-nodes",
            render_script(
                "workspace_nodes",
                container=server_container_name(self._site),
                node_set=node_set_json(self._site),
                target=NODES_FILE,
            ),
            parent=self,
            depends_on=[self.server],
        )

    def _haproxy(self, name: str, ca: CertificateAuthority) -> docker.Container:
        site = self._site
        uploads = [docker.ContainerUploadArgs(file=HAPROXY_CFG_PATH, content=render_haproxy_cfg(site))]
        ports = [docker.ContainerPortArgs(internal=80, external=site.master.http_port)]
        if site.https:
            cert = ca.issue(
                f"{name}-https",
                common_name=site.hostname,
                subject_names=[site.hostname, site.master.address],
                parent=self,
            )
            uploads.append(
                docker.ContainerUploadArgs(
                    file=HAPROXY_CERT_PATH,
                    content=pulumi.Output.concat(cert.cert_pem, cert.private_key_pem),
                    permissions="0600",
                )
            )
            ports.append(docker.ContainerPortArgs(internal=443, external=site.master.https_port))
        return site_container(
            f"{name}-haproxy",
            site=site,
            image=pull_image(f"{name}-haproxy-image", site.images.haproxy, self._host.provider, self, self._host_ready),
            container_name=f"{site.site_name}-haproxy",
            memory_mb=site.memory.haproxy_mb,
            stop_grace_seconds=HAPROXY_STOP_GRACE_SECONDS,
            healthcheck=f"haproxy -c -q -f {HAPROXY_CFG_PATH}",
            # The image runs as an unprivileged user, who cannot read the root-owned 0600 key the provider
            # uploads; HAProxy starts as root, loads it, and drops to haproxy.cfg's `user`/`group`.
            user="root",
            provider=self._host.provider,
            parent=self,
            depends_on=[self.server],
            uploads=uploads,
            ports=ports,
            networks_advanced=[self._internal("haproxy")],
        )


def _declared_version(labels: list[docker.outputs.ContainerLabel] | None) -> str:
    return next(item.value for item in labels or [] if item.label == VERSION_LABEL)
