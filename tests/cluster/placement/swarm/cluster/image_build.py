"""A build as the engine API client sends it (vendor/github.com/docker/docker/client/image_build.go)."""

from __future__ import annotations

import base64

from ..golang import go_marshal
from ..vendored import version_less
from .httpclient import EngineError


def _sorted_json(value: object) -> str:
    """json.Marshal of a Go map (keys sorted) or slice; nil is null."""
    if isinstance(value, dict):
        value = dict(sorted(value.items()))
    return go_marshal(value)


def image_build_query(options: dict, client_version: str) -> list[tuple[str, str]]:
    """vendor/github.com/docker/docker/client/image_build.go:47-124 (imageBuildOptionsToQuery), as url.Values.Encode
    sends it: keys sorted. rm is always sent (0 unless asked for); squash needs API 1.25."""
    query: dict[str, list[str]] = {"t": list(options.get("Tags") or [])}
    for field, key in (
        ("SuppressOutput", "q"),
        ("NoCache", "nocache"),
        ("ForceRemove", "forcerm"),
        ("PullParent", "pull"),
    ):
        if options.get(field):
            query[key] = ["1"]
    if options.get("RemoteContext"):
        query["remote"] = [options["RemoteContext"]]
    query["rm"] = ["1" if options.get("Remove") else "0"]
    if options.get("Squash"):
        if version_less(client_version, "1.25"):
            raise EngineError(
                f'"squash" requires API version 1.25, but the Docker daemon API version is {client_version}'
            )
        query["squash"] = ["1"]
    isolation = str(options.get("Isolation") or "")
    if isolation and isolation.lower() != "default":  # api/types/container/host_config.go IsDefault
        query["isolation"] = [isolation]
    for key, field in (("cpusetcpus", "CPUSetCPUs"), ("networkmode", "NetworkMode"), ("cpusetmems", "CPUSetMems")):
        query[key] = [str(options.get(field) or "")]
    for key, field in (
        ("cpushares", "CPUShares"),
        ("cpuquota", "CPUQuota"),
        ("cpuperiod", "CPUPeriod"),
        ("memory", "Memory"),
        ("memswap", "MemorySwap"),
    ):
        query[key] = [str(options.get(field) or 0)]
    query["cgroupparent"] = [str(options.get("CgroupParent") or "")]
    query["shmsize"] = [str(options.get("ShmSize") or 0)]
    query["dockerfile"] = [str(options.get("Dockerfile") or "")]
    query["target"] = [""]
    query["ulimits"] = [_sorted_json(options.get("Ulimits"))]
    query["buildargs"] = [_sorted_json(options.get("BuildArgs"))]
    query["labels"] = [_sorted_json(options.get("Labels"))]
    query["cachefrom"] = [_sorted_json(options.get("CacheFrom"))]
    return [(key, value) for key in sorted(query) for value in query[key]]


def registry_config_header(options: dict) -> str:
    """image_build.go:26-32: json.Marshal(AuthConfigs), base64url; each types.AuthConfig with its empty fields left
    out (vendor/github.com/docker/docker/api/types/auth.go)."""
    auths = options.get("AuthConfigs")
    if auths is not None:
        auths = {key: {f: v for f, v in auth.items() if v} for key, auth in auths.items()}
    return base64.urlsafe_b64encode(_sorted_json(auths).encode()).decode()
