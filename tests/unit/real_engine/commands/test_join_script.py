"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the join script
hands the token to the Docker API and to nothing else."""

from __future__ import annotations

import json

from tests.harness import rerender
from tests.unit.real_engine.commands.fake_host import FAKE_DOCKER, FakeHost, shipped

FAKE_CURL = """
out=""; prev=""
for argument in "$@"; do [ "$prev" = -o ] && out=$argument; prev=$argument; done
cat > "$FAKE/curl-stdin"
printf '%s' "${CURL_BODY:-}" > "$out"
printf '%s' "${CURL_CODE:-200}"
"""


def join_on(host: FakeHost) -> tuple[str, str]:
    host.fake("docker", FAKE_DOCKER)
    host.fake("curl", FAKE_CURL)
    join = shipped("sim").named("codenvy-ws-node2-swarm-join")
    return rerender(join, state_dir=str(host.root / "etc-codenvy")), "SWMTKN-1-0123456789abcdef-secret"


def test_the_join_gives_the_token_to_the_docker_api(host):
    script, token = join_on(host)
    result = host.run(script, stdin=token + "\n")
    assert result.returncode == 0, result.stderr
    assert json.loads((host.root / "curl-stdin").read_text())["JoinToken"] == token


def test_the_join_prints_the_node_id_alone(host):
    script, token = join_on(host)
    assert host.run(script, stdin=token + "\n").stdout.strip() == "node-xyz"


def test_no_process_of_the_join_gets_the_token_as_an_argument(host):
    script, token = join_on(host)
    assert host.run(script, stdin=token + "\n").returncode == 0
    assert host.ran("curl"), "the join went to the API"
    assert not [argv for argv in host.argv_lists() if any(token in part for part in argv)]


def test_the_join_prints_no_token(host):
    script, token = join_on(host)
    result = host.run(script, stdin=token + "\n")
    assert token not in result.stdout + result.stderr


def test_a_failed_join_does_not_print_the_token(host):
    script, token = join_on(host)
    body = json.dumps({"message": f"invalid join token {token}"})
    result = host.run(script, stdin=token + "\n", CURL_CODE="500", CURL_BODY=body)
    assert result.returncode == 1
    assert "could not join" in result.stderr and token not in result.stdout + result.stderr
