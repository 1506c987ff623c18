"""What a deployment must agree with before anything changes: the version this stack last deployed, and,
for a standby, the primary it mirrors. Both are read from stack outputs, synchronously, before any
resource is registered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.config import GateError, ReplicationMode, SiteConfig, config_key
from components.stack_outputs import NodeCapacity, OutputsRefusedError, StackOutputs
from components.versioning import UpgradePlan, UpgradeRefusedError, plan_upgrade

# The engine's builtin provider answers this invoke with a stack's last outputs, `{name, outputs,
# secretOutputNames}` (pulumi/pulumi pkg/resource/deploy/builtins.go). It is synchronous here, before any
# resource exists; StackReference (in every SDK) is a read of pulumi:pulumi:StackReference instead.
# A stack whose checkpoint does not exist fails the invoke ('unknown stack "NAME"'); a stack that exists
# but was never deployed gives no outputs (what it gives is read through StackOutputs).
READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"

OutputsReader = Callable[[str], Mapping[str, Any]]
# Asks whether a standby was promoted past this site (components/fencing.py ask_master): why, or None.
FenceQuestion = Callable[[SiteConfig], str | None]
# The key every gate about the primary names: a standby's link to it.
PRIMARY_STACK_KEY = ("dr", "primaryStack")


class OutputsUnavailableError(Exception):
    """A reader with no backend to ask (a check run without the engine): the gates on those outputs cannot run."""


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
        """The primary's outputs read through the contract (StackOutputs), each checked as the input it is to
        this stack: they reach the standby's scripts, files and a remote shell on the primary."""
        try:
            read = StackOutputs.read(stack, outputs)
        except OutputsRefusedError as refused:
            raise GateError(PRIMARY_STACK_KEY, _refusal(refused)) from None
        return cls(
            stack=stack,
            site_name=read.site_name,
            version=read.version,
            manager_address=read.manager_address,
            registry=read.registry,
            backup_directory=read.backup_directory,
            nodes=capacities(read.nodes),
            license_present=read.license_present,
            standby_addresses=tuple(read.replication_standbys),
            postgres_port=read.postgres_port,
            replication_password=read.replication_password,
            database_password=read.database_password,
            admin_password=read.admin_password,
            ca_cert=read.registry_ca_cert,
        )


def _refusal(refused: OutputsRefusedError) -> str:
    """A primary that was never deployed lacks outputs; one whose outputs are of the wrong shape has each named."""
    if refused.missing:
        return f"{refused.stack} has no output {', '.join(refused.missing)}; run `pulumi up` on the primary first"
    problems = "; ".join(f"the output {name} of {refused.stack} is refused ({why})" for name, why in refused.refused)
    return f"{problems}; fix the primary's configuration and run `pulumi up` there"


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
    deployed_name = previous.get(StackOutputs.name_of("site_name"))
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
        upgrade = plan_upgrade(previous.get(StackOutputs.name_of("version")), site.version, site.upgrade.allow_major)
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
    if site.is_active or site.replication_mode is not ReplicationMode.STREAMING:
        return
    if site.master.address not in primary.standby_addresses:
        raise GateError(
            ("dr", "replication"),
            f"this standby streams from {primary.stack}, which does not list its master {site.master.address} in "
            "replication.standbyAddresses: add it there and run `pulumi up` on the primary first (or set "
            "dr.replication: archive)",
        )
    needed = {
        StackOutputs.name_of("postgres_port"): primary.postgres_port,
        StackOutputs.name_of("replication_password"): primary.replication_password,
        StackOutputs.name_of("database_password"): primary.database_password,
        StackOutputs.name_of("registry_ca_cert"): primary.ca_cert,
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
