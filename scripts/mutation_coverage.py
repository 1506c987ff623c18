"""A pytest plugin for `make mutate`: records which test runs each line of components/ and policies/.

Loaded with `-p scripts.mutation_coverage` (a `-p` plugin starts before any conftest file is imported) and
MUTATION_COVERAGE_FILE naming the data file. Each test's setup, call and teardown are recorded under its node
id, so a module-scoped fixture's lines belong to the first test that needs it (running that test runs the
fixture again). Lines run while modules are imported are recorded under IMPORT_CONTEXT: no single test owns
them.
"""

from __future__ import annotations

import os

import pytest

IMPORT_CONTEXT = "import"
BETWEEN_CONTEXT = "between"
_recorder = None


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Start before the lanes' conftest files are imported: they import components/ (tests/harness), and a
    module-level line run before the recorder starts would look as if no test ran it."""
    global _recorder
    import coverage  # `make mutate`'s own dependency: the lanes import this module's names without it

    _recorder = coverage.Coverage(
        data_file=os.environ["MUTATION_COVERAGE_FILE"], source=["components", "policies"], config_file=False
    )
    _recorder.start()
    _recorder.switch_context(IMPORT_CONTEXT)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    _recorder.switch_context(item.nodeid)
    yield
    _recorder.switch_context(BETWEEN_CONTEXT)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _recorder is not None:
        _recorder.stop()
        _recorder.save()
