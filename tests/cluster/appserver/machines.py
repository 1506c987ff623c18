"""Workspace machines as Docker containers placed through docker.client.daemon_url: start, agent, backup, snapshot.

MachineRuntime is assembled from its parts beside it: machine_images.py (the image, the snapshot),
machine_containers.py (the container), ws_agent.py (the agent) and project_backups.py (/projects).

Sources, eclipse/che 5.22.0 unless marked C: (codenvy/codenvy 5.22.0):
- plugins/plugin-docker/che-plugin-docker-machine/.../MachineProviderImpl.java ("MPI"): startService 312-403,
  prepareImage 429-452, createContainer 574-651, addStaticDockerConfiguration 653-670, addSystemWideContainerSettings
  672-698, setNonExitingContainerCommandIfNeeded 710-722, checkContainerIsRunning 724-731, cleanUpContainer 804-813;
  DockerInstance.java: saveToSnapshot 207-264, destroy 266-294; DockerContainerNameGenerator.java:50-54;
  CheEnvironmentEngine.java:680-700,914-955 (a snapshot that cannot be had: the recipe instead),1249;
  proxy/DockerBuildArgsProvider.java:29-46 (the build args).
- plugins/plugin-docker/che-plugin-docker-client/.../DockerConnector.java:806-925 (buildImage, in docker_api.py) and
  DockerRegistryAuthResolver.java:87-99,153-164 (X-Registry-Config).
- wsagent/agent/.../WsAgentLauncher.java:95-169 and org.eclipse.che.ws-agent.script.sh:245-283 (the agent).
- C: plugins/plugin-hosted/codenvy-machine-hosted/.../HostedMachineProviderImpl.java ("HMPI"): the machine image
  made by a build instead of a pull, for recipe images and snapshots alike (pullImage 185-243, "Origin pull image is
  unstable with swarm": a pull through the manager goes to every engine and fails when one of them does; a build is
  scheduled on one node, and the container then lands where its image is), the pulled snapshot removed 10 s later
  (252-268), the maintenance constraint among the build args (160-162), and one retry after 5 s of the image and
  container inspections (330-363); MaintenanceConstraintProvider.java:22-23.
- C: .../swarm/client/SwarmDockerConnector.java:62-68,107-154,211-221 (the manager's errors),
  CodenvyInContainerInfrastructureProvisioner.java:39,77-87 (/projects, /tmp),
  DockerEnvironmentBackupManager.java with dockerfiles/init/modules/codenvy/templates/rsyncbackup.sh.erb:28-63 and
  rsyncrestore.sh.erb (the project data kept on the master).

Where the contract (the program's deployment) differs from upstream, the stand-in follows the contract, and says
so beside the rule: machines join the site's workspace network che.docker.network instead of a network made per
start, the project data travels as tar archives through the Docker API instead of rsync over SSH into the
machine, and the agent is fetched from the agents service on that network.
"""

from __future__ import annotations

import logging
import re
import subprocess
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from configuration import Configuration
from docker_api import DockerClient, DockerError
from environments import MEBIBYTE, Service
from errors import server_error
from machine_containers import MachineContainers
from machine_images import (
    MAINTENANCE_CONSTRAINT,
    MachineImages,
    SnapshotImagesCleaner,
    SourceNotFoundError,
    snapshot_location,
)
from project_backups import ProjectBackups
from users import generate
from ws_agent import WsAgentLauncher

LOG = logging.getLogger("codenvy.machines")
MACHINE_IMAGE_PREFIX = "eclipse-che/"  # MPI:433: the machine's image is eclipse-che/<container name>


@dataclass
class Machine:
    """A started machine: what the runtime shows and what stopping it needs."""

    id: str
    name: str
    dev: bool
    env_name: str
    memory_bytes: int
    # The image the machine was made from: the recipe's, or the location of the snapshot restored.
    source: str
    # The image built for it (MPI:433), which its container runs and which goes with it (DockerInstance.java:289-293).
    image: str = ""
    container_id: str = ""
    container_name: str = ""
    node_name: str = ""
    node_address: str = ""
    status: str = "RUNNING"
    agent_output: deque = field(default_factory=lambda: deque(maxlen=40))

    def as_json(self, workspace_id: str, owner: str) -> dict:
        """A MachineDto: its config and, in runtime.properties, the container (DockerInstanceRuntimeInfo names)
        and the node the manager placed it on (node.*: the stand-in's, from the manager's inspect)."""
        return {
            "id": self.id,
            "workspaceId": workspace_id,
            "envName": self.env_name,
            "owner": owner,
            "status": self.status,
            "config": {
                "name": self.name,
                "dev": self.dev,
                "type": "docker",
                "limits": {"ram": self.memory_bytes // MEBIBYTE},
                "source": {"type": "image", "location": self.source},
            },
            "runtime": {
                "properties": {
                    "id": self.container_id,
                    "name": self.container_name,
                    "config.image": self.image,
                    "node.name": self.node_name,
                    "node.address": self.node_address,
                }
            },
        }


def container_name(workspace_id: str, machine_id: str, owner: str, machine: str) -> str:
    """DockerContainerNameGenerator.java:50-54: lower-case, only [a-z0-9_-]."""
    return re.sub(r"[^a-z0-9_-]", "", f"{workspace_id}_{machine_id}_{owner}_{machine}".lower())


def machine_image_name(container: str) -> str:
    """MPI:433: eclipse-che/<container name> (the name is lower-case already, DockerContainerNameGenerator)."""
    return MACHINE_IMAGE_PREFIX + container


class MachineRuntime(MachineImages, MachineContainers, WsAgentLauncher, ProjectBackups):
    """Starts and stops a workspace's machines through one Docker API endpoint."""

    def __init__(self, configuration: Configuration, docker: DockerClient) -> None:
        self.configuration = configuration
        self.docker = docker
        self.network = configuration.text("che.docker.network")
        self.fs = Path(configuration.text("che.user.workspaces.storage"))
        self.machines_dir = Path(configuration.text("machine.project.location"))
        self.snapshot_cleaner = SnapshotImagesCleaner(docker)
        # DockerBuildArgsProvider.java:29-46: the workspace proxies (HttpProxyEnvVariableProvider and the others give
        # "<name>=<value>" only when set), and C: HMPI:160-162 the maintenance constraint.
        self.build_args = {
            name: value
            for name, key in (("http_proxy", "che.workspace.http_proxy"), ("https_proxy", "che.workspace.https_proxy"),
                              ("no_proxy", "che.workspace.no_proxy"))
            if (value := self.configuration.text(key))
        }  # fmt: skip
        self.build_args[MAINTENANCE_CONSTRAINT[0]] = MAINTENANCE_CONSTRAINT[1]

    def shutdown(self) -> None:
        self.snapshot_cleaner.shutdown()

    def start(
        self, workspace_id: str, owner: str, token: str, env_name: str, services: list[Service], snapshots: dict
    ) -> list[Machine]:
        """Every machine in order; if one fails, the ones started are removed and the failure is raised
        (CheEnvironmentEngine: a failed start destroys the environment)."""
        started: list[Machine] = []
        try:
            for service in services:
                started.append(self._start_machine(workspace_id, owner, token, env_name, service, snapshots))
        except BaseException:
            for machine in reversed(started):
                self._destroy(machine)
            raise
        return started

    def _start_machine(
        self, workspace_id: str, owner: str, token: str, env_name: str, service: Service, snapshots: dict
    ) -> Machine:
        if service.build:
            raise server_error(f"Machine '{service.name}': building images from a context is not modelled here")
        # CheEnvironmentEngine.java:680-682: no limit (or 0) means che.workspace.default_memory_mb.
        memory = service.mem_limit or self.configuration.number("che.workspace.default_memory_mb") * MEBIBYTE
        machine = Machine(generate("machine"), service.name, service.dev, env_name, memory, service.image or "")
        machine.container_name = container_name(workspace_id, machine.id, owner, service.name)
        machine.image = machine_image_name(machine.container_name)
        try:
            self._start_service(workspace_id, machine, service, token, snapshots.get(service.name))
        except SourceNotFoundError as error:
            raise server_error(str(error)) from None  # CheEnvironmentEngine.java:952-953,968-1005
        except DockerError as error:
            raise server_error(str(error)) from None
        try:
            if service.dev:
                self._launch_agent(workspace_id, machine)
        except DockerError as error:
            self._destroy(machine)
            raise server_error(str(error)) from None
        except BaseException:
            self._destroy(machine)
            raise
        LOG.info(
            "machine %s of %s runs as %s on %s", machine.name, workspace_id, machine.container_name, machine.node_name
        )
        return machine

    def _start_service(
        self, workspace_id: str, machine: Machine, service: Service, token: str, snapshot: dict | None
    ) -> None:
        """MPI.startService (MPI:353-402): the image, the container, its start. A failure removes the container
        (cleanUpContainer, MPI:397-401), not the image built for it: upstream has no instance yet to destroy."""
        if snapshot:
            # CheEnvironmentEngine.java:914-955: restored from the snapshot's location; a snapshot that cannot be had
            # is logged and the machine made from the recipe instead.
            machine.source = snapshot_location(snapshot)
            try:
                self._pull_image(machine)
            except SourceNotFoundError as error:
                LOG.error(
                    "The snapshot of the image for the machine %s of the workspace %s not found. The machine will be "
                    "created from origin source. Details: %s", machine.name, workspace_id, error,
                )  # fmt: skip
                machine.source = service.image or ""
                self._pull_image(machine)
        else:
            self._pull_image(machine)
        try:
            machine.container_id = self._create_container(workspace_id, machine, service, token)
            if service.dev:
                self._restore_projects(workspace_id, machine)
            self.docker.request("POST", f"/containers/{machine.container_id}/start", expect=(204, 304))
            self._check_running(machine)
        except BaseException:
            self._remove_container(machine)
            raise

    def stop(self, workspace_id: str, machines: list[Machine]) -> None:
        """Each machine destroyed (DockerInstance.destroy), the dev machine's projects saved first."""
        for machine in reversed(machines):
            if machine.dev:
                try:
                    self._backup_projects(workspace_id, machine)
                except (DockerError, OSError, subprocess.CalledProcessError) as error:
                    LOG.error("could not save the projects of %s: %s", workspace_id, error)
            self._destroy(machine)
