"""Workspace machines as Docker containers placed through docker.client.daemon_url: start, agent, backup, snapshot.

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

import base64
import datetime
import io
import json
import logging
import re
import shutil
import subprocess
import tarfile
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from configuration import Configuration
from docker_api import DockerClient, DockerError, ImageNotFoundError, demultiplex, image_path
from environments import MEBIBYTE, Service
from errors import server_error
from users import generate

LOG = logging.getLogger("codenvy.machines")
LATEST = "latest"
COMMIT_VISIBLE_AFTER_S = 2  # DockerInstance.java:221
SNAPSHOT_PREFIX = "machine_snapshot_"  # MPI:117
SNAPSHOT_LOCATION = re.compile(r"(.+/)?" + SNAPSHOT_PREFIX + ".+")  # MPI:119-120
MACHINE_IMAGE_PREFIX = "eclipse-che/"  # MPI:433: the machine's image is eclipse-che/<container name>
# C: MaintenanceConstraintProvider.java:22-23, added to the build args by HMPI:160-162: Swarm builds on no node
# labelled com.codenvy.node-state=maintenance.
MAINTENANCE_CONSTRAINT = ("constraint:com.codenvy.node-state!", "maintenance")
SWARM_WAIT_BEFORE_REPEAT_SECONDS = 5  # C: HMPI:80
SNAPSHOT_CLEAN_DELAY_SECONDS = 10  # C: HMPI:255-267
SNAPSHOT_CLEANER_SHUTDOWN_SECONDS = 30  # C: HMPI:365-379 (finalizeSnapshotImagesCleaner)
# DockerRegistryAuthResolver.java:33-44: the names of Docker Hub, keyed as its v1 URL in X-Registry-Config.
DOCKER_HUB_SYNONYMS = ("", "docker.io", "index.docker.io", "https://index.docker.io", "https://index.docker.io/v1",
                       "https://index.docker.io/v1/")  # fmt: skip
DOCKER_HUB = "https://index.docker.io/v1/"
# C: SwarmDockerConnector.java:67-68,211-221: the manager's refusal and what the user is told instead.
OUT_OF_RESOURCES = "no resources available to schedule container"
OUT_OF_RESOURCES_MESSAGE = "The system is out of resources. Please contact your system admin."
# C: SwarmDockerConnector.java:62-66,124-145: swarm not seeing an image yet; createContainer retries once after 5 s.
IMAGE_NOT_FOUND = re.compile(
    r"^Error: image .* not found.*|.*repository .* not found: does not exist or no pull access.*", re.S
)
CREATE_RETRY_SECONDS = 5
# MPI:129-150: commands after which a container would exit at once; they are replaced by `tail -f /dev/null`.
BAD_COMMANDS = (["/bin/bash"], ["/bin/sh"], ["bash"], ["sh"], ["/bin/sh", "-c", "/bin/sh"],
                ["/bin/sh", "-c", "/bin/bash"], ["/bin/sh", "-c", "bash"], ["/bin/sh", "-c", "sh"])  # fmt: skip
WS_AGENT_PORT = "4401/tcp"  # wsmaster/che-core-api-machine-shared/.../Constants.java:44
WS_AGENT_PATH = "/api"  # wsagent/agent/src/main/resources/org.eclipse.che.ws-agent.json: servers.wsagent
PROJECTS = "/projects"  # C: codenvy-api-configuration.properties: che.workspace.projects.storage
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
# rsyncbackup.sh.erb:28-43 and rsyncrestore.sh.erb: the options the master's copies of /projects keep.
RSYNC_BACKUP = ["--quiet", "--recursive", "--times", "--partial", "--delete", "--links", "--safe-links", "--owner",
                "--group", "--numeric-ids", "--perms", "--include=.codenvy/", "--filter=:- .gitignore"]  # fmt: skip
RSYNC_RESTORE = [option for option in RSYNC_BACKUP if option != "--partial"]


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


def snapshot_location(snapshot: dict) -> str:
    """[<registry>/]<repository>:<tag>, the snapshot's location without its digest (DockerMachineSource.java:
    181-203 with CheEnvironmentEngine.java:923-928)."""
    registry = snapshot.get("registry")
    return (f"{registry}/" if registry else "") + f"{snapshot['repository']}:{snapshot.get('tag') or LATEST}"


class SourceNotFoundError(Exception):
    """che's SourceNotFoundException: the machine's image could not be had (C: HMPI:219-228)."""


class SnapshotImagesCleaner:
    """C: HMPI:164-170,245-268,365-379: a pulled snapshot removed 10 s after the build that pulled it ("Sometimes swarm
    cannot delete image after its pull during a few seconds"), a missing one quietly; at shutdown the removals
    still due are waited for, up to 30 s (ScheduledThreadPoolExecutor runs delayed tasks after shutdown())."""

    def __init__(self, docker: DockerClient) -> None:
        self.docker = docker
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()

    def schedule(self, image: str) -> None:
        timer = threading.Timer(SNAPSHOT_CLEAN_DELAY_SECONDS, self._remove, args=(image,))
        timer.daemon = True
        with self._lock:
            self._timers = [t for t in self._timers if t.is_alive()] + [timer]
        timer.start()

    def _remove(self, image: str) -> None:
        # docker.removeImage(image): RemoveImageParams.create(image), no force parameter.
        try:
            self.docker.request("DELETE", f"/images/{image_path(image)}")
            LOG.info("removed the pulled snapshot %s", image)
        except DockerError as error:
            if "No such image" not in str(error):
                LOG.error("Failed to delete pulled snapshot: %s", image)
        except OSError:
            LOG.error("Failed to delete pulled snapshot: %s", image)

    def shutdown(self) -> None:
        deadline = time.monotonic() + SNAPSHOT_CLEANER_SHUTDOWN_SECONDS
        with self._lock:
            timers = list(self._timers)
        for timer in timers:
            timer.join(max(0.0, deadline - time.monotonic()))
        for timer in timers:
            timer.cancel()  # shutdownNow: what is still due is dropped


def out_of_resources(error: DockerError) -> str | None:
    """C: SwarmDockerConnector.decorateMessage (SwarmDockerConnector.java:211-221), which createContainer applies:
    the manager's refusal for want of room as upstream words it, followed here by the manager's own text."""
    if OUT_OF_RESOURCES in error.origin:
        return f"{OUT_OF_RESOURCES_MESSAGE} Cause: {error.origin}"
    return None


class MachineRuntime:
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

    # -- registry credentials ----------------------------------------------------------------------------------

    def registry_auth(self, registry: str | None) -> str:
        """X-Registry-Auth for `registry`: base64 of {"username","password"} from che.docker.registry.auth.*, or of
        {} (DockerRegistryAuthResolver.java:65-78)."""
        credentials = self.configuration.registries.get(registry or "")
        return base64.b64encode(json.dumps(dict(credentials) if credentials else {}).encode()).decode()

    def registry_config(self) -> str:
        """X-Registry-Config: base64 of {<registry URL>: {"username","password"}} for every registry of
        che.docker.registry.auth.* (DockerRegistryAuthResolver.getXRegistryConfigHeaderValue, 87-99: the configured
        ones, then the user's own, none here, then the dynamic ones, none in Codenvy's binding), Docker Hub's names
        keyed as its v1 URL (153-164); base64 with the standard alphabet, as java.util.Base64.getEncoder()."""
        configs = {url: dict(credentials) for url, credentials in self.configuration.registries.items()}
        hub = next((name for name in DOCKER_HUB_SYNONYMS if name in configs), None)
        if hub is not None:
            configs[DOCKER_HUB] = configs.pop(hub)
        return base64.b64encode(json.dumps(configs, separators=(",", ":")).encode()).decode()

    # -- start ------------------------------------------------------------------------------------------------

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

    def _pull_image(self, machine: Machine) -> None:
        """C: HMPI.pullImage (HMPI:191-243): no pull; a build of the one-line Dockerfile `FROM <image>` into
        eclipse-che/<container name>. A base image not found is a SourceNotFoundError; any other failure is one too
        for a snapshot (so that the recipe is used instead), and the build's own error otherwise. After a build
        from a snapshot the pulled snapshot is removed, 10 s later, whether the build succeeded or not."""
        image = machine.source
        try:
            self._build_image(f"FROM {image}", machine)
        except ImageNotFoundError as error:
            raise SourceNotFoundError(f"Failed to get image: {image}. Cause: {error}") from None
        except DockerError as error:
            if SNAPSHOT_LOCATION.fullmatch(image):
                raise SourceNotFoundError(f"Failed to get snapshot image: {image}. Cause: {error}") from None
            raise
        finally:
            if SNAPSHOT_PREFIX in image:
                self.snapshot_cleaner.schedule(image)

    def _build_image(self, dockerfile: str, machine: Machine) -> str:
        """The build HMPI:206-218 asks for, as DockerConnector.buildImage (DockerConnector.java:806-873) sends it:
        the Dockerfile alone in the context (TarUtils.tarFiles with modification time 0), the intermediate
        containers always removed, the base image always pulled (withDoForcePull(true), whatever
        che.docker.always_pull_image says), the machine's memory with unlimited swap, the CPU settings, the
        machine image as the only tag, the build args; through the manager (C: SwarmDockerConnector.java:107-122),
        whose refusal for want of room is worded as upstream's, with the manager's text after it."""
        data = dockerfile.encode()
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w", format=tarfile.PAX_FORMAT) as tar:
            entry = tarfile.TarInfo("Dockerfile")
            entry.size, entry.mode, entry.mtime = len(data), 0o644, 0
            tar.addfile(entry, io.BytesIO(data))
        query = {
            "forcerm": True,
            "memory": machine.memory_bytes,
            "memswap": -1,
            "pull": True,
            "cpusetcpus": self.configuration.optional("che.docker.cpuset_cpus"),  # left out when NULL
            "cpuperiod": self.configuration.number("che.docker.cpu_period"),
            "cpuquota": self.configuration.number("che.docker.cpu_quota"),
            "t": machine.image,
            "buildargs": json.dumps(self.build_args, separators=(",", ":")),
        }

        def progress(message: dict) -> None:
            # MPI:343-351: upstream writes the build's progress to the machine's log; the stand-in to its own.
            text = message.get("stream") or message.get("status") or message.get("error") or ""
            for line in str(text).splitlines():
                if line.strip():
                    LOG.info("[%s build] %s", machine.container_name, line.rstrip())

        LOG.info("building %s FROM %s", machine.image, machine.source)
        try:
            return self.docker.build(context.getvalue(), query, self.registry_config(), progress)
        except ImageNotFoundError:
            raise
        except DockerError as error:
            full = out_of_resources(error)
            if full is None:
                raise
            LOG.error("Failed to build %s image with %s RAM because of out of resources.", machine.image,
                      machine.memory_bytes)  # fmt: skip
            raise DockerError(error.status, error.origin, full) from None

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

    # -- the agent --------------------------------------------------------------------------------------------

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

    # -- project data -----------------------------------------------------------------------------------------

    def _restore_projects(self, workspace_id: str, machine: Machine) -> None:
        """fs/<ws> → che-machines/<ws> on the master, then into the machine's /projects (the contract's path for
        C: DockerEnvironmentBackupManager.restoreWorkspaceBackup with rsyncrestore.sh)."""
        source, copy = self.fs / workspace_id, self.machines_dir / workspace_id
        source.mkdir(parents=True, exist_ok=True)
        copy.mkdir(parents=True, exist_ok=True)
        _rsync(RSYNC_RESTORE, source, copy)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as archive:
            for path in sorted(copy.iterdir()):
                archive.add(str(path), arcname=path.name)
        self.docker.request(
            "PUT", f"/containers/{machine.container_id}/archive", query={"path": PROJECTS}, body=buffer.getvalue()
        )

    def _backup_projects(self, workspace_id: str, machine: Machine) -> None:
        """The machine's /projects → che-machines/<ws> → fs/<ws> (C: DockerEnvironmentBackupManager.backupWorkspace
        with rsyncbackup.sh's options)."""
        archive = self.docker.request("GET", f"/containers/{machine.container_id}/archive", query={"path": PROJECTS})
        copy, target = self.machines_dir / workspace_id, self.fs / workspace_id
        with tempfile.TemporaryDirectory(prefix="projects-", dir=self.machines_dir) as unpacked:
            _extract(archive.body, Path(unpacked), PROJECTS.strip("/"))
            copy.mkdir(parents=True, exist_ok=True)
            _rsync(RSYNC_BACKUP, Path(unpacked), copy)
        target.mkdir(parents=True, exist_ok=True)
        _rsync(RSYNC_BACKUP, copy, target)

    # -- stop -------------------------------------------------------------------------------------------------

    def snapshot(self, workspace_id: str, machine: Machine) -> dict:
        """DockerInstance.saveToSnapshot (DockerInstance.java:207-264): commit to
        [<registry>/][<namespace>/]machine_snapshot_<16>:latest, push, remove the local image."""
        namespace = self.configuration.optional("che.docker.namespace")
        repository = (f"{namespace}/" if namespace else "") + generate(SNAPSHOT_PREFIX)
        use_registry = self.configuration.flag("che.docker.registry_for_snapshots")
        registry = self.configuration.text("che.docker.registry") if use_registry else ""
        full = f"{registry}/{repository}" if registry else repository
        comment = f"Suspended at {datetime.datetime.now(datetime.UTC):%a %b %d %H:%M:%S %Z %Y}"
        self.docker.request(
            "POST",
            "/commit",
            query={"container": machine.container_id, "repo": full, "tag": LATEST, "comment": comment},
            expect=(201,),
        )
        digest = None
        if use_registry:
            # DockerInstance.java:220-221: swarm re-reads the engine's images only after answering the commit,
            # so a push sent at once finds no such image; upstream waits 2 s before it.
            time.sleep(COMMIT_VISIBLE_AFTER_S)
            response = self.docker.request(
                "POST",
                f"/images/{image_path(full)}/push",
                query={"tag": LATEST},
                headers={"X-Registry-Auth": self.registry_auth(registry)},
                stream=True,
            )
            for message in self.docker.progress(response):
                status = str(message.get("status", "")) if isinstance(message, dict) else ""
                if status.startswith(f"{LATEST}: digest: "):
                    digest = status.split()[2]
            self.docker.request("DELETE", f"/images/{image_path(full)}", query={"force": False})
        LOG.info("machine %s of %s saved as %s:%s", machine.name, workspace_id, full, LATEST)
        return {"type": "docker", "registry": registry, "repository": repository, "tag": LATEST, "digest": digest}

    def stop(self, workspace_id: str, machines: list[Machine]) -> None:
        """Each machine destroyed (DockerInstance.destroy), the dev machine's projects saved first."""
        for machine in reversed(machines):
            if machine.dev:
                try:
                    self._backup_projects(workspace_id, machine)
                except (DockerError, OSError, subprocess.CalledProcessError) as error:
                    LOG.error("could not save the projects of %s: %s", workspace_id, error)
            self._destroy(machine)

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


def _list(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


def _answers(url: str, timeout: float) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as answer:  # noqa: S310 - the agent's own address
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _rsync(options: list[str], source: Path, target: Path) -> None:
    subprocess.run(["rsync", *options, f"{source}/", f"{target}/"], check=True, capture_output=True)


def _extract(archive: bytes, target: Path, top: str) -> None:
    """The tar the engine sends for a folder (its entries under `top/`), unpacked into `target`; entries that
    would land outside it, devices and links out of it are skipped."""
    root = target.resolve()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if not parts or parts[0] != top or ".." in parts or member.isdev():
                continue
            relative = Path(*parts[1:]) if len(parts) > 1 else Path(".")
            destination = (root / relative).resolve()
            if not destination.is_relative_to(root):
                continue
            if member.isdir():
                destination.mkdir(parents=True, exist_ok=True)
            elif member.issym():
                if not (destination.parent / member.linkname).resolve().is_relative_to(root):
                    continue
                destination.parent.mkdir(parents=True, exist_ok=True)
                destination.unlink(missing_ok=True)
                destination.symlink_to(member.linkname)
            elif member.isfile():
                destination.parent.mkdir(parents=True, exist_ok=True)
                source = tar.extractfile(member)
                with destination.open("wb") as out:
                    shutil.copyfileobj(source, out)
                destination.chmod(member.mode & 0o777)
