"""Fixtures of the whole-program tests: every shipped stack file, evaluated once."""

from __future__ import annotations

import pytest

from tests.harness import STACKS, Evaluation
from tests.unit.program.shipped import shipped


@pytest.fixture(scope="module", params=STACKS)
def stack(request) -> tuple[str, Evaluation]:
    return request.param, shipped(request.param)
