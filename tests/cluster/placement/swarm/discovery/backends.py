"""The discovery schemes swarm registers; this stand-in implements file:// only
(vendor/github.com/docker/docker/pkg/discovery/backends.go)."""

from __future__ import annotations

from ..logrus import FatalError


def discovery_path(uri: str) -> str:
    """vendor/github.com/docker/docker/pkg/discovery/backends.go:29-37,98-106 and main.go:4-7: the schemes swarm
    registers; this stand-in implements file:// only."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        scheme, rest = "nodes", uri
    if scheme == "file":
        return rest
    if scheme in ("nodes", "token", "consul", "etcd", "zk"):
        raise FatalError(f"{scheme} discovery is not implemented by this placement stand-in, only file:// is: {uri}")
    raise FatalError("discovery service not supported")
