"""How the Docker API is reached and how a host's daemon is configured: providers over unix://, ssh:// or
verified TLS; no plugins; no insecure registry, http:// mirror or unverified TCP listener in a host command."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from pulumi_policy import Policy, ResourceValidationArgs

from .common import COMMANDS, DOCKER_PROVIDER, PLUGIN, resource_policy

PLAINTEXT_DOCKER_API = re.compile(r"tcp://[^\s\"']+:2375\b")
# In a host command, after _daemon_text's decoding: any address on 2375 (dockerd reads `0.0.0.0:2375` and
# `:2375` as tcp://), any tcp:// listener (its port defaults to 2375 without TLS, so only a number tells),
# and the insecure-registry setting in either spelling (daemon.json's plural key, dockerd's singular flag).
PLAINTEXT_PORT = re.compile(r":0*2375(?!\d)")
TCP_LISTENER = re.compile(r"tcp://(\[[^\]]*\]|[^\s/:,;|&)\]]*)(?::(\w*))?")
INSECURE_REGISTRY = re.compile(r"insecure[\s_-]*registr")
# dockerd's -H/--host value and daemon.json's hosts list: a bare host:port is a tcp:// listener too.
HOST_FLAG = re.compile(r"(?:^|\s)(?:-h|--host)(?:\s*=\s*|\s+)(\S*:\d+)")
HOSTS_KEY = re.compile(r"hosts\s*:\s*\[([^\]]*)\]")
NOT_TCP = ("unix://", "fd://", "npipe://", "ssh://")
# --tlsverify (daemon.json "tlsverify": true, the client's DOCKER_TLS_VERIFY): a listener that requires
# client certificates; --tls alone encrypts but lets anyone in.
TLS_VERIFY = re.compile(r"tls[\s_-]*verify(?!\s*[:=]\s*(?:false|0)\b)")
# daemon.json's registry-mirrors list and dockerd's --registry-mirror flag, with what follows each.
REGISTRY_MIRRORS = re.compile(r"registry[\s_-]*mirrors?\s*[:=]?\s*(\[[^\]]*\]|\S+)")


def _check_provider_host(args: ResourceValidationArgs) -> str | None:
    # terraform-provider-docker internal/provider/provider.go: a context (or DOCKER_CONTEXT) overrides host,
    # and an absent host is DOCKER_HOST; both are read from whoever runs pulumi, out of the pack's sight.
    context = args.props.get("context") or os.environ.get("DOCKER_CONTEXT")
    if context:
        source = "" if args.props.get("context") else " (from DOCKER_CONTEXT)"
        return f"Docker context '{context}'{source} overrides host; drop it and name the host (ssh:// or TLS)"
    if not args.props.get("host") and os.environ.get("DOCKER_HOST"):
        return "no host, so the provider takes DOCKER_HOST from whoever runs pulumi; name the host (ssh:// or TLS)"
    host = args.props.get("host") or "unix:///var/run/docker.sock"
    if host.startswith(("unix://", "ssh://")):
        return None
    has_tls = args.props.get("certPath") or all(
        args.props.get(key) for key in ("caMaterial", "certMaterial", "keyMaterial")
    )
    if host.startswith("tcp://") and has_tls and not PLAINTEXT_DOCKER_API.search(host):
        return None
    return f"Docker API at '{host}' without TLS; use unix://, ssh://user@host, or tcp://host:2376 with certificates"


def _check_no_plugin(args: ResourceValidationArgs) -> str | None:
    return (
        f"installs the Docker plugin '{args.props.get('name')}', which runs as root with the privileges it asks "
        "for; drop it and run the function as a site container under this pack's rules"
    )


def _daemon_text(props: Mapping[str, Any]) -> str:
    """Everything a Command runs or feeds its script, with the spellings that hide a setting folded: JSON's
    \\uXXXX and \\/ escapes, shell quotes and backslashes, and case (dockerd reads daemon.json keys in any case)."""
    environment = props.get("environment") or {}
    parts = [props.get(key) for key in ("create", "update", "delete", "stdin")]
    parts += list(environment.values()) if isinstance(environment, Mapping) else []
    text = "\n".join(str(part) for part in parts if part)
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), text)
    return re.sub(r"[\\\"']", "", text).lower()


def _tcp_listeners(text: str) -> list[str]:
    """The TCP endpoints a command names: tcp:// URLs, and bare host:port values of -H/--host and hosts."""
    listeners = [match.group(0) for match in TCP_LISTENER.finditer(text)]
    listeners += HOST_FLAG.findall(text)
    for hosts in HOSTS_KEY.findall(text):
        listeners += [
            host.strip() for host in hosts.split(",") if host.strip() and not host.strip().startswith(NOT_TCP)
        ]
    return listeners


def _plaintext_listener(text: str) -> bool:
    if PLAINTEXT_PORT.search(text):
        return True
    if any(not (port or "").isdigit() for _, port in TCP_LISTENER.findall(text)):
        return True
    # On any port, a listener without client verification hands the engine to whoever connects.
    return bool(_tcp_listeners(text)) and not TLS_VERIFY.search(text)


def _plain_http_mirror(text: str) -> bool:
    return any("http://" in mirrors for mirrors in REGISTRY_MIRRORS.findall(text))


def _check_daemon_config(args: ResourceValidationArgs) -> str | None:
    text = _daemon_text(args.props)
    if INSECURE_REGISTRY.search(text):
        return (
            "configures an insecure registry (insecure-registries, --insecure-registry); drop it and trust the "
            "registry's CA in /etc/docker/certs.d"
        )
    if _plain_http_mirror(text):
        return "pulls through a registry mirror over http:// (registry-mirrors); use an https:// mirror"
    if _plaintext_listener(text):
        return (
            "opens the plaintext Docker API (tcp://…:2375, a tcp:// without a port, or a TCP listener without "
            "--tlsverify); use ssh:// or TLS on 2376 with --tlsverify"
        )
    return None


POLICIES: list[Policy] = [
    resource_policy(
        "docker-api-over-tls-or-ssh",
        "Docker providers name their host: unix://, ssh://, or tcp:// with TLS material; no Docker context, never "
        "DOCKER_HOST, never plaintext.",
        (DOCKER_PROVIDER,),
        _check_provider_host,
    ),
    resource_policy(
        "no-docker-plugin",
        "No Docker plugin is installed: plugins run as root with whatever privileges they request.",
        (PLUGIN,),
        _check_no_plugin,
    ),
    resource_policy(
        "daemon-config-secure",
        "No host command renders insecure-registries or an http:// registry mirror, or opens the Docker API on "
        "TCP without TLS client verification.",
        COMMANDS,
        _check_daemon_config,
    ),
]
