"""The dev and dr stacks evaluated under mocks with the previous and the primary stack's outputs supplied as the engine
would read them, and the script parameters the tests read."""

from __future__ import annotations

import functools

import pytest

from components.config import ConfigError
from tests.harness import Evaluation, evaluate, full_stack_name, script_of, script_parameters

DEV = full_stack_name("dev")


def refused(stack: str, overrides: dict, outputs: dict) -> tuple[str, Evaluation]:
    attempt = Evaluation()
    with pytest.raises(ConfigError) as caught:
        evaluate(stack, overrides, stack_outputs=outputs, into=attempt)
    return str(caught.value), attempt


def parameters(registration, key: str = "create") -> dict[str, str]:
    return script_parameters(script_of(registration, key))


def installed_parameters(tool) -> dict[str, str]:
    """The parameters of the script an install Command puts on the host."""
    return script_parameters(parameters(tool)["CONTENT"])


def cron_words(entry: str) -> tuple[list[str], str]:
    """A crontab line's five schedule fields and the command it runs."""
    words = entry.split()
    return words[:5], words[5]


# Configurations the program refuses, each with the stack outputs it is checked against.
REFUSED = {
    "downgrade": ("dev", {"codenvy-infra:version": "5.21.0"}, {DEV: {"version": "5.22.0"}}),
    "rename": ("dev", {"codenvy-infra:siteName": "renamed"}, {DEV: {"siteName": "codenvy"}}),
    "major-jump": ("dev", {"codenvy-infra:version": "6.0.0"}, {DEV: {"version": "5.22.0"}}),
    "unscheduled-backups": ("sim", {"codenvy-infra:backup": {"schedule": None}}, {}),
}


@functools.cache
def refusal(case: str) -> tuple[str, Evaluation]:
    return refused(*REFUSED[case])
