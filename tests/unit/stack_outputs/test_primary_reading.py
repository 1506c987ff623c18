"""A standby reads its primary's outputs through StackOutputs: a missing or ill-typed output of the primary is
refused by the gate, naming dr.primaryStack, the output and the primary's stack, before any resource exists."""

from __future__ import annotations

import pytest

from components.config import GateError
from components.config_loader import load_site_config
from components.deploy_gates import establish
from components.stack_outputs import StackOutputs
from tests.harness import pulumi_values
from tests.harness.dr_evaluations import PRIMARY_STACK, STANDBY_MASTER, streaming_primary

REQUIRED = [StackOutputs.name_of(field) for field, info in StackOutputs.model_fields.items() if info.is_required()]
EVERY = [StackOutputs.name_of(field) for field in StackOutputs.model_fields]
# Of the wrong type for every output: no string, number, boolean, address list, node or DNS record.
ILL_TYPED = [{"unexpected": 1}]


def primary_outputs() -> dict:
    """The real program's outputs for a primary that streams to the standby below, as the engine records them."""
    return {name: value for name, value in streaming_primary().exports.items() if value is not None}


def gate(outputs: dict, **dr: str):
    standby = load_site_config(
        pulumi_values(
            {
                "role": "standby",
                "siteName": "codenvy-dr",
                "master": {"address": STANDBY_MASTER, "hostWorkspaces": True, "ramGb": 8, "cpus": 2},
                "dr": {"primaryStack": PRIMARY_STACK, **dr},
            }
        )
    )
    return establish(standby, lambda stack: outputs if stack == PRIMARY_STACK else {}, stack="o/p/standby")


def refusal(outputs: dict) -> str:
    with pytest.raises(GateError) as caught:
        gate(outputs)
    ((key, message),) = caught.value.problems
    assert key == ("dr", "primaryStack")
    return message


def test_the_real_primarys_outputs_pass_the_gate():
    assert gate(primary_outputs()).primary.stack == PRIMARY_STACK


def test_the_required_outputs_are_what_every_deployed_site_has():
    assert set(REQUIRED) == {"siteName", "version", "managerAddress", "registry", "nodes"}


@pytest.mark.parametrize("name", REQUIRED)
def test_a_primary_missing_a_required_output_is_refused_naming_it_and_the_stack(name):
    outputs = primary_outputs()
    del outputs[name]
    message = refusal(outputs)
    assert f"{PRIMARY_STACK} has no output {name};" in message


@pytest.mark.parametrize("name", EVERY)
def test_an_ill_typed_primary_output_is_refused_naming_it_and_the_stack(name):
    message = refusal({**primary_outputs(), name: ILL_TYPED})
    assert f"the output {name} of {PRIMARY_STACK} is refused" in message


def test_every_ill_typed_output_is_named_at_once():
    message = refusal({**primary_outputs(), "url": 443, "hostname": ["a"]})
    assert "the output url of" in message and "the output hostname of" in message


@pytest.mark.parametrize("name", sorted(set(EVERY) - set(REQUIRED)))
def test_an_optional_output_may_be_absent(name):
    """An earlier release's primary lacks it, and an output that was None is not recorded at all. (A streaming
    standby's own gate needs the streaming outputs: this one takes the archive.)"""
    outputs = primary_outputs()
    outputs.pop(name, None)
    assert gate(outputs, replication="archive").primary is not None
