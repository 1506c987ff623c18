"""What the program renders for each shipped stack's hosts and services, read from what it registers under mocks:
the files a reviewer compares with the golden copies under tests/unit/golden/<stack>/.

Secrets (the values the program marks as additional secret outputs, such as its generated passwords) are replaced by
a placeholder naming the resource and output that made them, so a golden file holds no secret and only changes when
the rendering does."""

from __future__ import annotations

import posixpath
from pathlib import Path

from components.load_balancer import HAPROXY_CFG_PATH
from components.master_layout import CONF_DIR, INSTANCE_DIR
from tests.harness import Evaluation, container_file, evaluate, script_of, script_parameters

GOLDEN_DIR = Path(__file__).parent
# The shipped stack files: the primary, its standby and the multi-host sim stack (the only one with managed hosts).
GOLDEN_STACKS = ("dev", "dr", "sim")
UPDATE_COMMAND = "make golden"
CONTAINER = "docker:index/container:Container"
# The server's renderings without key material: its properties, the admin's initial credentials, Tomcat's
# server.xml, and the init step's environment file.
SERVER_FILES = (
    f"{CONF_DIR}/general.properties",
    f"{CONF_DIR}/machine.properties",
    f"{CONF_DIR}/admin.properties",
    "/opt/codenvy-tomcat/conf/server.xml",
    f"{INSTANCE_DIR}/codenvy.env",
)


def secret_placeholders(evaluation: Evaluation) -> dict[str, str]:
    """Each secret output's value -> a stable placeholder naming where it comes from."""
    return {
        value: f"<secret {registration.name}.{key}>"
        for registration in evaluation.resources
        for key in registration.options.additional_secret_outputs
        if isinstance(value := registration.outputs.get(key), str) and value
    }


def redacted(text: str, placeholders: dict[str, str]) -> str:
    # Longest first, so a secret that contains another is replaced whole.
    for value in sorted(placeholders, key=len, reverse=True):
        text = text.replace(value, placeholders[value])
    return text


def one_named(evaluation: Evaluation, suffix: str):
    (registration,) = [r for r in evaluation.of_type(CONTAINER) if r.name.endswith(suffix)]
    return registration


def server_renderings(evaluation: Evaluation) -> dict[str, str]:
    server = one_named(evaluation, "-master-server")
    files = {f"server/{posixpath.basename(path)}": container_file(server, path) for path in SERVER_FILES}
    # The environment the provider hands the daemon, one NAME=value a line in the order the program gives it.
    files["server/environment"] = "".join(f"{item}\n" for item in server.inputs["envs"])
    return files


def host_renderings(evaluation: Evaluation) -> dict[str, str]:
    """Each managed host's daemon.json and nftables ruleset (the dev and dr stacks manage none)."""
    files = {}
    for command in evaluation.resources:
        if command.type != "command:remote:Command":
            continue
        for suffix, parameter, file in (
            ("-daemon-config", "DAEMON_JSON", "daemon.json"),
            ("-firewall", "RULESET", "ruleset.nft"),
        ):
            if command.name.endswith(suffix):
                host = command.name.removesuffix(suffix).rsplit("-", 1)[-1]
                files[f"hosts/{host}/{file}"] = script_parameters(script_of(command))[parameter]
    return files


def renderings(stack: str) -> dict[str, str]:
    """Path under the stack's golden directory -> the text the program renders there."""
    evaluation = evaluate(stack)
    files = {
        "load_balancer/haproxy.cfg": container_file(one_named(evaluation, "-master-haproxy"), HAPROXY_CFG_PATH),
        **server_renderings(evaluation),
        **host_renderings(evaluation),
    }
    placeholders = secret_placeholders(evaluation)
    return {path: redacted(text, placeholders) for path, text in sorted(files.items())}


def stored(stack: str) -> dict[str, Path]:
    """Path under the stack's golden directory -> the golden file there."""
    directory = GOLDEN_DIR / stack
    return {path.relative_to(directory).as_posix(): path for path in sorted(directory.rglob("*")) if path.is_file()}
