"""A workspace machine's container: created, checked running, removed with its image
(MachineProviderImpl.java, C: SwarmDockerConnector.java, DockerInstance.java destroy)."""

from __future__ import annotations

import logging
import re
import time
import typing

from docker_api import DockerError, image_path
from environments import Service
from errors import server_error
from machine_images import out_of_resources
from project_backups import PROJECTS
from ws_agent import WS_AGENT_PATH, WS_AGENT_PORT

if typing.TYPE_CHECKING:
    from machines import Machine

LOG = logging.getLogger("codenvy.machines")  # the machine provider's log, whichever module writes
SWARM_WAIT_BEFORE_REPEAT_SECONDS = 5  # C: HMPI:80
# C: SwarmDockerConnector.java:62-66,124-145: swarm not seeing an image yet; createContainer retries once after 5 s.
IMAGE_NOT_FOUND = re.compile(
    r"^Error: image .* not found.*|.*repository .* not found: does not exist or no pull access.*", re.S
)
CREATE_RETRY_SECONDS = 5
# MPI:129-150: commands after which a container would exit at once; they are replaced by `tail -f /dev/null`.
BAD_COMMANDS = (["/bin/bash"], ["/bin/sh"], ["bash"], ["sh"], ["/bin/sh", "-c", "/bin/sh"],
                ["/bin/sh", "-c", "/bin/bash"], ["/bin/sh", "-c", "bash"], ["/bin/sh", "-c", "sh"])  # fmt: skip


def _list(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


class MachineContainers:
    """A machine's container: created, checked running, removed (MPI, DockerInstance.destroy); part
    of MachineRuntime."""

    def _create_container(self, workspace_id: str, machine: Machine, service: Service, token: str) -> str:
        environment = dict(service.environment)
        # MPI:689-692 and the dev machine's token (MPI:683); CHE_API (ApiEndpointEnvVariableProvider, bound to
        # che.api by C: OnPremisesIdeApiModule.java:444-446); the workspace proxies (HttpProxyEnvVariableProvider).
        environment.update(
            CHE_WORKSPACE_ID=workspace_id,
            CHE_MACHINE_NAME=machine.name,
            CHE_IS_DEV_MACHINE=str(machine.dev).lower(),
            CHE_API=self.configuration.text("che.api"),
        )
        for variable, name in (("http_proxy", "che.workspace.http_proxy"), ("https_proxy", "che.workspace.https_proxy"),
                               ("no_proxy", "che.workspace.no_proxy")):  # fmt: skip
            if self.configuration.text(name):
                environment[variable] = self.configuration.text(name)
        exposed = list(service.expose)
        labels = dict(service.labels)
        # C: CodenvyInContainerInfrastructureProvisioner.java:39,85-87: the machine's /tmp stays out of snapshots.
        volumes = {"/tmp": {}}  # noqa: S108 - a path inside the machine
        if machine.dev:
            environment["USER_TOKEN"] = token
            # The ws-agent's server (org.eclipse.che.ws-agent.json), exposed and labelled (ServerEvaluationStrategy).
            exposed.append(WS_AGENT_PORT)
            labels.update({f"che:server:{WS_AGENT_PORT}:ref": "wsagent", f"che:server:{WS_AGENT_PORT}:protocol": "http",
                           f"che:server:{WS_AGENT_PORT}:path": WS_AGENT_PATH})  # fmt: skip
            volumes[PROJECTS] = {}  # C: CodenvyInContainerInfrastructureProvisioner.java:77-84
        # No upstream counterpart: labels the lane finds machines by.
        labels.update({"che:workspace:id": workspace_id, "che:machine:name": machine.name})
        # No upstream counterpart: the machine goes where its image was just built. Upstream sends no affinity and
        # counts on swarm's retry with image affinity after the chosen engine fails to pull eclipse-che/<name>
        # (docker/swarm cluster/swarm/cluster.go createContainer), which happens only when the engine reaches
        # Docker Hub and hears "repository does not exist"; on engines without Docker Hub, as the lane's and any
        # site's cut off from the internet, the pull fails otherwise, no pattern matches, and the start fails.
        affinity = f"affinity:image=={machine.image}"
        swap = self.configuration.number("che.docker.swap")
        host_config = {
            "Memory": machine.memory_bytes,
            "MemorySwap": -1 if swap == -1 else machine.memory_bytes * swap,  # MPI:583-584
            "NetworkMode": self.network,
            "Links": service.links or None,
            # MPI:653-670 (addStaticDockerConfiguration).
            "PidsLimit": self.configuration.number("che.docker.pids_limit"),
            "ExtraHosts": _list(self.configuration.optional("che.workspace.hosts")),
            "Privileged": self.configuration.flag("che.docker.privileged"),
            "SecurityOpt": _list(self.configuration.optional("che.docker.securityopt")),
            "PublishAllPorts": True,
            "Dns": _list(self.configuration.optional("che.dns.resolvers")),
        }
        config = {
            "Image": machine.image,
            # docker/swarm cluster/config.go: swarm takes an affinity:… entry out of Env as a scheduling rule.
            "Env": [*(f"{name}={value}" for name, value in environment.items()), affinity],
            "ExposedPorts": {port: {} for port in dict.fromkeys(exposed)},
            "Labels": labels,
            "Volumes": volumes,
            "Cmd": service.command,
            "Entrypoint": service.entrypoint,
            "HostConfig": host_config,
            # MPI:588-593: the machine's name as its alias; on the shared workspace network the contract makes it
            # <machine>.<workspace id>, so that machines of different workspaces do not answer for each other.
            "NetworkingConfig": {"EndpointsConfig": {self.network: {"Aliases": [f"{machine.name}.{workspace_id}"]}}},
        }
        self._keep_running(config)
        query = {"name": machine.container_name}
        try:
            try:
                created = self.docker.request("POST", "/containers/create", query=query, body=config, expect=(201,))
            except DockerError as error:
                if error.status != 500 or not IMAGE_NOT_FOUND.match(error.origin):
                    raise
                time.sleep(CREATE_RETRY_SECONDS)
                created = self.docker.request("POST", "/containers/create", query=query, body=config, expect=(201,))
        except DockerError as error:
            full = out_of_resources(error)
            if full is None:
                raise
            LOG.error("Failed to start %s container with %s RAM from %s image. Cause: %s", machine.container_name,
                      machine.memory_bytes, machine.image, error.origin)  # fmt: skip
            raise server_error(full) from None
        return created.json()["Id"]

    def _keep_running(self, config: dict) -> None:
        """MPI:710-722: an image whose command would exit at once runs `tail -f /dev/null` instead. C: HMPI:330-346:
        an image the manager does not see yet (404) is looked at once more, 5 s later."""
        if config["Cmd"] or config["Entrypoint"]:
            return
        path = f"/images/{image_path(config['Image'])}/json"
        try:
            image = self.docker.request("GET", path).json().get("Config") or {}
        except DockerError as error:
            if error.status != 404:
                raise
            time.sleep(SWARM_WAIT_BEFORE_REPEAT_SECONDS)
            image = self.docker.request("GET", path).json().get("Config") or {}
        entrypoint, command = image.get("Entrypoint"), image.get("Cmd")
        if (entrypoint is None or entrypoint in BAD_COMMANDS) and (command is None or command in BAD_COMMANDS):
            config["Cmd"], config["Entrypoint"] = ["tail", "-f", "/dev/null"], None

    def _check_running(self, machine: Machine) -> None:
        """MPI:361-363 checkContainerIsRunning, C: HMPI:348-363 once more 5 s later for a container the manager does
        not see yet (404); the node comes from the manager's inspect (Swarm adds "Node")."""
        path = f"/containers/{machine.container_id}/json"
        try:
            info = self.docker.request("GET", path).json()
        except DockerError as error:
            if error.status != 404:
                raise
            time.sleep(SWARM_WAIT_BEFORE_REPEAT_SECONDS)
            info = self.docker.request("GET", path).json()
        if not (info.get("State") or {}).get("Running"):
            raise server_error(
                "We detected that a machine exited unexpectedly. This may be caused by a container in interactive "
                "mode or a container that requires additional arguments to start. Please check the container recipe."
            )
        node = info.get("Node") or {}
        machine.node_name = node.get("Name") or self.docker.host
        machine.node_address = node.get("Addr") or node.get("IP") or f"{self.docker.host}:{self.docker.port}"

    def _remove_container(self, machine: Machine) -> None:
        """The container with its volumes, by force (MPI:804-813 cleanUpContainer, DockerInstance.java:281-283)."""
        if machine.container_id:
            try:
                self.docker.request("DELETE", f"/containers/{machine.container_id}", query={"force": True, "v": True})
            except DockerError as error:
                if error.status != 404:
                    LOG.error("could not remove %s: %s", machine.container_name, error)

    def _destroy(self, machine: Machine) -> None:
        """DockerInstance.destroy (DockerInstance.java:266-294): the container, then the machine's image
        (eclipse-che/<container name>, not by force: only that tag goes when another names the same image); a
        failure to remove the image is only logged."""
        self._remove_container(machine)
        if machine.image:
            try:
                self.docker.request("DELETE", f"/images/{image_path(machine.image)}", query={"force": False})
            except (DockerError, OSError) as error:
                LOG.error("IOException during destroy(). Ignoring. (%s: %s)", machine.image, error)
        machine.status = "STOPPED"
