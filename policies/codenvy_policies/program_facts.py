"""What the pack copies from the program, which it may not import: the markers the program sets on purpose, its
internal ports and config keys, and the few rules the pack must read as the program writes them.
tests/policies/test_copied_facts.py fails when one drifts from the program's."""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from typing import Any

# The seeds' internal ports plus Swarm's: reachable by cluster members only, never published to the world.
# The same set as components.config.INTERNAL_PORTS.
INTERNAL_PORTS = frozenset({2181, 2375, 2376, 2377, 4789, 5432, 7946})
# The label the program sets on the registry container (components/registry.py): the registry is what carries
# it, whatever its variables say; these are the variables that give it TLS.
REGISTRY_LABEL = ("codenvy.service", "registry")
REGISTRY_TLS_VARIABLES = ("REGISTRY_HTTP_TLS_CERTIFICATE", "REGISTRY_HTTP_TLS_KEY")
# The repositories of the registry's image (Docker Hub's registry, and distribution's own): a registry run
# from one is held to TLS with or without the label.
REGISTRY_REPOSITORIES = frozenset({"registry", "distribution"})
# The label the program sets on each host's engine relay (components/engine_relay.py): the one container that
# may hold the engine's socket, and only behind a socat TLS listener that requires a client certificate.
RELAY_LABEL = ("codenvy.service", "engine-relay")
RELAY_SOCKET = "/run/docker.sock"
# What the server container declares about its site (components/app_server.py server_labels, and the
# site label every site container carries): the stack policies find each site's server by its version.
SITE_LABEL = "codenvy.site"
VERSION_LABEL = "codenvy.version"
ROLE_LABEL = "codenvy.role"
ENVIRONMENT_LABEL = "codenvy.environment"
STANDBY_ROLE = "standby"
# The roles a site declares (config role); a server without one of them escapes the standby rule.
ROLES = ("primary", STANDBY_ROLE)
# The one environment the program lets run without scheduled backups (config: backup.schedule may be null).
UNSCHEDULED_ENVIRONMENT = "dev"
# The shipped stacks whose files say environment dev (Pulumi.dev.yaml, Pulumi.dr.yaml): the label alone is the
# program's word, so a server labelled dev goes without backups only in a stack the pack config lists.
DEV_STACKS = ("dev", "dr")
# The parameter a swarm-membership script (components/scripts/swarm_init.sh, swarm_join.sh) declares its role by.
SWARM_ROLE_PARAM = "SWARM_ROLE"
MANAGER_ROLE = "manager"
# The parameters of the master's placement-nodes command (components/scripts/placement_nodes.sh) that
# declare a site's workspace hosts with their capacity, and the site they belong to.
NODE_SET_PARAM = "NODE_SET"
SITE_PARAM = "SITE_NAME"
# The parameters of a schedule command (components/scripts/schedule.sh): the crontab line it keeps under a
# marker, none when the entry is empty. A site's backups keep theirs under the marker codenvy-backup-<site>.
MARKER_PARAM = "MARKER"
ENTRY_PARAM = "ENTRY"
BACKUP_MARKER_PREFIX = "codenvy-backup-"
# The outputs a primary exports that its standby's StackReference is compared by (components/deploy_gates.py).
PRIMARY_VERSION_OUTPUT = "version"
PRIMARY_NODES_OUTPUT = "nodes"
# The program's config keys the messages name as the fix.
BACKUP_SCHEDULE_KEY = "codenvy-infra:backup.schedule"
REGISTRY_TLS_KEY = "codenvy-infra:registry.tls"
PRIMARY_STACK_KEY = "codenvy-infra:dr.primaryStack"


def _unpinned(image: str | None) -> bool:
    """The program's pin rule (components/config/fields.py _pinned_image), without its reference grammar:
    Docker refuses a malformed reference before it runs anything. Stricter than the program: a tag with no
    digit (latest in any case, stable, mainline, alpine) names a channel that moves, not a version."""
    if not image or image.startswith("sha256:") or "@sha256:" in image:
        return False  # unknown until apply, an image ID, or a digest
    repository, _, tag = image.rpartition(":")
    return not repository or "/" in tag or not any(char.isdigit() for char in tag)


def _script_params(props: Mapping[str, Any]) -> dict[str, str]:
    """The one-line parameters a rendered script assigns (`KEY='value'`) in a Command's `bash -c` create: what
    components/script_templates.py render_script and as_command write."""
    try:
        argv = shlex.split(str(props.get("create") or ""))
    except ValueError:
        return {}
    if len(argv) < 3 or argv[:2] != ["bash", "-c"]:
        return {}
    params = {}
    for line in argv[2].splitlines():
        key, assigns, value = line.partition("=")
        if not (assigns and key.isupper() and key.replace("_", "").isalnum()):
            continue
        try:
            words = shlex.split(value)
        except ValueError:
            continue  # a value spanning lines; not one of the parameters read here
        if len(words) <= 1:
            params[key] = words[0] if words else ""
    return params


def _capacities(nodes: Iterable[Mapping[str, Any]]) -> list[tuple[float, int]]:
    """(RAM GiB, CPUs) of each node, sorted: what components/deploy_gates.py capacities compares a standby by."""
    return sorted((float(node["ramGb"]), int(node["cpus"])) for node in nodes)


def _backup_marker(site_name: str) -> str:
    """The crontab marker a site's backup schedule keeps its line under."""
    return f"{BACKUP_MARKER_PREFIX}{site_name}"
