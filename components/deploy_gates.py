"""What a deployment must agree with before anything changes: the version this stack last deployed, and,
for a standby, the primary it mirrors. Both are read from stack outputs, synchronously, before any
resource is registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, ValidationError

from components.config import DnsLabel, GateError, Ipv4Host, Port, SemVer, SiteConfig, SiteDirectory, config_key
from components.versioning import UpgradePlan, UpgradeRefusedError, plan_upgrade

# The engine's builtin provider answers this invoke with a stack's last outputs, `{name, outputs,
# secretOutputNames}` (pulumi/pulumi pkg/resource/deploy/builtins.go). It is synchronous here, before any
# resource exists; StackReference (in every SDK) is a read of pulumi:pulumi:StackReference instead.
# A stack whose checkpoint does not exist fails the invoke ('unknown stack "NAME"'); a stack that exists
# but was never deployed gives no outputs. Outputs that were None in the program are not there at all: the
# SDK drops None values when it registers them (sdk/python/lib/pulumi/runtime/rpc.py serialize_properties).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"

OutputsReader = Callable[[str], Mapping[str, Any]]
# Asks whether a standby was promoted past this site (components/fencing.py ask_master): why, or None.
FenceQuestion = Callable[[SiteConfig], str | None]
# The key every gate about the primary names: a standby's link to it.
PRIMARY_STACK_KEY = ("dr", "primaryStack")


class OutputsUnavailableError(Exception):
    """A reader with no backend to ask (a check run without the engine): the gates on those outputs cannot run."""


class NodeCapacity(BaseModel):
    """One entry of the primary's `nodes` output (SiteConfig.node_set): what parity compares. Numbers come
    as floats (a protobuf Struct's only number type), so 2.0 CPUs is 2 and 2.5 is refused."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    ram_gb: float = Field(alias="ramGb", gt=0, allow_inf_nan=False)
    cpus: int = Field(gt=0)


# Secret outputs go into files the standby's services read a line at a time (.pgpass, the server's env).
OutputSecret = Annotated[str, StringConstraints(min_length=1, max_length=4096, pattern=r"^[^\x00-\x1f\x7f]+$")]
PemCertificate = Annotated[
    str,
    StringConstraints(
        max_length=65536,
        pattern=r"^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+-----END CERTIFICATE-----\n?$",
    ),
]
RegistryEndpoint = Annotated[str, StringConstraints(max_length=260, pattern=r"^[A-Za-z0-9.-]+:[0-9]{1,5}$")]


@dataclass(frozen=True)
class PrimarySite:
    """The outputs of the primary that a standby mirrors."""

    stack: str
    site_name: str
    version: str
    manager_address: str
    registry: str
    backup_directory: str
    nodes: tuple[tuple[float, int], ...]
    license_present: bool
    # What a streaming standby needs: the masters the primary streams to, the port its PostgreSQL is
    # published on, the replication role's password (a secret output), and the site CA its TLS chains to.
    standby_addresses: tuple[str, ...] = ()
    postgres_port: int | None = None
    replication_password: str | None = field(default=None, repr=False)
    database_password: str | None = field(default=None, repr=False)
    # The system admin's password: a standby's database is the primary's (restored or streamed), admin included.
    admin_password: str | None = field(default=None, repr=False)
    ca_cert: str | None = field(default=None, repr=False)

    @classmethod
    def from_outputs(cls, stack: str, outputs: Mapping[str, Any]) -> PrimarySite:
        """Only outputs that every deployed primary has are required; the rest have defaults, since an
        output that was None is absent rather than None."""
        missing = [key for key in ("siteName", "version", "managerAddress", "registry", "nodes") if key not in outputs]
        if missing:
            raise GateError(
                PRIMARY_STACK_KEY, f"{stack} has no output {', '.join(missing)}; run `pulumi up` on the primary first"
            )
        # These reach the standby's transfer script and a remote shell on the primary: checked here as the
        # primary's own config was, since another stack's outputs are input to this one.
        checked = {
            name: _checked_output(stack, name, kind, outputs.get(name, default))
            for name, kind, default in (
                ("siteName", DnsLabel, None),
                ("version", SemVer, None),
                ("managerAddress", Ipv4Host, None),
                ("backupDirectory", SiteDirectory, "/var/backups/codenvy"),
            )
        }
        # The rest reach files and scripts on the standby (pg_hba, .pgpass, the CA file): a value of the wrong
        # shape is refused here, naming the output, rather than failing mid-deployment.
        optional = {
            name: None if outputs.get(name) is None else _checked_output(stack, name, kind, outputs[name])
            for name, kind in (
                ("licensePresent", bool),
                ("replicationStandbys", list[Ipv4Host]),
                ("replicationPassword", OutputSecret),
                ("databasePassword", OutputSecret),
                ("adminPassword", OutputSecret),
                ("registryCaCert", PemCertificate),
            )
        }
        return cls(
            stack=stack,
            site_name=checked["siteName"],
            version=checked["version"],
            manager_address=checked["managerAddress"],
            registry=_checked_output(stack, "registry", RegistryEndpoint, outputs["registry"]),
            backup_directory=checked["backupDirectory"],
            nodes=capacities(_checked_output(stack, "nodes", list[NodeCapacity], outputs["nodes"], strict=False)),
            license_present=bool(optional["licensePresent"]),
            standby_addresses=tuple(optional["replicationStandbys"] or ()),
            postgres_port=_port_output(stack, outputs.get("postgresPort")),
            replication_password=optional["replicationPassword"],
            database_password=optional["databasePassword"],
            admin_password=optional["adminPassword"],
            ca_cert=optional["registryCaCert"],
        )


def _port_output(stack: str, value: Any) -> int | None:
    """Stack outputs carry numbers as floats (a protobuf Struct's only number type): 5432.0 is port 5432."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _checked_output(stack, "postgresPort", Port, value)


def _checked_output(stack: str, name: str, kind: Any, value: Any, strict: bool = True) -> Any:
    try:
        return TypeAdapter(kind).validate_python(value, strict=strict)
    except ValidationError as error:
        problem = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise GateError(
            PRIMARY_STACK_KEY,
            f"the output {name} of {stack} is refused ({problem}); fix the "
            "primary's configuration and run `pulumi up` there",
        ) from None


@dataclass(frozen=True)
class Deployment:
    """A validated site plus what its gates established."""

    site: SiteConfig
    upgrade: UpgradePlan
    primary: PrimarySite | None


def capacities(nodes: Sequence[Mapping[str, Any]] | Sequence[NodeCapacity]) -> tuple[tuple[float, int], ...]:
    checked = [node if isinstance(node, NodeCapacity) else NodeCapacity.model_validate(node) for node in nodes]
    return tuple(sorted((node.ram_gb, node.cpus) for node in checked))


def read_stack_outputs(stack: str) -> Mapping[str, Any]:
    """The last outputs of `stack`; raises (the engine's message) when the backend has no such stack."""
    result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": stack})
    return (result.value or {}).get("outputs") or {}


def this_stack() -> str:
    # The file backend's organization is "organization", the name `pulumi stack ls` shows there too.
    return f"{pulumi.get_organization() or 'organization'}/{pulumi.get_project()}/{pulumi.get_stack()}"


def parity_problems(site: SiteConfig, primary: PrimarySite) -> list[str]:
    """How the standby differs from its primary in what the seed says must match."""
    problems = []
    if site.version != primary.version:
        problems.append(f"version: standby {site.version}, primary {primary.version}")
    standby_nodes = capacities(site.node_set)
    if len(standby_nodes) != len(primary.nodes):
        problems.append(f"workspace nodes: standby has {len(standby_nodes)}, primary has {len(primary.nodes)}")
    elif standby_nodes != primary.nodes:
        problems.append(f"node capacity (RAM GiB, CPUs): standby {list(standby_nodes)}, primary {list(primary.nodes)}")
    if primary.license_present and site.license is None:
        problems.append(f"licence: the primary has one, the standby has none (set {config_key('license')})")
    return problems


def _primary_outputs(stack: str, read_outputs: OutputsReader) -> Mapping[str, Any]:
    try:
        return read_outputs(stack)
    except OutputsUnavailableError:
        raise
    except Exception as error:  # the engine's invoke error: unknown stack, a name it cannot parse, no access
        raise GateError(
            PRIMARY_STACK_KEY,
            f"cannot read the outputs of {stack} ({error}); name the primary as "
            "organization/project/stack, as `pulumi stack ls` shows it in this backend, and deploy it first",
        ) from None


def establish(
    site: SiteConfig,
    read_outputs: OutputsReader = read_stack_outputs,
    stack: str | None = None,
    superseded: FenceQuestion | None = None,
) -> Deployment:
    """Run the gates for `site` (deployed as `stack`, by default the running one); raises GateError, naming the
    key, when the change must not happen, and OutputsUnavailableError when `read_outputs` cannot read the primary's.
    `superseded` asks the fence of a site that streams to standbys (without it, that gate is not run)."""
    previous = read_outputs(stack or this_stack())  # empty before the first deployment
    deployed_name = previous.get("siteName")
    if deployed_name is not None and deployed_name != site.site_name:
        # Every container, volume and network is named after the site: a new name would start an empty
        # site beside the old one, whose data volumes are retained but no longer used.
        raise GateError(
            ("siteName",),
            f"this stack runs the site {deployed_name!r}; a site is not renamed in place. "
            f"Keep {deployed_name!r}, or stand up {site.site_name!r} as a new stack and move the data with "
            "backup and restore",
        )
    try:
        upgrade = plan_upgrade(previous.get("version"), site.version, site.upgrade.allow_major)
    except UpgradeRefusedError as refused:
        raise GateError(("version",), str(refused)) from None
    primary = None
    if site.dr is not None:
        primary = PrimarySite.from_outputs(site.dr.primary_stack, _primary_outputs(site.dr.primary_stack, read_outputs))
        problems = parity_problems(site, primary)
        if problems:
            details = "\n".join(f"  - {problem}" for problem in problems)
            raise GateError(PRIMARY_STACK_KEY, f"this standby does not match the primary {primary.stack}:\n{details}")
        _streams_from(site, primary)
    # Only a site that serves lists standbys (site_rules.replication_from_an_active_site).
    if superseded is not None and site.replication.standby_addresses:
        _not_superseded(site, superseded)
    return Deployment(site=site, upgrade=upgrade, primary=primary)


def _not_superseded(site: SiteConfig, superseded: FenceQuestion) -> None:
    """A site whose standby was promoted while it was cut off must not serve again: its fence already refuses
    writes (or will within a minute), and an `up` as primary would undo none of that but claim the site."""
    reason = superseded(site)
    if reason is not None:
        raise GateError(
            ("role",),
            f"this site is no longer the primary: {reason}. Fail back instead: list this master "
            f"{site.master.address} in the promoted site's replication.standbyAddresses and `pulumi up` there, then "
            "give this stack role: standby and a dr section naming the promoted stack (its data is archived, then "
            "seeded from the promoted site)",
        )


def _streams_from(site: SiteConfig, primary: PrimarySite) -> None:
    """A streaming standby needs its primary to stream to it: listed there, and deployed since."""
    if not site.streams_from_primary:
        return
    if site.master.address not in primary.standby_addresses:
        raise GateError(
            ("dr", "replication"),
            f"this standby streams from {primary.stack}, which does not list its master {site.master.address} in "
            "replication.standbyAddresses: add it there and run `pulumi up` on the primary first (or set "
            "dr.replication: archive)",
        )
    needed = {
        "postgresPort": primary.postgres_port,
        "replicationPassword": primary.replication_password,
        "databasePassword": primary.database_password,
        "registryCaCert": primary.ca_cert,
    }
    missing = sorted(name for name, value in needed.items() if not value)
    if missing:
        raise GateError(
            ("dr", "replication"),
            f"{primary.stack} lists this standby but has no output {', '.join(missing)} yet: run `pulumi up` on "
            "the primary first",
        )
    if site.master.postgres_port != primary.postgres_port:
        # The primary's fence asks its standbys at its own port: it reads no standby's outputs.
        raise GateError(
            ("master", "postgresPort"),
            f"must be {primary.postgres_port}, the port {primary.stack} publishes PostgreSQL on, which its fence "
            f"asks this standby at; this standby has {site.master.postgres_port}",
        )
