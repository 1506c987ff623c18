"""Settings every site container shares: pinned image, memory cap, bounded restarts, log limits."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components.config import SiteConfig

# on-failure with a bound: a crash-looping service stops instead of hammering the host.
RESTART_POLICY = "on-failure"
MAX_RESTARTS = 5


def pull_image(name: str, image: str, provider: docker.Provider, parent: pulumi.Resource) -> docker.RemoteImage:
    """The pinned image on the host; kept there when the resource goes so running containers keep it."""
    return docker.RemoteImage(
        name,
        name=image,
        keep_locally=True,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider),
    )


def site_container(
    name: str,
    *,
    site: SiteConfig,
    image: docker.RemoteImage,
    container_name: str,
    memory_mb: int,
    healthcheck: str,
    provider: docker.Provider,
    parent: pulumi.Resource,
    depends_on: list[pulumi.Resource] | None = None,
    extra_labels: dict[str, str] | None = None,
    **settings,
) -> docker.Container:
    """A container with the site's shared hardening; `settings` adds the service's own arguments."""
    return docker.Container(
        name,
        name=container_name,
        image=image.image_id,
        memory=memory_mb,
        restart=RESTART_POLICY,
        max_retry_count=MAX_RESTARTS,
        log_driver="json-file",
        log_opts={"max-size": site.logs.max_size, "max-file": str(site.logs.max_file)},
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=["CMD-SHELL", healthcheck], interval="30s", timeout="5s", retries=3, start_period="30s"
        ),
        labels=[
            docker.ContainerLabelArgs(label=label, value=value)
            for label, value in sorted({"codenvy.site": site.site_name, **(extra_labels or {})}.items())
        ],
        # A cold standby keeps its containers created but stopped until it is promoted.
        start=site.runs_services,
        opts=pulumi.ResourceOptions(parent=parent, provider=provider, depends_on=depends_on or []),
        **settings,
    )
