"""A workspace machine's image, built through the manager from its recipe's image or a snapshot, and the
snapshot a machine is saved as (C: HostedMachineProviderImpl, DockerInstance.java, DockerRegistryAuthResolver.java)."""

from __future__ import annotations

import base64
import datetime
import io
import json
import logging
import re
import tarfile
import threading
import time
import typing

from docker_api import DockerClient, DockerError, ImageNotFoundError, image_path
from users import generate

if typing.TYPE_CHECKING:
    from machines import Machine

LOG = logging.getLogger("codenvy.machines")  # the machine provider's log, whichever module writes
LATEST = "latest"
COMMIT_VISIBLE_AFTER_S = 2  # DockerInstance.java:221
SNAPSHOT_PREFIX = "machine_snapshot_"  # MPI:117
SNAPSHOT_LOCATION = re.compile(r"(.+/)?" + SNAPSHOT_PREFIX + ".+")  # MPI:119-120
# C: MaintenanceConstraintProvider.java:22-23, added to the build args by HMPI:160-162: Swarm builds on no node
# labelled com.codenvy.node-state=maintenance.
MAINTENANCE_CONSTRAINT = ("constraint:com.codenvy.node-state!", "maintenance")
SNAPSHOT_CLEAN_DELAY_SECONDS = 10  # C: HMPI:255-267
SNAPSHOT_CLEANER_SHUTDOWN_SECONDS = 30  # C: HMPI:365-379 (finalizeSnapshotImagesCleaner)
# DockerRegistryAuthResolver.java:33-44: the names of Docker Hub, keyed as its v1 URL in X-Registry-Config.
DOCKER_HUB_SYNONYMS = ("", "docker.io", "index.docker.io", "https://index.docker.io", "https://index.docker.io/v1",
                       "https://index.docker.io/v1/")  # fmt: skip
DOCKER_HUB = "https://index.docker.io/v1/"
# C: SwarmDockerConnector.java:67-68,211-221: the manager's refusal and what the user is told instead.
OUT_OF_RESOURCES = "no resources available to schedule container"
OUT_OF_RESOURCES_MESSAGE = "The system is out of resources. Please contact your system admin."


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


class MachineImages:
    """A machine's image: built FROM its recipe's image or its snapshot (C: HMPI), and a machine saved
    as a snapshot (DockerInstance.saveToSnapshot), with the registry credentials each needs; part of MachineRuntime."""

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
