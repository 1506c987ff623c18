"""A host of fake binaries for each test that runs the program's scripts."""

from __future__ import annotations

import pytest

from tests.unit.real_engine.commands.fake_host import FakeHost


@pytest.fixture
def host(tmp_path) -> FakeHost:
    return FakeHost(tmp_path)
