"""The application server's memory limit, refused by its key when the JVM could not start inside it."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from components.config_loader import load_site_config

# The server's Tomcat (Che's assembly, which Codenvy 5 builds on) starts its JVM with an initial heap of 256 MiB
# unless JAVA_OPTS says otherwise (eclipse-che/che-lib che-tomcat8-slf4j-logback/src/assembly/bin/setenv.sh,
# -Xms256m): a smaller container limit could not hold it.
JVM_INITIAL_HEAP_MB = 256


def memory(server_mb: int) -> dict[str, str]:
    return {"codenvy-infra:memory": json.dumps({"serverMb": server_mb})}


def test_a_server_limit_below_the_jvms_initial_heap_is_refused_by_its_key():
    with pytest.raises(ConfigError, match=r"codenvy-infra:memory\.serverMb"):
        load_site_config(memory(JVM_INITIAL_HEAP_MB - 1))


def test_a_server_limit_of_the_jvms_initial_heap_is_accepted():
    assert load_site_config(memory(JVM_INITIAL_HEAP_MB)).memory.server_mb == JVM_INITIAL_HEAP_MB
