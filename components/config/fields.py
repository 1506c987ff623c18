"""The value types stack-file keys are made of, each with the validator that explains a refusal."""

from __future__ import annotations

import calendar
import re
from ipaddress import IPv4Address, ip_address
from typing import Annotated, get_args

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

# Internal ports of the seeds' port tables plus Swarm's; none may carry a site's
# public traffic, so they are refused as HAProxy or registry ports.
INTERNAL_PORTS = frozenset({2181, 2375, 2376, 2377, 4789, 5432, 7946})

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
# ASCII digits only, spelled [0-9]: Python's \d also matches other scripts' digits (١), which Docker's and
# cron's parsers refuse.
_SEMVER = re.compile(r"^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_CRON_ITEM = re.compile(r"^(?:\*|([0-9]+)(?:-([0-9]+))?)(?:/([0-9]+))?$")
# Each cron field's name and range, in order (day of week: 0 and 7 are Sunday).
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
# docker/distribution's reference grammar (reference/regexp.go): [domain[:port]/]path[:tag][@digest].
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_DOMAIN = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
)
_IMAGE_REPOSITORY = re.compile(rf"(?:{_IMAGE_DOMAIN}/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*")
# docker/distribution reference/regexp.go: tag = [\w][\w.-]{0,127}, where Go's \w is ASCII.
_IMAGE_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# A path that a shell, a crontab line and a remote command all read as one word: no quoting needed anywhere.
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+-]+")
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.fullmatch(value):
        raise ValueError("must be a DNS label: lower-case letters, digits and '-', at most 63 characters")
    return value


def is_ip_address(value: str) -> bool:
    try:
        ip_address(value)
    except ValueError:
        return False
    return True


def _host_address(value: str) -> str:
    if not is_ip_address(value) and not _HOSTNAME.fullmatch(value):
        raise ValueError("must be an IP address or a DNS host name")
    return value


def _ipv4_address(value: str) -> str:
    """Hosts are IPv4 addresses: the firewall's sets are ipv4_addr and endpoints are written address:port."""
    try:
        IPv4Address(value)
    except ValueError:
        raise ValueError(
            "must be an IPv4 address such as 10.0.0.5 (DNS names and IPv6 are not supported for hosts: the "
            "firewall and the registry endpoint need an IPv4 address)"
        ) from None
    return value


def safe_path(value: str) -> str:
    """A path written as one shell word: letters, digits and . _ / + -, no '..' step, not an option."""
    if not _SAFE_PATH.fullmatch(value) or value.startswith("-") or ".." in value.split("/"):
        raise ValueError(
            "must be a path of letters, digits and . _ / + - (no spaces, quotes or other shell characters, "
            "no '..', not starting with '-')"
        )
    return value.rstrip("/") or "/"


def absolute_path(value: str) -> str:
    value = safe_path(value)
    if not value.startswith("/"):
        raise ValueError("must be an absolute path (starting with /) of letters, digits and . _ / + -")
    return value


def _semver(value: str) -> str:
    if not _SEMVER.fullmatch(value):
        raise ValueError("must be a semantic version such as 5.22.0 or 5.0.0-M8")
    return value


def _cron_values(field: str, name: str, low: int, high: int) -> set[int]:
    values: set[int] = set()
    for item in field.split(","):
        match = _CRON_ITEM.fullmatch(item)
        if not match:
            raise ValueError(f"{name} '{field}': use numbers, ranges a-b, lists a,b, steps /n or *")
        first, last, step = match.groups()
        start = low if first is None else int(first)
        end = high if first is None else int(last) if last is not None else start
        if not (low <= start <= high and low <= end <= high) or start > end:
            raise ValueError(f"{name} '{field}': values must lie in {low}-{high}, ranges ascending")
        if step is not None and int(step) == 0:
            raise ValueError(f"{name} '{field}': a step must be at least 1")
        values.update(range(start, end + 1, int(step) if step else 1))
    return values


def _cron(value: str) -> str:
    fields = value.split(" ")
    if len(fields) != 5:
        raise ValueError("must be a 5-field cron schedule such as '0 2 * * *' (fields separated by one space)")
    parsed = [_cron_values(field, *spec) for field, spec in zip(fields, _CRON_FIELDS, strict=True)]
    days, months = parsed[2], parsed[3]
    # With a day of week given too, cron runs on either match; with '*' there, the day must exist in a month.
    if fields[4] == "*" and not any(min(days) <= calendar.monthrange(2024, month)[1] for month in months):
        raise ValueError(f"'{value}' never fires: no listed month has day {min(days)}")
    return value


def _stack_name(value: str) -> str:
    if not _STACK_NAME.fullmatch(value):
        raise ValueError("must be a fully qualified stack name: organization/project/stack")
    return value


def _public_port(value: int) -> int:
    if value in INTERNAL_PORTS:
        raise ValueError(f"{value} is an internal port (one of {sorted(INTERNAL_PORTS)}); pick another")
    return value


def image_repository(value: str) -> str:
    if not _IMAGE_REPOSITORY.fullmatch(value) or len(value) > 255:
        raise ValueError(
            "must be an image repository such as codenvy/codenvy or registry.example.com:5000/team/server "
            "(lower-case path components of letters, digits and . _ -)"
        )
    return value


def _pinned_image(value: str) -> str:
    """An image reference with an explicit tag other than latest, or a digest."""
    digest = _DIGEST.search(value)
    if digest:
        name = value[: digest.start()]
        name = name.rpartition(":")[0] if ":" in name.rsplit("/", 1)[-1] else name
        image_repository(name)
        return value
    name, _, tag = value.rpartition(":")
    if not name or "/" in tag:
        raise ValueError("must name a tag (repository:tag) or a digest (repository@sha256:...)")
    image_repository(name)
    if not _IMAGE_TAG.fullmatch(tag):
        raise ValueError("the tag must be letters, digits and . _ - (at most 128, not starting with . or -)")
    if tag == "latest":
        raise ValueError("'latest' is not a pin: name a version tag or a digest")
    return value


DnsLabel = Annotated[str, AfterValidator(_dns_label)]
HostAddress = Annotated[str, AfterValidator(_host_address)]
Ipv4Host = Annotated[str, AfterValidator(_ipv4_address)]
SafePath = Annotated[str, AfterValidator(safe_path)]
AbsolutePath = Annotated[str, AfterValidator(absolute_path)]
SemVer = Annotated[str, AfterValidator(_semver)]
PinnedImage = Annotated[str, AfterValidator(_pinned_image)]
CronSchedule = Annotated[str, AfterValidator(_cron)]
StackName = Annotated[str, AfterValidator(_stack_name)]
Port = Annotated[int, Field(ge=1, le=65535)]
PublicPort = Annotated[Port, AfterValidator(_public_port)]


class Model(BaseModel):
    """Stack-file keys are camelCase; unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_booleans_for_other_types(cls, value: object, info: ValidationInfo) -> object:
        # Pydantic takes true as 1 for numbers and addresses: `port: true` would be port 1.
        items = value if isinstance(value, list | tuple) else [value]
        assert info.field_name is not None, "a field validator is always about one field"
        if any(isinstance(item, bool) for item in items) and not _admits_bool(
            cls.model_fields[info.field_name].annotation
        ):
            raise ValueError("true/false is not allowed here")
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _not_too_deeply_nested(cls, value: object) -> object:
        if isinstance(value, TooDeeplyNested):
            raise ValueError(f"nested more than {value.limit} levels deep; no key takes lists or objects that deep")
        return value


class TooDeeplyNested:
    """What the seam hands a model for a value nested deeper than any key takes: refused by the key it is at,
    never decoded (the decoder recurses once a level, so a deep enough value would crash the program)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit


class Settings(BaseModel):
    """What one component reads, taken from the validated stack config by the component's `of`; frozen, so
    a component cannot change what another reads."""

    model_config = ConfigDict(frozen=True)


def _admits_bool(annotation: object) -> bool:
    return annotation is bool or any(_admits_bool(arg) for arg in get_args(annotation))
