"""How the engine and each provider turn old state and new inputs into a step: pure functions, no engines.

Each rule names the upstream file it mirrors. Facts carry over from those files; their code does not."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

COMMAND_TYPES = frozenset({"command:local:Command", "command:remote:Command"})
CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
DOCKER_TYPES = frozenset({CONTAINER, NETWORK, VOLUME, REMOTE_IMAGE})

StepKind = Literal["create", "same", "update", "replace", "delete"]

# kreuzwerker/terraform-provider-docker v4.5.0 internal/provider/resource_docker_container.go
# (resourceDockerContainer): the attributes without ForceNew; every other one replaces the container.
CONTAINER_UPDATABLE = frozenset(
    {"rm", "start", "wait", "waitTimeout", "attach", "logs", "mustRun", "restart", "maxRetryCount", "removeVolumes",
     "tmpfs", "destroyGraceSeconds", "memory", "memoryReservation", "memorySwap", "cpuShares", "cpuSet", "healthcheck",
     "init", "cpuPeriod", "cpuQuota", "containerReadRefreshTimeoutMilliseconds"}
)  # fmt: skip
# Optional+Computed there (an absent input keeps what the provider read back) and computed-only outputs.
CONTAINER_COMPUTED = frozenset(
    {"hostname", "command", "entrypoints", "securityOpts", "runtime", "platform", "stopSignal", "stopTimeout", "envs",
     "labels", "shmSize", "logDriver", "ipcMode", "init", "healthcheck", "user", "workingDir", "exitCode",
     "containerLogs", "bridge", "networkData", "image"}
)  # fmt: skip
# Schema defaults, which the bridge's Check puts into the inputs when the program leaves them out.
CONTAINER_DEFAULTS = {"start": True, "mustRun": True, "rm": False, "wait": False, "waitTimeout": 60, "restart": "no",
                      "removeVolumes": True}  # fmt: skip
PORT_DEFAULTS = {"ip": "0.0.0.0", "protocol": "tcp"}  # noqa: S104 - the provider's default binding


def with_container_defaults(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """A container's inputs as the bridge's Check leaves them: schema defaults filled in."""
    ports = [{**PORT_DEFAULTS, **port} for port in inputs.get("ports") or []]
    return {**CONTAINER_DEFAULTS, **inputs, **({"ports": ports} if ports else {})}


# internal/provider/resource_docker_network.go: every attribute is ForceNew (the resource has no Update);
# options, internal, ipam_config and driver are Optional+Computed. resource_docker_volume.go: likewise.
NETWORK_COMPUTED = frozenset({"driver", "options", "ipamConfigs", "ipamDriver", "scope", "internal"})
VOLUME_COMPUTED = frozenset({"driver", "driverOpts", "mountpoint"})
# internal/provider/resource_docker_image.go (RemoteImage): name, pull triggers and the build force a
# new image; keep_locally and force_remove only change what delete does.
IMAGE_UPDATABLE = frozenset({"keepLocally", "forceRemove"})
IMAGE_COMPUTED = frozenset({"imageId", "repoDigest"})
COMPUTED = {CONTAINER: CONTAINER_COMPUTED, NETWORK: NETWORK_COMPUTED, VOLUME: VOLUME_COMPUTED,
            REMOTE_IMAGE: IMAGE_COMPUTED}  # fmt: skip
# TF sets (TypeSet) compare without order; lists (TypeList) in order.
# Ports are a list, but suppressIfPortsDidNotChangeForMigrationV0ToV1 compares them without order.
CONTAINER_SETS = frozenset({"envs", "labels", "volumes", "uploads", "networksAdvanced", "capabilities", "dns", "ports"})


@dataclass(frozen=True)
class Diff:
    """What a provider's Diff answers: which keys changed, and whether the change replaces the resource."""

    kind: StepKind
    keys: tuple[str, ...] = ()
    delete_before_replace: bool = False


def normalized(value: Any, as_set: bool = False) -> Any:
    """Numbers compare by value (the SDK sends 5 as 5.0), sets without order, empty as absent."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: normalized(item) for key, item in sorted(value.items()) if not _empty(item)}
    if isinstance(value, list):
        items = [normalized(item) for item in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True)) if as_set else items
    return value


def _empty(value: Any) -> bool:
    """The zero values a terraform SDKv2 provider does not tell from an unset attribute."""
    return value is None or value is False or value in ([], {}, "", 0)


def changed_keys(
    old: Mapping[str, Any],
    new: Mapping[str, Any],
    *,
    computed: Iterable[str] = (),
    sets: Iterable[str] = (),
) -> tuple[str, ...]:
    """Keys whose values differ; a key absent from `new` that the provider computes is no difference."""
    computed, sets = frozenset(computed), frozenset(sets)
    keys = []
    for key in sorted(set(old) | set(new)):
        if key.startswith("__"):
            continue
        if key not in new and key in computed:
            continue
        before, after = old.get(key), new.get(key)
        if _empty(before) and _empty(after):
            continue
        if normalized(before, key in sets) != normalized(after, key in sets):
            keys.append(key)
    return tuple(keys)


def diff(
    resource_type: str,
    old_inputs: Mapping[str, Any],
    old_outputs: Mapping[str, Any],
    new_inputs: Mapping[str, Any],
    *,
    ignore_changes: Iterable[str] = (),
    replace_on_changes: Iterable[str] = (),
    delete_before_replace: bool = False,
    now: datetime | None = None,
) -> Diff:
    """The step for a resource that exists in state and is registered again (`now`: the provider's clock)."""
    keys, replaces, provider_dbr = _provider_diff(resource_type, old_inputs, old_outputs, new_inputs)
    if resource_type in CERTIFICATE_TYPES and now is not None and ready_for_renewal(old_outputs, new_inputs, now):
        keys, replaces = (*keys, RENEWAL_KEY), {*replaces, RENEWAL_KEY}
    # pulumi/pulumi pkg/resource/deploy/step_generator.go (applyReplaceOnChanges, ignoreChanges through
    # processIgnoreChanges): ignored keys are taken from the old inputs before the diff; replaceOnChanges
    # turns a change of those keys into a replacement.
    ignored = {key.split(".")[0].split("[")[0] for key in ignore_changes}
    keys = tuple(key for key in keys if key not in ignored)
    replaces = {key for key in replaces if key in keys} | {key for key in keys if key in set(replace_on_changes)}
    if not keys:
        return Diff("same")
    if replaces:
        return Diff("replace", keys, delete_before_replace or provider_dbr)
    return Diff("update", keys)


def _provider_diff(
    resource_type: str, old_inputs: Mapping[str, Any], old_outputs: Mapping[str, Any], new: Mapping[str, Any]
) -> tuple[tuple[str, ...], set[str], bool]:
    """(changed keys, the keys among them that force a replacement, delete-before-replace)."""
    if resource_type in COMMAND_TYPES:
        # pulumi/pulumi-command provider/pkg/provider/{local,remote}/command*.go (Diff through infer's
        # default diff of old and new inputs; `triggers` is marked replaceOnChanges in the schema).
        keys = changed_keys(old_inputs, new)
        return keys, {"triggers"}, False
    if resource_type == CONTAINER:
        # The bridge diffs the configuration (with the schema's defaults) against the state the provider
        # last stored (pulumi/pulumi-terraform-bridge pkg/tfbridge/provider.go Diff); pulumi-docker
        # provider/resources.go gives docker_container DeleteBeforeReplace.
        keys = changed_keys(old_outputs, with_container_defaults(new), computed=CONTAINER_COMPUTED, sets=CONTAINER_SETS)
        return keys, set(keys) - CONTAINER_UPDATABLE, True
    if resource_type in (NETWORK, VOLUME):
        # bridge pkg/tfbridge/schema.go nameRequiresDeleteBeforeReplace: an explicit `name` cannot exist
        # twice, so the old one is deleted first.
        computed = NETWORK_COMPUTED if resource_type == NETWORK else VOLUME_COMPUTED
        keys = changed_keys(old_outputs, new, computed=computed, sets={"labels"})
        return keys, set(keys), bool(new.get("name"))
    if resource_type == REMOTE_IMAGE:
        keys = changed_keys(old_inputs, new)
        return keys, set(keys) - IMAGE_UPDATABLE, False
    if resource_type.startswith(("tls:", "random:")):
        # pulumi/pulumi-tls and pulumi/pulumi-random (bridged): every input of these resources replaces it but
        # a certificate's early_renewal_hours, which has no RequiresReplace (terraform-provider-tls
        # internal/provider/resource_{self,locally}_signed_cert.go Schema): it updates in place.
        keys = changed_keys(old_inputs, new)
        return keys, set(keys) - {"earlyRenewalHours"}, False
    # Providers and anything else: an input change updates in place.
    return changed_keys(old_inputs, new), set(), False


def deletion_order(snapshot: list[str], dependencies: Mapping[str, Iterable[str]], doomed: set[str]) -> list[str]:
    """The doomed resources, each before anything it depends on.

    pulumi/pulumi pkg/resource/deploy/step_generator.go (GenerateDeletes) walks the old snapshot, which
    is in dependency order, backwards; pkg/resource/graph/dependency_graph.go gives the edges (parent,
    provider and dependencies)."""
    position = {urn: index for index, urn in enumerate(snapshot)}
    order: list[str] = []
    seen: set[str] = set()

    def visit(urn: str) -> None:
        if urn in seen:
            return
        seen.add(urn)
        for dependent in sorted(doomed, key=lambda item: -position.get(item, -1)):
            if urn in set(dependencies.get(dependent, ())):
                visit(dependent)
        order.append(urn)

    for urn in sorted(doomed, key=lambda item: -position.get(item, -1)):
        visit(urn)
    return order


CERTIFICATE_TYPES = frozenset(
    {"tls:index/selfSignedCert:SelfSignedCert", "tls:index/locallySignedCert:LocallySignedCert"}
)
RENEWAL_KEY = "readyForRenewal"


def ready_for_renewal(old_outputs: Mapping[str, Any], new_inputs: Mapping[str, Any], now: datetime) -> bool:
    """hashicorp/terraform-provider-tls internal/provider/common_cert.go modifyPlanIfCertificateReadyForRenewal:
    once the clock passes the stored validity_end_time less the planned early_renewal_hours, the plan marks
    ready_for_renewal unknown and RequiresReplace: `pulumi up` shows the certificate as a replace."""
    end = old_outputs.get("validityEndTime")
    if not end:
        return False
    hours = int(new_inputs.get("earlyRenewalHours") or 0)
    return datetime.fromisoformat(end) - timedelta(hours=hours) <= now
