"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the engine logs
what they print and quotes their text in errors, so no secret may be in either."""

from __future__ import annotations

import json

from tests.unit.real_engine.commands.fake_host import commands, secret_run, token_of


def test_no_secret_is_in_the_text_of_any_command():
    """A failed command's error quotes its whole text, and the text is a process argument on the host."""
    sim, secrets = secret_run()
    assert len(secrets) > 4
    for command in commands(sim):
        text = json.dumps({key: command.inputs.get(key) for key in ("create", "update", "delete", "triggers")})
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{command.name} carries a secret in its command text"


def test_a_command_whose_stdout_is_secret_does_not_log_it():
    sim, _ = secret_run()
    secret_stdout = [c for c in commands(sim) if "stdout" in c.options.additional_secret_outputs]
    assert {c.name for c in secret_stdout} >= {"codenvy-ws-node2-join-token", "codenvy-ws-node3-join-token"}
    for command in secret_stdout:
        assert command.inputs.get("logging") == "stderr", command.name


def test_the_join_token_travels_as_a_secret_on_stdin():
    sim, _ = secret_run()
    join = sim.named("codenvy-ws-node2-swarm-join")
    assert "stdin" in join.secret_inputs
    assert join.inputs["stdin"] == token_of("codenvy-ws-node2-join-token")
