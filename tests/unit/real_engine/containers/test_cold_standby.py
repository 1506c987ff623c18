"""What the real engine and the docker provider (pulumi-docker 5.2, bridging kreuzwerker/terraform-provider-docker
v4.5.0) make of the containers the program registers: a cold standby's stopped containers read back as registered,
and promotion runs them."""

from __future__ import annotations

from typing import Any

from tests import harness
from tests.engine.rules import with_container_defaults
from tests.harness import evaluate
from tests.unit.real_engine.containers.read_back import DEV, changes, containers, state_after_create


def runs_after_update(state: dict[str, Any], inputs: dict[str, Any]) -> bool:
    """Whether the container runs after the step to `inputs`: a replacement is created anew, and
    resourceDockerContainerUpdate starts a container whose must_run goes false -> true when start is set."""
    step, wanted = changes(state, inputs), with_container_defaults(inputs)
    if step.kind == "replace" or (not state["mustRun"] and wanted["mustRun"]):
        return wanted["start"]
    return state["start"] and state["mustRun"]


def cold(promote: bool = False) -> harness.Evaluation:
    return evaluate("dr", {"codenvy-infra:dr": {"primaryStack": DEV, "standby": "cold", "promote": promote}})


def test_cold_standby_containers_read_back_as_registered():
    for name, container in containers(cold()).items():
        assert changes(state_after_create(container.inputs), container.inputs).kind == "same", name


def test_promotion_runs_every_cold_container():
    before, after = containers(cold()), containers(cold(promote=True))
    assert set(before) == set(after)
    for name, container in before.items():
        assert runs_after_update(state_after_create(container.inputs), after[name].inputs), name


def test_a_site_made_cold_again_publishes_no_port():
    """resourceDockerContainerUpdate starts a container whose must_run goes false -> true and never stops one
    ("If false, Terraform leaves the container alone", the schema's must_run): a published container of a site
    turned cold stops only by being replaced, which a change of its ports (ForceNew) does."""
    before, after = containers(cold(promote=True)), containers(cold())
    published = {name: c for name, c in before.items() if c.inputs.get("ports")}
    assert published
    running = [
        name for name, c in published.items() if runs_after_update(state_after_create(c.inputs), after[name].inputs)
    ]
    assert running == []


def test_active_sites_containers_read_back_as_registered():
    for stack in ("dev", "dr", "sim"):
        for name, container in containers(evaluate(stack)).items():
            assert changes(state_after_create(container.inputs), container.inputs).kind == "same", f"{stack}: {name}"
