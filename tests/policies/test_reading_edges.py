"""Edges of the pack's readings: the `local` log driver's default file size, a container whose image is not
known yet, a script's lines that assign nothing."""

from __future__ import annotations

import shlex
from dataclasses import replace

from codenvy_policies.program_facts import _script_params

from tests.harness import evaluate
from tests.policies.pack import resource_args, stack_args, violations

CONTAINER = "docker:index/container:Container"
LOG_LIMITS = "container-log-limits"
MiB = 1024 * 1024


def log_violations(log_opts: dict[str, str]) -> list[str]:
    props = {"name": "app", "image": "app:1.0", "logDriver": "local", "logOpts": log_opts}
    return violations(resource_args(CONTAINER, props), only=LOG_LIMITS).get(LOG_LIMITS, [])


def test_the_local_drivers_default_file_size_counts_toward_the_bound():
    # moby's `local` driver keeps files of 20 MB unless max-size says (daemon/logger/local/local.go): a hundred of
    # them is 2 GB, past the pack's bound.
    assert log_violations({"max-file": "100"}) != []


def test_a_container_whose_image_is_not_known_yet_is_not_taken_for_the_registry():
    # In a preview a container's image may be an ID the engine computes only on apply: no image to compare.
    sim = evaluate("sim")

    def unknown_image(resource):
        if resource.type != CONTAINER or resource.name == "codenvy-registry-container":
            return resource
        props = {**(resource.outputs or resource.inputs), "image": None}
        return replace(resource, inputs=props, outputs=props)

    previewed = type(sim)(resources=[unknown_image(r) for r in sim.resources])
    assert violations(stack_args(previewed), only="registry-image-serves-tls") == {}


def test_a_scripts_lines_that_assign_nothing_are_no_parameters():
    script = "set -euo pipefail\nSITE='codenvy'\ncat <<SQL\nSELECT 1;\nSQL\n"
    assert _script_params({"create": shlex.join(["bash", "-c", script])}) == {"SITE": "codenvy"}
