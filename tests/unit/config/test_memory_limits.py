"""The application server's memory limit: the smallest one accepted still holds the heap the server is given."""

from __future__ import annotations

import json

import pytest

from components.app_server import AppServerSettings
from components.config import ConfigError
from components.config_loader import load_site_config
from components.server_config import HEAP_SHARE_OF_LIMIT, server_environment


def site(server_mb: int):
    return load_site_config({"codenvy-infra:memory": json.dumps({"serverMb": server_mb})})


def smallest_accepted() -> int:
    for server_mb in range(1, 4097):
        try:
            site(server_mb)
        except ConfigError:
            continue
        return server_mb
    raise AssertionError("no server memory limit up to 4 GiB is accepted")


def heap_options(server_mb: int) -> dict[str, int]:
    """-Xms and -Xmx of the server's JAVA_OPTS, in MiB."""
    (java_opts,) = [
        line
        for line in server_environment(AppServerSettings.of(site(server_mb)).server)
        if line.startswith("JAVA_OPTS=")
    ]
    options = java_opts.split("=", 1)[1].split()
    return {o[:4]: int(o[4:].removesuffix("m")) for o in options if o.startswith(("-Xms", "-Xmx"))}


def test_the_smallest_server_limit_accepted_leaves_the_jvm_its_share_beside_the_heap():
    # Beside its heap the JVM needs metaspace, thread stacks and buffers, for which the program keeps the limit's
    # last quarter (HEAP_SHARE_OF_LIMIT): a heap past that is killed by the container's limit under load.
    limit = smallest_accepted()
    heap = heap_options(limit)
    assert max(heap.values()) <= limit * HEAP_SHARE_OF_LIMIT, (limit, heap)


def test_a_server_limit_below_the_smallest_is_refused_by_its_key():
    with pytest.raises(ConfigError, match=r"codenvy-infra:memory\.serverMb"):
        site(smallest_accepted() - 1)
