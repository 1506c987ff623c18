"""Workspace configurations: their validation, their environments' machines, RAM and start order.

Sources (eclipse/che 5.22.0): wsmaster/che-core-api-workspace/.../DefaultWorkspaceValidator.java:36-106,
environment/server/CheEnvironmentValidator.java:94-260, EnvironmentParser.java:62-148 (memoryLimitBytes),
plugins/plugin-docker/che-plugin-docker-machine/.../parser/DockerImageEnvironmentParser.java:30-48 (the image is
the recipe's location), DockerEnvironmentParser.java:38-46, plugins/plugin-docker/che-plugin-docker-compose/
.../ComposeEnvironmentParser.java:60-162, multiuser/.../usage/tracker/EnvironmentRamCalculator.java:44-62.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from errors import bad_request, server_error

WS_AGENT = "org.eclipse.che.ws-agent"
WS_NAME = re.compile(r"[a-zA-Z0-9][-_.a-zA-Z0-9]{1,98}[a-zA-Z0-9]")  # DefaultWorkspaceValidator.java:36-37
MACHINE_NAME = re.compile(r"[a-zA-Z0-9_-]+")  # CheEnvironmentValidator.java:45
EXPOSE = re.compile(r"^[1-9]+[0-9]*(/(tcp|udp))?$")  # CheEnvironmentValidator.java:63
TYPES = ("compose", "dockerimage")  # the parsers Codenvy's DockerMachineModule binds (dockerfile not modelled)
YAML_TYPES = ("application/x-yaml", "text/yaml", "text/x-yaml")  # ComposeEnvironmentParser.java:82-98
MEBIBYTE = 1024 * 1024


@dataclass
class Service:
    """One machine of an environment, as CheServiceImpl carries it to the machine provider."""

    name: str
    image: str | None
    mem_limit: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    command: list[str] | None = None
    entrypoint: list[str] | None = None
    labels: dict[str, str] = field(default_factory=dict)
    expose: list[str] = field(default_factory=list)
    depends_on: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    build: dict | None = None
    dev: bool = False


def validate_config(config: Any) -> None:
    """DefaultWorkspaceValidator.validateConfig, then CheEnvironmentValidator.validate for each environment."""
    if not isinstance(config, dict):
        raise bad_request("Workspace configuration required")
    name = config.get("name")
    if name is None:
        raise bad_request("Workspace name required")
    if not isinstance(name, str) or not WS_NAME.fullmatch(name):
        raise bad_request(
            "Incorrect workspace name, it must be between 3 and 100 characters and may contain digits, latin "
            "letters, underscores, dots, dashes and should start and end only with digits, latin letters or "
            "underscores"
        )
    if not config.get("defaultEnv"):
        raise bad_request("Workspace default environment name required")
    environments = config.get("environments")
    if environments is None:
        raise bad_request("Workspace should contain at least one environment")
    if not isinstance(environments, dict) or config["defaultEnv"] not in environments:
        raise bad_request("Workspace default environment configuration required")
    for env_name, environment in environments.items():
        services(env_name, environment)
    for command in config.get("commands") or []:
        if not command.get("name"):
            raise bad_request(f"Workspace {name} contains command with null or empty name")
        if not command.get("commandLine"):
            raise bad_request(f"Command line required for command '{command.get('name')}' in workspace '{name}'")


def services(env_name: str, environment: Any) -> list[Service]:
    """The environment's machines in start order, validated as CheEnvironmentValidator.validate does."""
    if not env_name:
        raise bad_request("Environment name should not be neither null nor empty")
    recipe = environment.get("recipe") if isinstance(environment, dict) else None
    if not isinstance(recipe, dict):
        raise bad_request("Environment recipe should not be null")
    kind = recipe.get("type")
    if kind not in TYPES:
        raise bad_request(
            f"Type '{kind}' of environment '{env_name}' is not supported. Supported types: {','.join(TYPES)}"
        )
    if recipe.get("content") is None and recipe.get("location") is None:
        raise bad_request(f"Recipe of environment '{env_name}' must contain location or content")
    if recipe.get("content") is not None and recipe.get("location") is not None:
        raise bad_request(f"Recipe of environment '{env_name}' contains mutually exclusive fields location and content")
    machines = environment.get("machines") or {}
    if not isinstance(machines, dict):
        raise bad_request(f"Machines of environment '{env_name}' must be an object")
    parsed = _parse(env_name, kind, recipe, machines)
    if not parsed:
        raise bad_request(f"Environment '{env_name}' should contain at least 1 machine")
    if not machines:
        raise bad_request(f"Environment '{env_name}' doesn't contain machine with '{WS_AGENT}' agent")
    missing = [name for name in machines if name not in parsed]
    if missing:
        raise bad_request(
            f"Environment '{env_name}' contains machines that are missing in environment recipe: {', '.join(missing)}"
        )
    dev = [name for name, machine in machines.items() if WS_AGENT in ((machine or {}).get("agents") or [])]
    if len(dev) != 1:
        raise bad_request(
            f"Environment '{env_name}' should contain exactly 1 machine with agent '{WS_AGENT}', but contains "
            f"'{len(dev)}'. All machines with this agent: {', '.join(dev)}"
        )
    for name, service in parsed.items():
        _validate_machine(env_name, name, service, parsed)
        service.dev = name == dev[0]
        _normalize(name, service, machines.get(name) or {})
    return _start_order(env_name, parsed)


def _parse(env_name: str, kind: str, recipe: dict, machines: dict) -> dict[str, Service]:
    if kind == "dockerimage":
        # DockerEnvironmentParser.getMachineName: exactly one machine; DockerImageEnvironmentParser.java:45: its
        # image is the recipe's location (content is not read).
        if len(machines) != 1:
            raise bad_request(
                f"Environment of type '{kind}' doesn't support multiple machines, but contains machines: "
                f"{', '.join(machines)}"
            )
        name = next(iter(machines))
        return {name: Service(name=name, image=recipe.get("location"))}
    content_type = recipe.get("contentType")
    if recipe.get("content") is None:
        raise server_error(
            f"Parsing of recipe of environment '{env_name}' failed. Error: recipe locations are not fetched"
        )
    if content_type not in YAML_TYPES:
        raise bad_request(
            f"Parsing of recipe of environment '{env_name}' failed. Error: Provided environment recipe content type "
            f"'{content_type}' is unsupported. Supported values are: {', '.join(YAML_TYPES)}"
        )
    import yaml  # python3-yaml; only compose recipes need it

    try:
        document = yaml.safe_load(recipe["content"]) or {}
    except yaml.YAMLError as error:
        raise bad_request(
            f"Parsing of recipe of environment '{env_name}' failed. Error: Parsing of environment configuration "
            f"failed. {error}"
        ) from None
    parsed = {}
    for name, entry in (document.get("services") or {}).items():
        entry = entry or {}
        environment = entry.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
        parsed[name] = Service(
            name=name,
            image=entry.get("image"),
            mem_limit=entry.get("mem_limit"),
            environment={str(k): str(v) for k, v in environment.items()},
            command=_words(entry.get("command")),
            entrypoint=_words(entry.get("entrypoint")),
            labels={str(k): str(v) for k, v in (entry.get("labels") or {}).items()},
            expose=[str(port) for port in entry.get("expose") or []],
            depends_on=list(entry.get("depends_on") or []),
            links=list(entry.get("links") or []),
            build=entry.get("build"),
        )
    return parsed


def _words(value: Any) -> list[str] | None:
    if value is None:
        return None
    return [str(word) for word in value] if isinstance(value, list) else str(value).split()


def _validate_machine(env_name: str, name: str, service: Service, all_services: dict[str, Service]) -> None:
    """CheEnvironmentValidator.validateMachine (CheEnvironmentValidator.java:195-260)."""
    if not MACHINE_NAME.fullmatch(name):
        raise bad_request(f"Name of machine '{name}' in environment '{env_name}' is invalid")
    if not service.image and not service.build:
        raise bad_request(
            f"Field 'image' or 'build.context' is required in machine '{name}' in environment '{env_name}'"
        )
    for port in service.expose:
        if not EXPOSE.match(port):
            raise bad_request(f"Exposed port '{port}' in machine '{name}' in environment '{env_name}' is invalid")
    for link in service.links:
        target = link.split(":", 1)[0]
        if target not in all_services:
            raise bad_request(
                f"Machine '{name}' in environment '{env_name}' contains link to non existing machine '{target}'"
            )
    for dependency in service.depends_on:
        if dependency not in all_services:
            raise bad_request(
                f"Machine '{name}' in environment '{env_name}' contains dependency to non existing machine "
                f"'{dependency}'"
            )


def _normalize(name: str, service: Service, machine: dict) -> None:
    """EnvironmentParser.normalizeMachine (EnvironmentParser.java:99-148): memoryLimitBytes wins over the recipe's
    limit, exposed ports get /tcp, and each server of the machine is exposed and labelled."""
    attributes = machine.get("attributes") or {}
    if "memoryLimitBytes" in attributes:
        try:
            service.mem_limit = int(str(attributes["memoryLimitBytes"]))
        except ValueError:
            raise bad_request(f"Value of attribute 'memoryLimitBytes' of machine '{name}' is illegal") from None
    service.expose = [port if "/" in port else f"{port}/tcp" for port in service.expose]
    for reference, server in (machine.get("servers") or {}).items():
        port = str(server.get("port", ""))
        port = port if "/" in port else f"{port}/tcp"
        service.expose.append(port)
        # ServerEvaluationStrategy.java:38-40: che:server:<port>:{ref,path,protocol}.
        service.labels[f"che:server:{port}:ref"] = reference
        if (server.get("properties") or {}).get("path") is not None:
            service.labels[f"che:server:{port}:path"] = server["properties"]["path"]
        if server.get("protocol") is not None:
            service.labels[f"che:server:{port}:protocol"] = server["protocol"]


def _start_order(env_name: str, parsed: dict[str, Service]) -> list[Service]:
    """DefaultServicesStartStrategy: each machine after the ones it depends on or links to."""
    ordered: list[Service] = []
    placed: set[str] = set()
    while len(ordered) < len(parsed):
        ready = [
            service
            for name, service in parsed.items()
            if name not in placed
            and all(d in placed for d in service.depends_on + [link.split(":", 1)[0] for link in service.links])
        ]
        if not ready:
            raise bad_request(
                f"Start order of machine in environment '{env_name}' is not resolvable. Error: Launch order of "
                f"machines '{', '.join(sorted(set(parsed) - placed))}' can't be evaluated. Circular dependency."
            )
        for service in ready:
            ordered.append(service)
            placed.add(service.name)
    return ordered


def ram_mb(environment: dict, default_memory_mb: int) -> int:
    """EnvironmentRamCalculator.calculate (EnvironmentRamCalculator.java:44-62): the machines' limits, or the
    default for one without, in MB."""
    total = 0
    for service in services("env", environment):
        total += service.mem_limit if service.mem_limit else default_memory_mb * MEBIBYTE
    return total // MEBIBYTE
