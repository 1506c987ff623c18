"""The stack-output contract: what every site exports (`pulumi stack output`) and a standby reads back from its
primary, each output once, with its type and meaning."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

import pulumi
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints, ValidationError
from pydantic.alias_generators import to_camel

from components.config import (
    BackupConfig,
    DnsLabel,
    HostAddress,
    Ipv4Host,
    NetworkMode,
    Port,
    SemVer,
    SiteDirectory,
    SiteRole,
    StandbyKind,
)

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


def _whole_number(value: Any) -> Any:
    """Stack outputs carry numbers as floats (a protobuf Struct's only number type): 5432.0 is port 5432."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class NodeCapacity(BaseModel):
    """One entry of the `nodes` output (SiteConfig.node_set), as parity compares it. Numbers come as floats, so
    2.0 CPUs is 2 and 2.5 is refused; the entry's name and address are not compared."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    ram_gb: float = Field(alias="ramGb", gt=0, allow_inf_nan=False)
    cpus: int = Field(gt=0)


class StackOutputs(BaseModel):
    """Every output a site exports, named as users see it (the field's name in camelCase). Read back from another
    stack, each is validated as the input it is there. Only what every deployed site has is required (the fields
    without a default): a primary deployed by an earlier release may lack the rest, and an output that was None
    is not recorded at all (the SDK drops None values: pulumi/pulumi sdk/python/lib/pulumi/runtime/rpc.py
    serialize_properties)."""

    # Strict: another stack's values are input to this one, and `"yes"` is no boolean.
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True, alias_generator=to_camel)

    program_version: str | None = Field(
        default=None,
        description="the release of this program (pyproject.toml) that converged the stack",
    )
    site_name: DnsLabel = Field(description="the prefix of every container, volume and network")
    environment: DnsLabel | None = Field(
        default=None, description="the stack's `environment` (only `dev` may relax TLS and plaintext secrets)"
    )
    role: SiteRole | None = Field(default=None, description="`primary` or `standby`")
    version: SemVer = Field(description="the Codenvy version the server runs (a failed upgrade keeps the old one)")
    url: str | None = Field(default=None, description="the site's public URL")
    hostname: HostAddress | None = Field(default=None, description="the site's public DNS name")
    network_mode: NetworkMode | None = Field(default=None, description="`bridge` or `overlay`")
    manager_address: Ipv4Host = Field(description="the Swarm manager's address (the master)")
    registry: RegistryEndpoint = Field(description="the private registry, `address:port`")
    registry_ca_cert: PemCertificate | None = Field(
        default=None, description="the site CA bundle (PEM): every generation the site trusts"
    )
    registry_username: str | None = Field(default=None, description="the registry's user")
    registry_password: OutputSecret | None = Field(
        default=None,
        description="the registry's password",
        json_schema_extra={"secret": True},
    )
    # Lax: a node's numbers come as floats (NodeCapacity).
    nodes: list[NodeCapacity] = Field(
        strict=False,
        description="the workspace hosts with their RAM and CPUs (what a standby must match)",
    )
    license_present: bool = Field(default=False, description="whether a licence is set")
    backup_directory: SiteDirectory = Field(
        default=BackupConfig.model_fields["directory"].default,
        description="where backups are kept on the master",
    )
    active: bool | None = Field(
        default=None, description="whether this site serves users (a primary, or a promoted standby)"
    )
    standby: StandbyKind | None = Field(
        default=None, description="`hot` or `cold` on a standby not promoted; else null"
    )
    dns_record: dict[str, str] | None = Field(
        default=None,
        description="where the site's DNS name must point; the active site only",
    )
    replication_standbys: list[Ipv4Host] = Field(default=[], description="the standby masters this site streams to")
    postgres_port: Annotated[Port, BeforeValidator(_whole_number)] | None = Field(
        default=None,
        description="where PostgreSQL listens for a streaming peer; null when not streaming",
    )
    replication_password: OutputSecret | None = Field(
        default=None,
        description="the replication role's password, read by a streaming standby",
        json_schema_extra={"secret": True},
    )
    database_password: OutputSecret | None = Field(
        default=None,
        description="the server's database password, read by a streaming standby; null when not streaming",
        json_schema_extra={"secret": True},
    )
    admin_password: OutputSecret | None = Field(
        default=None,
        description="the admin's initial password (the one set, or one generated)",
        json_schema_extra={"secret": True},
    )

    @classmethod
    def name_of(cls, field: str) -> str:
        """The output's name as users see it (`pulumi stack output NAME`)."""
        alias = cls.model_fields[field].alias
        assert alias is not None, "alias_generator names every field"
        return alias

    @classmethod
    def read(cls, stack: str, outputs: Mapping[str, Any]) -> StackOutputs:
        """`stack`'s outputs, validated; raises OutputsRefusedError naming each output missing or refused."""
        try:
            return cls.model_validate(outputs)
        except ValidationError as error:
            raise OutputsRefusedError(stack, error) from None


def exported(**values: pulumi.Input[object]) -> dict[str, pulumi.Input[object]]:
    """The stack's outputs under the names users see, from one value per StackOutputs field (by field name), in
    the order given. None is fine (the SDK records no such output); a field left out, or a name that is no
    field, is refused here, at the first preview."""
    fields = StackOutputs.model_fields
    unknown, missing = sorted(set(values) - set(fields)), sorted(set(fields) - set(values))
    if unknown or missing:
        raise TypeError(f"stack outputs: not in StackOutputs {unknown}, StackOutputs fields not given {missing}")
    return {StackOutputs.name_of(field): value for field, value in values.items()}


class OutputsRefusedError(Exception):
    """Outputs of `stack` a reader cannot take: `missing` ones a deployed site has, and `refused` ones (name,
    why) of the wrong type or shape."""

    def __init__(self, stack: str, error: ValidationError) -> None:
        self.stack = stack
        self.missing: list[str] = []
        self.refused: list[tuple[str, str]] = []
        for problem in error.errors():
            name = str(problem["loc"][0])
            if problem["type"] == "missing" and len(problem["loc"]) == 1:  # not a key missing inside an output
                self.missing.append(name)
            elif name not in dict(self.refused):
                self.refused.append((name, problem["msg"].removeprefix("Value error, ")))
        super().__init__(f"{stack}: missing {self.missing}, refused {self.refused}")
