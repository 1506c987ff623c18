"""Settings every site container shares: pinned image, memory cap, restarts after reboots, log limits, graceful stops.

The docker provider (pulumi-docker 5.x, bridging kreuzwerker/terraform-provider-docker v4.5) reads every
container back right after creating it and diffs the next `up` against what it read, so the inputs here
are chosen to read back unchanged (internal/provider/resource_docker_container_funcs.go,
resourceDockerContainerRead)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from components.config import LogConfig, Settings, SiteConfig
from components.host_access import HostAccess
from components.ordering import After

# What ResourceOptions.aliases takes: where a resource was before (pulumi.Alias) or its old URN.
Aliases = Sequence[pulumi.Input[str | pulumi.Alias]]

# Back after a reboot and after a daemon crash, as upstream's compose file has every service (`restart:
# always`). PostgreSQL and the server exit 0 when the daemon stops them, which on-failure would leave stopped
# (moby daemon/restartmanager). unless-stopped comes back from a reboot but not from a crash: a daemon that
# starts (live-restore off) stops the containers it finds still running, and outside a shutdown that stop
# counts as one by hand (moby daemon/kill.go killWithSignal). Docker backs a crash loop off, to a minute.
RESTART_POLICY = "always"

# Every container and network of a site carries its name under this label (`make status` lists them by it).
SITE_LABEL = "codenvy.site"


class ContainerSettings(Settings):
    """What every container of a site shares: the site's name (a label), log limits, and whether the
    services run (a cold standby keeps them created but stopped)."""

    site_name: str
    logs: LogConfig
    running: bool

    @classmethod
    def of(cls, site: SiteConfig) -> ContainerSettings:
        return cls(site_name=site.site_name, logs=site.logs, running=site.runs_services)


def _on_host(
    provider: docker.Provider,
    parent: pulumi.Resource,
    after: After,
    aliases: Aliases | None,
    retain_on_delete: bool,
    ignore_changes: list[str] | None = None,
) -> pulumi.ResourceOptions:
    """The options of a resource on one host's engine, under its component."""
    return pulumi.ResourceOptions(
        parent=parent,
        provider=provider,
        depends_on=list(after),
        aliases=aliases,
        retain_on_delete=retain_on_delete or None,
        ignore_changes=ignore_changes or None,
    )


def pull_image(
    name: str,
    image: str,
    provider: docker.Provider,
    parent: pulumi.Resource,
    after: After = (),
    aliases: Aliases | None = None,
    retain_on_delete: bool = False,
) -> docker.RemoteImage:
    """The pinned image on the host; kept there when the resource goes so running containers keep it."""
    return docker.RemoteImage(
        name,
        name=image,
        keep_locally=True,
        opts=_on_host(provider, parent, after, aliases, retain_on_delete),
    )


def site_container(
    name: str,
    *,
    shared: ContainerSettings,
    image: docker.RemoteImage,
    container_name: str,
    memory_mb: int,
    stop_grace_seconds: int,
    healthcheck: str,
    host: HostAccess,
    parent: pulumi.Resource,
    after: After = (),
    extra_labels: dict[str, str] | None = None,
    ports: list[docker.ContainerPortArgs] | None = None,
    aliases: Aliases | None = None,
    retain_on_delete: bool = False,
    **settings,
) -> docker.Container:
    """A container with the site's shared hardening; `settings` adds the service's own arguments.

    `stop_grace_seconds`: without destroy_grace_seconds the provider stops a container it deletes or
    replaces with a timeout of 0, i.e. kills it (resourceDockerContainerDelete). `retain_on_delete`: for a
    host that is gone, whose resources leave the state without the provider being asked to reach it."""
    runs = shared.running
    return docker.Container(
        name,
        name=container_name,
        image=image.image_id,
        memory=memory_mb,
        # No swap (swap = memory). Left unset, the daemon stores twice the memory (moby
        # daemon/daemon_unix.go adaptContainerSettings), the provider reads that back, and every later
        # `up` shows a difference (memory_swap is Optional, not Computed).
        memory_swap=memory_mb,
        restart=RESTART_POLICY,
        destroy_grace_seconds=stop_grace_seconds,
        log_driver="json-file",
        log_opts={"max-size": shared.logs.max_size, "max-file": str(shared.logs.max_file)},
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=["CMD-SHELL", healthcheck], interval="30s", timeout="5s", retries=3, start_period="30s"
        ),
        labels=[
            docker.ContainerLabelArgs(label=label, value=value)
            for label, value in sorted({SITE_LABEL: shared.site_name, **(extra_labels or {})}.items())
        ],
        # A cold standby keeps its containers created but stopped until it is promoted: must_run false, so
        # the provider reads back neither ports nor a stopped state (resourceDockerContainerRead), and start
        # false. Promotion: must_run false -> true starts a container in place (resourceDockerContainerUpdate),
        # new ports replace it with one that starts. Ports are withheld for the way back: Update never stops a
        # container (must_run false "leaves the container alone"), so a site made cold again stops publishing
        # only because its ports change (ForceNew) and the replacement is created stopped.
        start=runs,
        must_run=runs,
        ports=(ports or None) if runs else None,
        opts=_on_host(host.provider, parent, after, aliases, retain_on_delete, _unaccounted_swap(host)),
        **settings,
    )


def _unaccounted_swap(host: HostAccess) -> list[str]:
    """The read-back to ignore on a host whose kernel does not account swap (swapLimit false). Its daemon
    stores every swap limit of a memory-limited container as -1, at create and at update (moby
    daemon/daemon_unix.go verifyPlatformContainerResources, "Memory limited without swap"); the provider
    stores what it reads (resourceDockerContainerRead), and memory_swap is Optional, not Computed
    (resource_docker_container.go, whose description says it "may compute to -1"), so every preview would
    show -1 => memory. An input of -1 would read back too, but it asks for unlimited swap, which the
    container-memory-limit policy refuses; so the input keeps saying "no swap" and the bridge drops the
    ignored attribute from the plan (pulumi-terraform-bridge pkg/tfshim/sdk-v2/instance_diff.go
    processIgnoreChanges), so a resize sends the -1 the state holds. Whether a host accounts swap is its
    config's to say: the program reaches no host while it runs (docker info's SwapLimit)."""
    return [] if host.config.swap_limit else ["memorySwap"]
