"""Which outputs the stand-in engine hands back as secrets, as pulumi/pulumi pkg/resource/deploy/
step_executor.go marks them after each step: those in additionalSecretOutputs, and those whose input of the
same name was secret. Small programs, no Docker."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_command as command
import pulumi_random as random
import pytest

from tests.engine.command_provider import CommandProvider
from tests.engine.docker_provider import ProviderError
from tests.engine.engine import Backend, Engine


def no_docker(provider_inputs):
    raise ProviderError("these programs use no Docker")


@pytest.fixture
def exported(tmp_path) -> Callable[[Callable[[], None]], set[str]]:
    """The secret exports of one `up` of a program."""

    def run(program: Callable[[], None]) -> set[str]:
        commands = CommandProvider(log=lambda line: None, local_cwd=tmp_path)
        engine = Engine("test", Backend(), no_docker, commands, program=program)
        return engine.up().evaluation.secret_exports

    return run


def test_an_output_whose_input_was_secret_is_secret(exported):
    def program():
        ran = command.local.Command("c", create="true", environment=pulumi.Output.secret({"TOKEN": "t"}))
        pulumi.export("environment", ran.environment)

    assert exported(program) == {"environment"}


def test_an_output_of_a_command_without_secret_inputs_is_not_secret(exported):
    def program():
        ran = command.local.Command("c", create="echo hi", environment={"A": "b"})
        pulumi.export("stdout", ran.stdout)
        pulumi.export("environment", ran.environment)

    assert exported(program) == set()


def test_an_output_the_provider_sdk_lists_as_secret_is_secret(exported):
    def program():
        pulumi.export("password", random.RandomPassword("p", length=16).result)

    assert exported(program) == {"password"}
