"""The site's configuration: pydantic models behind every key of a stack file."""

from __future__ import annotations

import calendar
import re
from collections import Counter
from ipaddress import IPv4Address, IPv4Network, ip_address
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel


class ConfigError(Exception):
    """Stack configuration that cannot describe or change a site; the message names each bad key."""


# Internal ports of the seeds' port tables plus Swarm's; none may carry a site's
# public traffic, so they are refused as HAProxy or registry ports.
INTERNAL_PORTS = frozenset({2181, 2375, 2376, 2377, 4789, 5432, 7946})

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?$")
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
_CRON_ITEM = re.compile(r"^(?:\*|(\d+)(?:-(\d+))?)(?:/(\d+))?$")
# Each cron field's name and range, in order (day of week: 0 and 7 are Sunday).
_CRON_FIELDS = (("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7))
# docker/distribution's reference grammar (reference/regexp.go): [domain[:port]/]path[:tag][@digest].
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_DOMAIN = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
)
_IMAGE_REPOSITORY = re.compile(rf"(?:{_IMAGE_DOMAIN}/)?{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*")
_IMAGE_TAG = re.compile(r"[\w][\w.-]{0,127}")
# A path that a shell, a crontab line and a remote command all read as one word: no quoting needed anywhere.
_SAFE_PATH = re.compile(r"[A-Za-z0-9._/+-]+")
_POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_HOST_KEY = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|"
    r"sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x21-\x7e]+)?"
)
# Environments that may leave hosts' SSH keys unpinned: dev, and the simulated cluster, whose nodes get new
# host keys every time it is made.
UNPINNED_HOST_KEY_ENVIRONMENTS = frozenset({"dev", "sim"})
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


def _image_repository(value: str) -> str:
    if not _IMAGE_REPOSITORY.fullmatch(value) or len(value) > 255:
        raise ValueError(
            "must be an image repository such as codenvy/codenvy or registry.example.com:5000/team/server "
            "(lower-case path components of letters, digits and . _ -)"
        )
    return value


def _pinned_image(value: str) -> str:
    """An image reference with an explicit tag other than latest, or a digest."""
    if _DIGEST.search(value):
        name = value[: _DIGEST.search(value).start()]
        name = name.rpartition(":")[0] if ":" in name.rsplit("/", 1)[-1] else name
        _image_repository(name)
        return value
    name, _, tag = value.rpartition(":")
    if not name or "/" in tag:
        raise ValueError("must name a tag (repository:tag) or a digest (repository@sha256:...)")
    _image_repository(name)
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
        if any(isinstance(item, bool) for item in items) and not _admits_bool(
            cls.model_fields[info.field_name].annotation
        ):
            raise ValueError("true/false is not allowed here")
        return value


def _admits_bool(annotation: object) -> bool:
    return annotation is bool or any(_admits_bool(arg) for arg in get_args(annotation))


class SshEndpoint(Model):
    user: str = Field("root", description="SSH user; scripts write /etc/docker, so root or equivalent.")
    port: Port = Field(22, description="SSH port of the host.")

    @field_validator("user")
    @classmethod
    def _posix_user(cls, value: str) -> str:
        if not _POSIX_USER.fullmatch(value):
            raise ValueError("must be a user name: lower-case letters, digits, _ and -, not starting with a digit or -")
        return value


def _host_key_line(value: str) -> str:
    if not _HOST_KEY.fullmatch(value):
        raise ValueError(
            "must be the host's public key as in known_hosts without the host: 'ssh-ed25519 AAAA…' (types "
            "ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-…), on one line"
        )
    return value


HostKeyLine = Annotated[str, AfterValidator(_host_key_line)]


class PrimarySshEndpoint(SshEndpoint):
    host_key: HostKeyLine | None = Field(
        None,
        description="The primary master's public host key ('ssh-ed25519 AAAA…'); the transfer verifies it. "
        "Required outside environments dev and sim; absent there, the transfer trusts the key on first use.",
    )


# ssh(1) options that would make the Docker provider's ssh and the Commands' SSH client (pulumi-command's
# own, which reads no ssh option, ~/.ssh/config or default identity) reach the host differently. Each
# has a key of its own that both use.
_SSH_OPTION_KEYS = {"identityfile": "keyFile", "port": "port", "user": "user"}
_SSH_FLAG_KEYS = {"-i": "keyFile", "-p": "port", "-l": "user"}


class SshAccess(SshEndpoint):
    key_file: str | None = Field(
        None,
        description="Private key file where Pulumi runs, used by the Commands and the Docker provider's ssh. "
        "Absent: sshPrivateKey, else the ssh-agent.",
    )
    host_key: HostKeyLine | None = Field(
        None,
        description="The host's public key ('ssh-ed25519 AAAA…'); the Commands verify it. Required outside "
        "environments dev and sim; absent there, the Commands accept any host key (pulumi-command checks none "
        "unless given one).",
    )
    options: tuple[str, ...] = Field(
        (),
        description="Extra ssh(1) options for the Docker provider's ssh only (the Commands ignore them), e.g. "
        "['-o', 'StrictHostKeyChecking=accept-new']; keys, port and user have keys of their own.",
    )

    @field_validator("options")
    @classmethod
    def _no_competing_options(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for option in _ssh_option_names(value):
            if option in _SSH_FLAG_KEYS or option in _SSH_OPTION_KEYS:
                key = _SSH_FLAG_KEYS.get(option) or _SSH_OPTION_KEYS[option]
                raise ValueError(f"'{option}': set ssh.{key} instead; the Commands' SSH client reads no ssh option")
        return value


def _ssh_option_names(arguments: tuple[str, ...]):
    """The flags (`-i`) and lower-cased `-o` option names (`identityfile`) in ssh(1) arguments."""
    for name, _ in _ssh_options(arguments):
        yield name


def _ssh_options(arguments: tuple[str, ...]):
    """(name, value) of each flag (`-i`, value "") and `-o` option (`stricthostkeychecking`, `no`)."""
    pending_o = False
    for argument in arguments:
        if pending_o or (argument.startswith("-o") and argument != "-o"):
            text = argument if pending_o else argument[2:]
            pending_o = False
            words = text.strip().replace("=", " ").split(None, 1)
            yield (words[0].lower(), words[1].strip().lower() if len(words) > 1 else "") if words else ("", "")
        elif argument == "-o":
            pending_o = True
        elif argument.startswith("-"):
            yield argument[:2], ""


def unverified_host_key_option(arguments: tuple[str, ...]) -> str | None:
    """The ssh option that would let the Docker provider's ssh accept an unknown host key, if any: without
    them it checks the host against known_hosts where Pulumi runs, and refuses one it does not know."""
    for name, value in _ssh_options(arguments):
        if (name, value) in (("stricthostkeychecking", "no"), ("stricthostkeychecking", "accept-new")) or (
            name in ("userknownhostsfile", "globalknownhostsfile") and value == "/dev/null"
        ):
            return f"{name}={value}"
    return None


class HostConfig(Model):
    name: DnsLabel = Field(description="Host name used in resource names and node labels.")
    address: Ipv4Host = Field(description="IPv4 address other cluster members and browsers reach this host at.")
    ssh: SshAccess | None = Field(
        None, description="How to reach the host over SSH; absent means this machine (local commands)."
    )
    docker_host: str | None = Field(
        None,
        description="Docker API endpoint: unix://, ssh:// or tcp://host:2376 with dockerCertPath. "
        "Default: the local socket, or ssh://user@address:port when ssh is set.",
    )
    docker_cert_path: str | None = Field(
        None, description="Directory with ca.pem, cert.pem, key.pem for a tcp:// docker host."
    )
    manage_docker: bool | None = Field(
        None,
        description="Let the program write /etc/docker (daemon.json, registry CA) and restart Docker here. "
        "Default: on for SSH hosts, off for this machine.",
    )
    docker_restart_command: str = Field(
        "systemctl restart docker", description="Command that restarts the Docker daemon on this host."
    )
    ram_gb: float = Field(
        4, gt=0, le=65536, allow_inf_nan=False, description="RAM the host offers to workspaces, in GiB."
    )
    cpus: int = Field(2, gt=0, le=4096, description="CPUs the host offers to workspaces.")
    lost: bool = Field(
        False,
        description="The host is gone for good: once the manager confirms it is down, the program forgets its "
        "resources without contacting it and removes it from the swarm; then delete the node from nodes.",
    )

    @field_validator("docker_host")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None:
            return value
        scheme = value.split("://", 1)[0]
        if "://" not in value or scheme not in ("unix", "ssh", "tcp"):
            raise ValueError("must start with unix://, ssh:// or tcp://")
        if scheme == "tcp" and value.rstrip("/").endswith(":2375"):
            raise ValueError("port 2375 is the plaintext Docker API; use ssh:// or tcp://host:2376 with TLS")
        if scheme == "tcp" and not re.fullmatch(r"tcp://[A-Za-z0-9.-]+:[0-9]{1,5}/?", value):
            raise ValueError("a tcp:// endpoint is tcp://ADDRESS:PORT, e.g. tcp://10.0.0.5:2376")
        if scheme == "tcp" and not 1 <= int(value.rstrip("/").rsplit(":", 1)[1]) <= 65535:
            raise ValueError("the port of a tcp:// endpoint must be in 1-65535")
        return value

    @property
    def docker_tls_port(self) -> int | None:
        """The port of a tcp:// Docker API (TLS), which the firewall opens to the administrators."""
        if self.docker_host and self.docker_host.startswith("tcp://"):
            return int(self.docker_host.rstrip("/").rsplit(":", 1)[1])
        return None

    @property
    def ssh_port(self) -> int:
        """The port sshd listens on: the configured one, 22 for this machine."""
        return self.ssh.port if self.ssh else 22

    @model_validator(mode="after")
    def _tcp_needs_tls(self) -> HostConfig:
        if self.docker_host and self.docker_host.startswith("tcp://") and not self.docker_cert_path:
            raise ValueError("dockerHost: tcp:// needs dockerCertPath (TLS); plaintext Docker APIs are refused")
        return self

    @model_validator(mode="after")
    def _lost_hosts_are_remote(self) -> HostConfig:
        if self.lost and self.ssh is None:
            raise ValueError("lost: only a host reached over SSH can be lost; this machine is here")
        return self

    @property
    def is_local(self) -> bool:
        return self.ssh is None

    @property
    def manages_docker(self) -> bool:
        return (not self.is_local) if self.manage_docker is None else self.manage_docker

    @property
    def docker_endpoint(self) -> str:
        if self.docker_host:
            return self.docker_host
        if self.ssh is None:
            return "unix:///var/run/docker.sock"
        return f"ssh://{self.ssh.user}@{self.address}:{self.ssh.port}"


class MasterConfig(HostConfig):
    name: DnsLabel = Field("master", description="Host name of the master node.")
    address: Ipv4Host = Field("127.0.0.1", description="IPv4 address of the master node.")
    host_workspaces: bool = Field(True, description="Also run workspaces on the master (the seed allows it).")
    http_port: PublicPort = Field(80, description="Host port HAProxy publishes for HTTP.")
    https_port: PublicPort = Field(443, description="Host port HAProxy publishes for HTTPS.")

    @field_validator("lost")
    @classmethod
    def _master_is_never_lost(cls, value: bool) -> bool:
        if value:
            raise ValueError("the master cannot be marked lost; rebuild it and restore the newest backup (README)")
        return value


class NetworkConfig(Model):
    mode: Literal["bridge", "overlay"] = Field(
        "bridge", description="bridge: one host; overlay: a Swarm-mode overlay network across nodes."
    )
    encrypted: bool = Field(False, description="Encrypt overlay data-plane traffic (IPsec); overlay mode only.")


class RegistryConfig(Model):
    port: PublicPort = Field(5000, description="Host port of the private registry on the master.")
    tls: bool = Field(True, description="Serve the registry over TLS from the site CA; off is allowed only in dev.")
    auth: Literal["htpasswd", "none"] = Field("htpasswd", description="Registry authentication.")


class ImagesConfig(Model):
    server: str = Field("codenvy/codenvy", description="Repository of the application server; its tag is `version`.")
    postgres: PinnedImage = Field("postgres:15.8", description="PostgreSQL image, pinned.")
    haproxy: PinnedImage = Field("haproxy:2.8.5", description="HAProxy image, pinned.")
    registry: PinnedImage = Field("registry:2.8.3", description="Docker registry image, pinned.")

    @field_validator("server")
    @classmethod
    def _repository_only(cls, value: str) -> str:
        if ":" in value.rsplit("/", 1)[-1] or "@" in value:
            raise ValueError("name the repository only; the tag is taken from `version`")
        return _image_repository(value)


class MemoryConfig(Model):
    postgres_mb: int = Field(1024, ge=64, description="Memory limit of PostgreSQL, MiB.")
    server_mb: int = Field(2048, ge=256, description="Memory limit of the application server, MiB.")
    haproxy_mb: int = Field(256, ge=32, description="Memory limit of HAProxy, MiB.")
    registry_mb: int = Field(512, ge=64, description="Memory limit of the registry, MiB.")


class LogConfig(Model):
    max_size: str = Field("10m", pattern=r"^[1-9]\d*[kmg]$", description="json-file log rotation size.")
    max_file: int = Field(3, ge=1, le=100, description="json-file rotated files kept.")


class ProxyConfig(Model):
    http_proxy: str | None = Field(None, description="HTTP proxy mirrored from the master to every node's daemon.")
    https_proxy: str | None = Field(None, description="HTTPS proxy mirrored to every node's daemon.")
    no_proxy: str | None = Field(None, description="Hosts that bypass the proxy.")


# The seed's Resource API table: resource type -> the units it accepts, the first being its default.
LIMIT_UNITS: dict[str, tuple[str, ...]] = {
    "RAM": ("mb",),
    "workspace": ("item",),
    "runtime": ("item",),
    "timeout": ("minute",),
}
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


class ResourceLimit(Model):
    type: Literal["RAM", "workspace", "runtime", "timeout"] = Field(description="Resource type (seed's table).")
    amount: int = Field(ge=0, description="Amount, in the unit.")
    unit: str | None = Field(None, description="mb for RAM, item for workspace/runtime, minute for timeout.")

    @model_validator(mode="after")
    def _unit_of_type(self) -> ResourceLimit:
        allowed = LIMIT_UNITS[self.type]
        if self.unit is not None and self.unit not in allowed:
            raise ValueError(f"unit: '{self.unit}' is not a unit of {self.type}; allowed: {', '.join(allowed)}")
        return self

    @property
    def megabytes(self) -> int | None:
        return self.amount if self.type == "RAM" else None


class UserLimits(Model):
    user_id: str = Field(description="Codenvy user ID whose default limits are overridden.")
    resources: tuple[ResourceLimit, ...] = Field(min_length=1, description="The overrides; others stay default.")

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not _USER_ID.fullmatch(value):
            raise ValueError("must be a user ID: letters, digits and . _ @ -, at most 128 characters")
        return value

    @model_validator(mode="after")
    def _one_per_type(self) -> UserLimits:
        types = [limit.type for limit in self.resources]
        repeated = sorted({t for t in types if types.count(t) > 1})
        if repeated:
            raise ValueError(f"resources: each type once; repeated: {', '.join(repeated)}")
        return self


class DefaultLimits(Model):
    ram_mb: int = Field(4096, ge=256, description="RAM a user's running workspaces may use in total, MiB.")
    workspaces: int = Field(30, ge=1, description="Workspaces a user may create.")
    runtimes: int = Field(1, ge=1, description="Workspaces a user may run at once.")
    idle_timeout_minutes: int = Field(240, ge=1, description="Idle time before a workspace is stopped.")


class LimitsConfig(Model):
    defaults: DefaultLimits = Field(default_factory=DefaultLimits, description="System-wide defaults (codenvy.env).")
    users: tuple[UserLimits, ...] = Field((), description="Per-user overrides, applied through the Resource API.")
    api_url: str | None = Field(None, description="Base URL of the REST API; default: the site URL + /api.")
    admin_user: str = Field("admin", description="Admin account that calls the API (password: adminPassword).")

    @field_validator("users")
    @classmethod
    def _one_entry_per_user(cls, value: tuple[UserLimits, ...]) -> tuple[UserLimits, ...]:
        counts = Counter(user.user_id for user in value)
        repeated = sorted(user_id for user_id, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(f"each userId once (merge their resources); repeated: {', '.join(repeated)}")
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?", value):
            raise ValueError("must be an http(s):// URL such as https://codenvy.example.com/api")
        return value


class AuditConfig(Model):
    enabled: bool = Field(False, description="Fetch /api/audit after install and each upgrade.")
    directory: str = Field("audit-reports", description="Where report_<datetime>.txt files are saved locally.")


class FirewallConfig(Model):
    enabled: bool | None = Field(None, description="nftables rules on every managed host; default: on outside dev.")
    public_cidrs: tuple[IPv4Network, ...] = Field(
        (IPv4Network("0.0.0.0/0"),), description="Who may reach HTTP(S) and workspace ports."
    )
    ssh_cidrs: tuple[IPv4Network, ...] = Field(
        (IPv4Network("0.0.0.0/0"),),
        description="Who may reach each host's SSH port (ssh.port) and a tcp:// Docker API (TLS): administrators.",
    )
    peer_cidrs: tuple[IPv4Network, ...] = Field(
        (), description="Other sites' hosts (e.g. the DR standby) that may pull from the registry."
    )
    persist_file: AbsolutePath = Field(
        "/etc/nftables.conf",
        description="The ruleset the host's nftables service loads at boot (RHEL: /etc/sysconfig/nftables.conf); "
        "the site's table is included from it so it survives a reboot.",
    )


class UpgradeConfig(Model):
    skip_backup: bool = Field(False, description="Skip the pre-upgrade backup (the seed's --skip-backup); warns.")
    allow_major: bool = Field(False, description="Allow a jump to a new major version (after a migration).")


class BackupConfig(Model):
    directory: SafePath = Field(
        "/var/backups/codenvy",
        description="Where archives are kept on the master: an absolute path of letters, digits and . _ / + - "
        "(relative, to the working directory, only in environment dev).",
    )
    tools_directory: SafePath = Field(
        "/usr/local/lib/codenvy",
        description="Where the backup, restore and transfer scripts are installed (absolute outside dev, as "
        "directory).",
    )
    schedule: CronSchedule | None = Field(
        "0 2 * * *", description="Cron schedule of backups on the master; may be null only in dev."
    )
    keep: int = Field(7, ge=1, le=365, description="Archives kept; older ones are deleted after each backup.")


class DrConfig(Model):
    primary_stack: StackName = Field(description="The primary site's stack, as organization/project/stack.")
    standby: Literal["hot", "cold"] = Field(
        "hot", description="hot: services run idle and backups are restored; cold: containers exist, stopped."
    )
    promote: bool = Field(False, description="Fail over: this standby becomes the active site.")
    transfer_schedule: CronSchedule | None = Field(
        "30 2 * * *", description="Cron schedule of the nightly transfer from the primary; null: on demand only."
    )
    primary_ssh: PrimarySshEndpoint = Field(
        default_factory=PrimarySshEndpoint, description="How the standby master reaches the primary."
    )
    ssh_key_file: AbsolutePath = Field(
        "/root/.ssh/id_ed25519", description="Key on the standby master that the primary master accepts."
    )


class SiteConfig(Model):
    site_name: DnsLabel = Field("codenvy", description="Prefix of container, volume and network names.")
    environment: DnsLabel = Field("dev", description="Environment name; only dev may relax TLS.")
    role: Literal["primary", "standby"] = Field("primary", description="primary serves users; standby mirrors one.")
    version: SemVer = Field("5.22.0", description="Codenvy version deployed (the server image tag).")
    hostname: HostAddress = Field("localhost", description="Public DNS name of the site (CODENVY_HOST).")
    network: NetworkConfig = Field(default_factory=NetworkConfig, description="Workspace network.")
    master: MasterConfig = Field(default_factory=MasterConfig, description="The master node.")
    nodes: tuple[HostConfig, ...] = Field((), description="Workspace nodes (overlay mode).")
    registry: RegistryConfig = Field(default_factory=RegistryConfig, description="Private registry.")
    images: ImagesConfig = Field(default_factory=ImagesConfig, description="Container images.")
    memory: MemoryConfig = Field(default_factory=MemoryConfig, description="Container memory limits.")
    logs: LogConfig = Field(default_factory=LogConfig, description="Container and daemon log limits.")
    proxy: ProxyConfig = Field(default_factory=ProxyConfig, description="Proxy for the Docker daemons.")
    https: bool = Field(True, description="Serve the site over HTTPS (HTTP redirects to it).")
    ssh_private_key: SecretStr | None = Field(
        None, description="Secret PEM key for SSH commands; absent means the ssh-agent (SSH_AUTH_SOCK)."
    )
    license: SecretStr | None = Field(None, description="Codenvy licence key (secret); both DR sites need one.")
    upgrade: UpgradeConfig = Field(default_factory=UpgradeConfig, description="Upgrade behaviour.")
    backup: BackupConfig = Field(default_factory=BackupConfig, description="Backups of the master's data.")
    dr: DrConfig | None = Field(None, description="Disaster recovery; required when role is standby.")
    limits: LimitsConfig = Field(default_factory=LimitsConfig, description="Account limits per user.")
    admin_password: SecretStr | None = Field(
        None, description="Secret password of limits.adminUser; needed for limits.users and audit."
    )
    audit: AuditConfig = Field(default_factory=AuditConfig, description="The audit report (seed: audit service).")
    firewall: FirewallConfig = Field(default_factory=FirewallConfig, description="Host firewall per role.")

    @model_validator(mode="after")
    def _topology(self) -> SiteConfig:
        if self.network.mode == "bridge" and self.nodes:
            raise ValueError("nodes: bridge mode runs on one host; list workspace nodes only with network.mode overlay")
        if self.network.mode == "bridge" and self.network.encrypted:
            raise ValueError("network.encrypted: applies to overlay mode only")
        if not self.workspace_hosts:
            raise ValueError("nodes: no host runs workspaces; add nodes or set master.hostWorkspaces true")
        names = Counter(host.name for host in self.hosts)
        addresses = Counter(host.address for host in self.hosts)
        for label, counts in (("name", names), ("address", addresses)):
            repeated = sorted(value for value, count in counts.items() if count > 1)
            if repeated:
                raise ValueError(f"nodes: every host needs its own {label}; repeated: {', '.join(repeated)}")
        if self.master.http_port == self.master.https_port:
            raise ValueError("master.httpsPort: must differ from master.httpPort")
        return self

    @model_validator(mode="after")
    def _master_ports_distinct(self) -> SiteConfig:
        """HAProxy, the registry, sshd and a TLS Docker API all listen on the master's host ports."""
        taken = {self.master.ssh_port: "master.ssh.port (sshd)"}
        if self.master.docker_tls_port:
            taken[self.master.docker_tls_port] = "master.dockerHost (the Docker API)"
        for key, port in (
            ("master.httpPort", self.master.http_port),
            ("master.httpsPort", self.master.https_port),
            ("registry.port", self.registry.port),
        ):
            if port in taken:
                raise ValueError(f"{key}: {port} is already {taken[port]} on the master; pick a free port")
            taken[port] = key
        return self

    @model_validator(mode="after")
    def _reachable_master(self) -> SiteConfig:
        remote = [host.name for host in self.members if not host.is_local]
        if len(self.members) < 2:
            return self  # one host: its Commands may well reach it over SSH at its loopback address
        for key, host in (("master", self.master), *((f"nodes[{i}]", n) for i, n in enumerate(self.nodes))):
            if remote and IPv4Address(host.address).is_loopback:
                raise ValueError(
                    f"{key}.address: {host.address} is a loopback address, which the remote hosts "
                    f"({', '.join(remote)}) cannot reach; give every host an address the others reach"
                )
        return self

    @model_validator(mode="after")
    def _host_keys_pinned(self) -> SiteConfig:
        if self.environment in UNPINNED_HOST_KEY_ENVIRONMENTS:
            return self
        for key, host in (("master", self.master), *((f"nodes[{i}]", n) for i, n in enumerate(self.nodes))):
            if host.ssh is not None and host.ssh.host_key is None:
                raise ValueError(
                    f"{key}.ssh.hostKey: required outside environments dev and sim, so root scripts and the join "
                    "token reach this host only; copy its line from `ssh-keyscan -t ed25519 ADDRESS` (without the "
                    "address)"
                )
            unverified = None if host.ssh is None else unverified_host_key_option(host.ssh.options)
            if unverified is not None:
                raise ValueError(
                    f"{key}.ssh.options: '{unverified}' lets the Docker provider's ssh talk to any host; outside "
                    "environments dev and sim it verifies the host against known_hosts where Pulumi runs (add the "
                    "host there, e.g. from ssh.hostKey)"
                )
        if self.dr is not None and self.dr.primary_ssh.host_key is None:
            raise ValueError(
                "dr.primarySsh.hostKey: required outside environments dev and sim, so the transfer fetches from the "
                "primary only; copy its line from `ssh-keyscan -t ed25519 ADDRESS` (without the address)"
            )
        return self

    @model_validator(mode="after")
    def _absolute_paths_outside_dev(self) -> SiteConfig:
        if self.environment != "dev":
            for key, value in (
                ("backup.directory", self.backup.directory),
                ("backup.toolsDirectory", self.backup.tools_directory),
            ):
                if not value.startswith("/"):
                    raise ValueError(f"{key}: must be an absolute path outside environment dev; got {value}")
        return self

    @model_validator(mode="after")
    def _credentials_over_https(self) -> SiteConfig:
        """The admin password goes to the API with every call; outside dev only over HTTPS."""
        calls_api = bool(self.limits.users) or self.audit.enabled
        if self.environment == "dev" or not calls_api:
            return self
        if self.limits.api_url is not None and not self.limits.api_url.startswith("https://"):
            raise ValueError("limits.apiUrl: must be https:// outside environment dev (the admin password goes there)")
        if self.limits.api_url is None and not self.https:
            raise ValueError(
                "https: must be true outside environment dev while limits.users or audit send the admin password "
                "to the site's API"
            )
        return self

    @model_validator(mode="after")
    def _key_files_exist(self) -> SiteConfig:
        for key, host in (("master", self.master), *((f"nodes[{i}]", node) for i, node in enumerate(self.nodes))):
            key_file = host.ssh.key_file if host.ssh else None
            if key_file is not None and not Path(key_file).expanduser().is_file():
                raise ValueError(f"{key}.ssh.keyFile: no file at {key_file} on this machine (where Pulumi runs)")
        return self

    @model_validator(mode="after")
    def _tls_outside_dev(self) -> SiteConfig:
        if not self.registry.tls and self.environment != "dev":
            raise ValueError("registry.tls: a registry without TLS is allowed only in environment dev")
        return self

    @model_validator(mode="after")
    def _backups_and_roles(self) -> SiteConfig:
        if self.backup.schedule is None and self.environment != "dev":
            raise ValueError("backup.schedule: backups must be scheduled outside environment dev")
        if self.role == "standby" and self.dr is None:
            raise ValueError("dr: a standby site needs dr.primaryStack (and optionally standby, promote)")
        if self.role == "primary" and self.dr is not None:
            raise ValueError("dr: only a standby site has a dr section; set role: standby")
        return self

    @model_validator(mode="after")
    def _limits_fit(self) -> SiteConfig:
        largest_mb = int(max(host.ram_gb for host in self.workspace_hosts) * 1024)
        for index, user in enumerate(self.limits.users):
            for limit in user.resources:
                if limit.megabytes is not None and limit.megabytes > largest_mb:
                    raise ValueError(
                        f"limits.users[{index}].resources: RAM {limit.megabytes} mb for {user.user_id} can never be "
                        f"used: the largest workspace host has {largest_mb} mb"
                    )
        if (self.limits.users or self.audit.enabled) and self.admin_password is None:
            raise ValueError(
                "adminPassword: limits.users and audit call the API; set it with `pulumi config set --secret`"
            )
        return self

    @property
    def firewall_enabled(self) -> bool:
        return self.environment != "dev" if self.firewall.enabled is None else self.firewall.enabled

    @property
    def is_active(self) -> bool:
        """Serves users: a primary, or a standby that has been promoted."""
        return self.dr is None or self.dr.promote

    @property
    def runs_services(self) -> bool:
        return self.is_active or (self.dr is not None and self.dr.standby == "hot")

    @property
    def hosts(self) -> tuple[HostConfig, ...]:
        """Every host in the stack file, lost ones included (their resources are still in the state)."""
        return (self.master, *self.nodes)

    @property
    def members(self) -> tuple[HostConfig, ...]:
        """The hosts that are part of the site: every host but the lost ones."""
        return tuple(host for host in self.hosts if not host.lost)

    @property
    def workspace_hosts(self) -> tuple[HostConfig, ...]:
        live_nodes = tuple(node for node in self.nodes if not node.lost)
        return (self.master, *live_nodes) if self.master.host_workspaces else live_nodes

    @property
    def node_set(self) -> list[dict[str, object]]:
        """The workspace hosts and their capacity, as exported to users, the server and a DR standby."""
        return [
            {"name": host.name, "address": host.address, "ramGb": host.ram_gb, "cpus": host.cpus}
            for host in self.workspace_hosts
        ]

    @property
    def registry_address(self) -> str:
        return f"{self.master.address}:{self.registry.port}"

    @property
    def server_image(self) -> str:
        return f"{self.images.server}:{self.version}"
