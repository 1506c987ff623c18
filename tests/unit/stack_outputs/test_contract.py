"""StackOutputs is the whole contract: what the real program exports (under mocks) is exactly its fields, reads
back through it, and is what the README's outputs table documents."""

from __future__ import annotations

import functools
import re

import pytest

from components.stack_outputs import StackOutputs, exported
from tests.harness import PROJECT_DIR, STACKS, Evaluation, evaluate
from tests.harness.dr_evaluations import following_standby, streaming_primary

NAMES = {StackOutputs.name_of(field) for field in StackOutputs.model_fields}


@functools.cache
def evaluations() -> dict[str, Evaluation]:
    shipped = {stack: evaluate(stack) for stack in STACKS}
    return {**shipped, "streaming primary": streaming_primary(), "streaming standby": following_standby()}


CASES = ["dev", "dr", "sim", "streaming primary", "streaming standby"]


def recorded(evaluation: Evaluation) -> dict:
    """The outputs as the engine records them: the SDK drops the ones that are None."""
    return {name: value for name, value in evaluation.exports.items() if value is not None}


def test_the_cases_cover_every_shipped_stack():
    assert set(STACKS) <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_every_exported_output_is_a_field_and_every_field_is_exported(case):
    assert set(evaluations()[case].exports) == NAMES


@pytest.mark.parametrize("case", CASES)
def test_what_the_program_exports_reads_back_through_the_contract(case):
    read = StackOutputs.read(case, recorded(evaluations()[case]))
    assert read.site_name == evaluations()[case].exports["siteName"]


def test_every_value_reads_back_as_it_was_exported():
    """All but `nodes`, which is read as the capacities parity compares."""
    exports = recorded(streaming_primary())
    read = StackOutputs.read("primary", exports).model_dump(by_alias=True, exclude={"nodes"})
    assert read == {name: exports.get(name) for name in NAMES - {"nodes"}}


def is_secret(field: str) -> bool:
    extra = StackOutputs.model_fields[field].json_schema_extra
    return isinstance(extra, dict) and extra.get("secret") is True


def test_the_secret_fields_are_the_secret_exports():
    marked = {StackOutputs.name_of(field) for field in StackOutputs.model_fields if is_secret(field)}
    assert marked == streaming_primary().secret_exports


def readme_outputs() -> dict[str, tuple[bool, str]]:
    """The README's outputs table: each output, whether it is marked secret, and what it says it holds."""
    page = (PROJECT_DIR / "README.md").read_text()
    table = page.partition("<!-- outputs:start -->")[2].partition("<!-- outputs:end -->")[0]
    rows = re.findall(r"^\| `([A-Za-z]+)` \| (yes|no) \| (.+) \|$", table, re.MULTILINE)
    return {name: (marked == "yes", meaning) for name, marked, meaning in rows}


def test_the_readme_describes_each_output_as_the_contract_does():
    """The README's table is a copy users read: its secret marks and descriptions are the fields' own."""
    assert readme_outputs() == {
        StackOutputs.name_of(field): (is_secret(field), info.description)
        for field, info in StackOutputs.model_fields.items()
    }


def values() -> dict[str, object]:
    return {field: f"value of {field}" for field in StackOutputs.model_fields}


def test_exported_names_each_output_as_users_see_it():
    assert exported(**values())["siteName"] == "value of site_name"


def test_exported_refuses_a_field_left_out():
    given = values()
    del given["dns_record"]
    with pytest.raises(TypeError, match="dns_record"):
        exported(**given)


def test_exported_refuses_a_name_that_is_no_field():
    with pytest.raises(TypeError, match="site_url"):
        exported(**values(), site_url="https://example")
