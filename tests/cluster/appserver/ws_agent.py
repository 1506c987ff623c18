"""The workspace agent started in the dev machine and pinged until it answers (WsAgentLauncher.java,
org.eclipse.che.ws-agent.script.sh)."""

from __future__ import annotations

import logging
import threading
import time
import typing
import urllib.error
import urllib.request

from docker_api import demultiplex
from errors import server_error

if typing.TYPE_CHECKING:
    from machines import Machine

LOG = logging.getLogger("codenvy.machines")  # the machine provider's log, whichever module writes
WS_AGENT_PORT = "4401/tcp"  # wsmaster/che-core-api-machine-shared/.../Constants.java:44
WS_AGENT_PATH = "/api"  # wsagent/agent/src/main/resources/org.eclipse.che.ws-agent.json: servers.wsagent
# The contract's agents service on the workspace network (upstream's script derives the URL from CHE_API, whose
# host is the site's public address, where HAProxy sends /agent-binaries to the same service).
AGENTS_URI = "http://codenvy-agents:9000"
# org.eclipse.che.ws-agent.script.sh:245-276, less the package installs: unpack the agent into ~/che/ws-agent.
AGENT_SCRIPT = """CHE_DIR=$HOME/che
rm -rf ${CHE_DIR}/ws-agent
mkdir -p ${CHE_DIR}/ws-agent
WORKSPACE_MASTER_URI=%(master)s
AGENT_BINARIES_URI=${WORKSPACE_MASTER_URI}/agent-binaries/ws-agent.tar.gz
echo "Workspace Agent will be downloaded from Workspace Master"
if command -v curl >/dev/null 2>&1; then
  curl -s ${AGENT_BINARIES_URI} | tar xzf - -C ${CHE_DIR}/ws-agent
else
  wget -qO- ${AGENT_BINARIES_URI} | tar xzf - -C ${CHE_DIR}/ws-agent
fi
"""


def _answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - the agent's own address
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


class WsAgentLauncher:
    """The workspace agent in the dev machine, pinged until it answers (WsAgentLauncher.java); part of
    MachineRuntime."""

    def _launch_agent(self, workspace_id: str, machine: Machine) -> None:
        """WsAgentLauncher.launch (WsAgentLauncher.java:95-154): the agent's script and run command as a process of
        the dev machine, then its server pinged until it answers 200, within max_start_time_ms."""
        script = AGENT_SCRIPT % {"master": AGENTS_URI} + self.configuration.text("machine.ws_agent.run_command")
        exec_id = self.docker.request(
            "POST",
            f"/containers/{machine.container_id}/exec",
            body={"AttachStdout": True, "AttachStderr": True, "Tty": False, "Cmd": ["/bin/sh", "-c", script]},
            expect=(201,),
        ).json()["Id"]
        stream = self.docker.request(
            "POST", f"/exec/{exec_id}/start", body={"Detach": False, "Tty": False}, stream=True, timeout=None
        )
        finished = threading.Event()

        def follow() -> None:
            try:
                for _, payload in demultiplex(stream.chunks()):
                    for line in payload.decode(errors="replace").splitlines():
                        machine.agent_output.append(line)
                        LOG.info("[%s ws-agent] %s", machine.container_name, line)
            except OSError:
                pass
            finally:
                finished.set()

        threading.Thread(target=follow, name=f"agent-{machine.id}", daemon=True).start()
        # WsAgentPingRequestFactory.java:61-87: the server's internal URL, with a trailing slash; on the contract's
        # network that is the machine's alias.
        url = f"http://{machine.name}.{workspace_id}:{WS_AGENT_PORT.split('/')[0]}{WS_AGENT_PATH}/"
        deadline = time.monotonic() + self.configuration.number("che.workspace.agent.dev.max_start_time_ms") / 1000
        delay = self.configuration.number("che.workspace.agent.dev.ping_delay_ms") / 1000
        threshold = self.configuration.number("che.workspace.agent.dev.ping_success_threshold")
        timeout = self.configuration.number("che.workspace.agent.dev.ping_conn_timeout_ms") / 1000
        successes = 0
        while time.monotonic() < deadline:
            successes = successes + 1 if _answers(url, timeout) else 0
            if successes >= threshold:
                return
            if finished.is_set():
                # Upstream keeps pinging until the timeout; an agent process that ended will never answer, so the
                # stand-in says so at once, with what it printed.
                output = "\n".join(machine.agent_output) or "(no output)"
                raise server_error(f"The workspace agent of machine '{machine.name}' exited: {output}")
            time.sleep(delay)
        LOG.error("Fail pinging ws agent with %s url in machine %s", url, machine.container_name)
        raise server_error(self.configuration.text("che.workspace.agent.dev.ping_timeout_error_msg"))
