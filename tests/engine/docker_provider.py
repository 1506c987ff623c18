"""The docker provider's create, update, read and delete, done for real through one engine's Docker API
(the docker CLI against its socket), returning state in the shape pulumi-docker keeps.

Mirrors kreuzwerker/terraform-provider-docker internal/provider/resource_docker_{container,network,volume,
image}*.go as bridged by pulumi-docker 5.x; what the provider reads back is what the state keeps."""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
import time
from dataclasses import dataclass
from typing import Any

from tests.engine.rules import COMPUTED, CONTAINER, NETWORK, REMOTE_IMAGE, VOLUME, with_container_defaults

MIB = 1024 * 1024
NANOS = 1_000_000_000


class ProviderError(Exception):
    """What the provider would report for a failed operation."""


class PartialCreateError(ProviderError):
    """A create that failed after the object came to exist: what the bridge reports as an initialization
    error carrying the new ID and the state the provider had (pulumi-terraform-bridge pkg/tfbridge/
    provider.go Create, initializationError), which the engine records with the failure."""

    def __init__(self, message: str, resource_id: str, state: dict[str, Any]) -> None:
        super().__init__(message)
        self.resource_id, self.state = resource_id, state


# What the docker CLI says when the daemon does not answer, as against an object it does not have.
UNREACHABLE = ("Cannot connect to the Docker daemon", "error during connect")


@dataclass(frozen=True)
class DockerHost:
    """One engine, addressed as `docker -H` addresses it."""

    address: str

    def docker(self, *args: str, stdin: bytes | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["docker", "-H", self.address, *args], input=stdin, capture_output=True, timeout=300, check=False
        )
        if check and result.returncode != 0:
            raise ProviderError(
                f"docker {args[0]} {args[1] if len(args) > 1 else ''}: {result.stderr.decode().strip()}"
            )
        return result

    def inspect(self, kind: str, ref: str) -> dict[str, Any] | None:
        """What the daemon reports of an object; None when it has no such object. A daemon that does not
        answer is an error, as the provider's API client returns one (a Read then fails, nothing is dropped)."""
        result = self.docker(kind, "inspect", ref, check=False)
        if result.returncode != 0:
            error = result.stderr.decode()
            if any(sign in error for sign in UNREACHABLE):
                raise ProviderError(f"docker {kind} inspect {ref}: {error.strip()}")
            return None
        return json.loads(result.stdout)[0]


# --- dispatch ----------------------------------------------------------------------------------------


def create(host: DockerHost, resource_type: str, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if resource_type == CONTAINER:
        return _create_container(host, inputs)
    if resource_type == NETWORK:
        return _create_network(host, inputs)
    if resource_type == VOLUME:
        host.docker("volume", "create", *_label_flags(inputs), inputs["name"])
        state = read(host, VOLUME, inputs["name"], inputs)
        if state is None:
            raise ProviderError(f"volume {inputs['name']} vanished after create")
        return inputs["name"], state
    if resource_type == REMOTE_IMAGE:
        return _pull_image(host, inputs)
    raise ProviderError(f"no stand-in for {resource_type}")


def read(host: DockerHost, resource_type: str, resource_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
    """The state after the provider's Read; None when the object is gone (the provider then drops it)."""
    if resource_type == CONTAINER:
        return _read_container(host, resource_id, state)
    if resource_type == NETWORK:
        return _read_network(host, resource_id, state)
    if resource_type == VOLUME:
        found = host.inspect("volume", resource_id)
        if found is None:
            return None
        return {**state, "name": found["Name"], "driver": found["Driver"], "mountpoint": found["Mountpoint"]}
    if resource_type == REMOTE_IMAGE:
        found = host.inspect("image", state["name"])
        return None if found is None else {**state, "imageId": found["Id"], "repoDigest": ""}
    raise ProviderError(f"no stand-in for {resource_type}")


def update(
    host: DockerHost, resource_type: str, resource_id: str, old: dict[str, Any], inputs: dict[str, Any]
) -> dict[str, Any]:
    """resourceDockerContainerUpdate: a must_run false→true starts the container, and restart policy and
    limits go through one ContainerUpdate; every other change is kept in the state only. Update never
    reads back: the state is the configuration."""
    if resource_type == CONTAINER:
        inputs = with_container_defaults(inputs)
        if not old.get("mustRun") and inputs.get("mustRun") and inputs.get("start"):
            host.docker("start", resource_id)
        limits = ("restart", "maxRetryCount", "cpuShares", "memory", "memoryReservation", "memorySwap")
        if any(old.get(key) != inputs.get(key) for key in limits):
            host.docker("update", "--restart", _restart_policy(inputs), *_memory_flags(inputs), resource_id)
    # The bridge plans an input the program no longer sets as null unless the provider computes it (SDKv2
    # schema.go diffString), and Update stores the plan: only computed values survive from the old state.
    computed = COMPUTED.get(resource_type, frozenset())
    return {**{key: value for key, value in old.items() if key in computed}, **inputs}


def delete(host: DockerHost, resource_type: str, resource_id: str, state: dict[str, Any]) -> None:
    if resource_type == CONTAINER:
        # resourceDockerContainerDelete: stop with the grace period when one is set, then remove by force
        # (no grace otherwise: the process is killed), anonymous volumes with it.
        grace = state.get("destroyGraceSeconds")
        if grace:
            host.docker("stop", "--time", str(int(grace)), resource_id, check=False)
        host.docker("rm", "--force", "--volumes", resource_id, check=False)
    elif resource_type == NETWORK:
        # resourceDockerNetworkDelete: retried while the network "has active endpoints", for 30 s.
        _retry_while(host, ("network", "rm", resource_id), "has active endpoints", "No such network")
    elif resource_type == VOLUME:
        # resourceDockerVolumeDelete: forced, retried while the volume "is in use", for 30 s.
        _retry_while(host, ("volume", "rm", "--force", resource_id), "in use", "no such volume")
    elif resource_type == REMOTE_IMAGE and not state.get("keepLocally"):
        host.docker("image", "rm", state["name"], check=False)


def _retry_while(host: DockerHost, args: tuple[str, ...], transient: str, gone: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = host.docker(*args, check=False)
        error = result.stderr.decode()
        if result.returncode == 0 or gone.lower() in error.lower():
            return
        if transient not in error or time.monotonic() > deadline:
            raise ProviderError(f"docker {' '.join(args[:2])} {args[-1]}: {error.strip()}")
        time.sleep(1)


# --- images, volumes, networks ------------------------------------------------------------------------


def _pull_image(host: DockerHost, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    # resource_docker_image_funcs.go: an image already on the host is used as it is (no pull triggers here).
    found = host.inspect("image", inputs["name"])
    if found is None:
        pulled = host.docker("pull", inputs["name"], check=False)
        found = host.inspect("image", inputs["name"])
        if found is None:
            raise ProviderError(f"Unable to pull image {inputs['name']}: {pulled.stderr.decode().strip()}")
    return f"{found['Id']}{inputs['name']}", {**inputs, "imageId": found["Id"], "repoDigest": ""}


def _label_flags(inputs: dict[str, Any]) -> list[str]:
    return [flag for item in inputs.get("labels") or [] for flag in ("--label", f"{item['label']}={item['value']}")]


def _labels_state(labels: dict[str, str] | None) -> list[dict[str, str]]:
    return [{"label": key, "value": value} for key, value in sorted((labels or {}).items())]


def _create_network(host: DockerHost, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    args = ["network", "create", "--driver", inputs.get("driver") or "bridge", *_label_flags(inputs)]
    if inputs.get("attachable"):
        args.append("--attachable")
    if inputs.get("internal"):
        args.append("--internal")
    for key, value in sorted((inputs.get("options") or {}).items()):
        args += ["--opt", f"{key}={value}"]
    network_id = host.docker(*args, inputs["name"]).stdout.decode().strip()
    state = _read_network(host, network_id, inputs)
    if state is None:
        raise ProviderError(f"network {inputs['name']} vanished after create")
    return network_id, state


def _read_network(host: DockerHost, network_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
    """resourceDockerNetworkReadRefreshFunc stores what the daemon reports, options included (the daemon
    adds its own); a swarm overlay network is read again, for up to 30 s, until the daemon reports its
    options (just after create it may not yet)."""
    deadline = time.monotonic() + 30
    found = host.inspect("network", network_id)
    while found is not None and found.get("Scope") == "swarm" and not found.get("Options"):
        if time.monotonic() > deadline:
            break
        time.sleep(1)
        found = host.inspect("network", network_id)
    if found is None:
        return None
    return {
        **state,
        "name": found["Name"],
        "driver": found["Driver"],
        "options": dict(found.get("Options") or {}),
        "internal": found["Internal"],
        "attachable": found["Attachable"],
        "scope": found["Scope"],
        "labels": _labels_state(found.get("Labels")),
    }


# --- containers -----------------------------------------------------------------------------------------


def _restart_policy(inputs: dict[str, Any]) -> str:
    policy = inputs.get("restart") or "no"
    if policy == "on-failure" and inputs.get("maxRetryCount"):
        return f"on-failure:{int(inputs['maxRetryCount'])}"
    return policy


def _memory_flags(inputs: dict[str, Any]) -> list[str]:
    """Memory limits in MB, as the provider sends them; memory_swap only when it is set, and in MB only when
    positive: -1 (unlimited swap) goes as it is (resource_docker_container_funcs.go, create and update), which
    the docker CLI's --memory-swap takes as -1 too."""
    flags = ["--memory", f"{int(inputs['memory'])}m"] if inputs.get("memory") else []
    swap = int(inputs.get("memorySwap") or 0)
    return flags + (["--memory-swap", f"{swap}m" if swap > 0 else str(swap)] if swap else [])


def _container_create_args(inputs: dict[str, Any]) -> list[str]:
    args = ["create", "--name", inputs["name"], "--restart", _restart_policy(inputs), *_memory_flags(inputs)]
    if inputs.get("user"):
        args += ["--user", inputs["user"]]
    if inputs.get("logDriver"):
        args += ["--log-driver", inputs["logDriver"]]
    for key, value in sorted((inputs.get("logOpts") or {}).items()):
        args += ["--log-opt", f"{key}={value}"]
    args += _label_flags(inputs)
    for env in inputs.get("envs") or []:
        args += ["--env", env]
    for port in inputs.get("ports") or []:
        args += ["--publish", f"{port['ip']}:{int(port['external'])}:{int(port['internal'])}/{port['protocol']}"]
    for volume in inputs.get("volumes") or []:
        source = volume.get("volumeName") or volume.get("hostPath")
        args += ["--volume", f"{source}:{volume['containerPath']}{':ro' if volume.get('readOnly') else ''}"]
    health = inputs.get("healthcheck")
    if health:
        tests = health["tests"]
        args += ["--health-cmd", tests[1] if tests[0] == "CMD-SHELL" else json.dumps(tests[1:])]
        for key, flag in (("interval", "interval"), ("timeout", "timeout"), ("startPeriod", "start-period")):
            if health.get(key):
                args += [f"--health-{flag}", health[key]]
        if health.get("retries"):
            args += ["--health-retries", str(int(health["retries"]))]
    networks = inputs.get("networksAdvanced") or []
    if networks:
        args += ["--network", networks[0]["name"]]
        args += [flag for alias in networks[0].get("aliases") or [] for flag in ("--network-alias", alias)]
    return args


def _upload_tar(uploads: list[dict[str, Any]]) -> bytes:
    """resource_docker_container_funcs.go (create): each upload is a tar entry owned by root with the
    given permissions (0644 when none) copied into the created container before it starts."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for upload in uploads:
            data = (upload.get("content") or "").encode()
            info = tarfile.TarInfo(upload["file"].lstrip("/"))
            info.size, info.uid, info.gid = len(data), 0, 0
            info.mode = int(upload.get("permissions") or "0644", 8)
            if upload.get("executable"):
                info.mode |= 0o111
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _create_container(host: DockerHost, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    inputs = with_container_defaults(inputs)
    created = host.docker(*_container_create_args(inputs), inputs["image"], *(inputs.get("command") or []))
    container_id = created.stdout.decode().strip()
    try:
        _prepare_and_start(host, container_id, inputs)
    except ProviderError as error:
        # resourceDockerContainerCreate sets the ID as soon as the daemon created the container, and returns a
        # later failure (networks, uploads, the start: a host port already taken) without its closing Read;
        # the SDK then hands back the state with that ID, which is the configuration (schema Resource.Apply).
        raise PartialCreateError(str(error), container_id, inputs) from error
    state = _read_container(host, container_id, inputs)
    if state is None:
        raise ProviderError(f"container {inputs['name']} vanished after create")
    return container_id, state


def _prepare_and_start(host: DockerHost, container_id: str, inputs: dict[str, Any]) -> None:
    for network in (inputs.get("networksAdvanced") or [])[1:]:
        aliases = [flag for alias in network.get("aliases") or [] for flag in ("--alias", alias)]
        host.docker("network", "connect", *aliases, network["name"], container_id)
    if inputs.get("uploads"):
        host.docker("cp", "-", f"{container_id}:/", stdin=_upload_tar(inputs["uploads"]))
    if inputs.get("start", True):
        host.docker("start", container_id)


def _ports_state(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The published ports as NetworkSettings reports them: none while the container is not running."""
    ports = []
    for spec, bindings in sorted((found["NetworkSettings"].get("Ports") or {}).items()):
        internal, protocol = spec.split("/")
        for binding in bindings or []:
            if ":" in binding["HostIp"]:
                continue  # the IPv6 twin of an IPv4 binding
            ports.append(
                {"internal": int(internal), "external": int(binding["HostPort"]), "ip": binding["HostIp"],
                 "protocol": protocol}
            )  # fmt: skip
    return ports


def _read_container(host: DockerHost, container_id: str, state: dict[str, Any]) -> dict[str, Any] | None:
    found = host.inspect("container", container_id)
    return None if found is None else container_state(found, state)


def container_state(found: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """resourceDockerContainerRead, given what the daemon reports (`docker inspect`): env, labels, volumes
    and uploads are never read back (they stay as configured); ports only while running or must_run; a
    stopped container's must_run becomes false."""
    state = with_container_defaults(state)
    running = found["State"]["Running"]
    host_config, config = found["HostConfig"], found["Config"]
    swap = host_config["MemorySwap"]
    read_back: dict[str, Any] = {
        "name": found["Name"].lstrip("/"),
        "image": found["Image"],
        "restart": host_config["RestartPolicy"]["Name"] or "no",
        "maxRetryCount": host_config["RestartPolicy"].get("MaximumRetryCount", 0),
        "memory": host_config["Memory"] // MIB,
        "memorySwap": swap // MIB if swap > 0 else swap,
        "logDriver": host_config["LogConfig"]["Type"],
        "user": config.get("User") or "",
        "exitCode": found["State"]["ExitCode"],
    }
    if state.get("logOpts"):
        # The daemon merges daemon.json's default log-opts into containers of its default driver.
        read_back["logOpts"] = dict(host_config["LogConfig"].get("Config") or {})
    if config.get("Healthcheck"):
        health = config["Healthcheck"]
        read_back["healthcheck"] = {
            "tests": health.get("Test") or [],
            "interval": _duration(health.get("Interval", 0)),
            "timeout": _duration(health.get("Timeout", 0)),
            "startPeriod": _duration(health.get("StartPeriod", 0)),
            "retries": health.get("Retries", 0),
        }
    if (running or state.get("mustRun")) and state.get("ports"):
        read_back["ports"] = _ports_state(found)
    if not running and state.get("mustRun"):
        read_back["mustRun"] = False
    return {**state, **read_back}


def _duration(nanoseconds: int) -> str:
    """Go's Duration.String() for whole seconds and minutes, as the provider stores healthcheck timings."""
    seconds = nanoseconds // NANOS
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    return f"{minutes}m{seconds}s"
