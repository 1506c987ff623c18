"""How the program reaches each host: SSH, the Docker endpoint, and what the host offers workspaces."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator, model_validator

from components.config.errors import ConfigKeyError
from components.config.fields import DnsLabel, Ipv4Host, Model, Port, PublicPort

_POSIX_USER = re.compile(r"[a-z_][a-z0-9_-]{0,31}")
_HOST_KEY = re.compile(
    r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com|"
    r"sk-ecdsa-sha2-nistp256@openssh\.com) [A-Za-z0-9+/]+={0,3}( [\x21-\x7e]+)?"
)
# Environments that may leave hosts' SSH keys unpinned: dev, and the simulated cluster, whose nodes get new
# host keys every time it is made.
UNPINNED_HOST_KEY_ENVIRONMENTS = frozenset({"dev", "sim"})


class SshEndpoint(Model):
    user: str = Field(default="root", description="SSH user; scripts write /etc/docker, so root or equivalent.")
    port: Port = Field(default=22, description="SSH port of the host.")

    @field_validator("user")
    @classmethod
    def _posix_user(cls, value: str) -> str:
        if not _POSIX_USER.fullmatch(value):
            raise ValueError("must be a user name: lower-case letters, digits, _ and -, not starting with a digit or -")
        return value


def _key_line(what: str):
    """A validator of one OpenSSH public key line, whose message says what the key is (`what`)."""

    def check(value: str) -> str:
        if not _HOST_KEY.fullmatch(value):
            raise ValueError(
                f"must be {what}: 'ssh-ed25519 AAAA…' (types ssh-ed25519, ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-…), "
                "on one line"
            )
        return value

    return check


HostKeyLine = Annotated[str, AfterValidator(_key_line("the host's public key as in known_hosts without the host"))]
# A user's key, as its .pub file has it (a comment without blanks may follow).
PublicKeyLine = Annotated[str, AfterValidator(_key_line("a public key as in its .pub file"))]


# The account a primary makes for its standbys (replication.standbyKeys): their keys may read the primary's project
# files and archives through rsync, and run nothing else.
MIRROR_ACCOUNT = "codenvy-mirror"


class PrimarySshEndpoint(SshEndpoint):
    user: str = Field(
        default=MIRROR_ACCOUNT,
        description=f"The account the standby logs in as; the primary makes {MIRROR_ACCOUNT} for the keys it lists "
        "in replication.standbyKeys, which may only read its project files and archives.",
    )
    host_key: HostKeyLine | None = Field(
        default=None,
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
        default=None,
        description="Private key file where Pulumi runs, used by the Commands and the Docker provider's ssh. "
        "Absent: sshPrivateKey, else the ssh-agent.",
    )
    host_key: HostKeyLine | None = Field(
        default=None,
        description="The host's public key ('ssh-ed25519 AAAA…'); the Commands verify it. Required outside "
        "environments dev and sim; absent there, the Commands accept any host key (pulumi-command checks none "
        "unless given one).",
    )
    options: tuple[str, ...] = Field(
        default=(),
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
        default=None, description="How to reach the host over SSH; absent means this machine (local commands)."
    )
    docker_host: str | None = Field(
        default=None,
        description="Docker API endpoint: unix://, ssh:// or tcp://host:2376 with dockerCertPath. "
        "Default: the local socket, or ssh://user@address:port when ssh is set.",
    )
    docker_cert_path: str | None = Field(
        default=None, description="Directory with ca.pem, cert.pem, key.pem for a tcp:// docker host."
    )
    manage_docker: bool | None = Field(
        default=None,
        description="Let the program write /etc/docker (daemon.json, registry CA) and restart Docker here. "
        "Default: on for SSH hosts, off for this machine.",
    )
    docker_restart_command: str = Field(
        default="systemctl restart docker", description="Command that restarts the Docker daemon on this host."
    )
    docker_reload_command: str = Field(
        default='kill -s HUP "$(cat /var/run/docker.pid)"',
        description="Command that makes the Docker daemon re-read daemon.json without a restart (SIGHUP): used "
        "when only its labels changed, such as `drain`.",
    )
    ram_gb: float = Field(
        default=4, gt=0, le=65536, allow_inf_nan=False, description="RAM the host offers to workspaces, in GiB."
    )
    cpus: int = Field(default=2, gt=0, le=4096, description="CPUs the host offers to workspaces.")
    swap_limit: bool = Field(
        default=True,
        description="The host's Docker can limit swap (`docker info` prints no 'WARNING: No swap limit support'): "
        "its containers get no swap. Set false where the kernel does not account swap (e.g. booted without "
        "swapaccount=1): that daemon records every swap limit as -1 (unlimited), which the program then ignores "
        "in previews instead of showing it as a change on every container.",
    )
    drain: bool = Field(
        default=False,
        description="Place no new workspace here (Codenvy's maintenance state: the daemon label "
        "com.codenvy.node-state=maintenance, applied by a reload, not a restart); workspaces running on it run on "
        "and stop as usual. Before removing a node, drain it. Needs manageDocker.",
    )
    lost: bool = Field(
        default=False,
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
            raise ConfigKeyError(
                ("dockerHost",), "tcp:// needs dockerCertPath (TLS); plaintext Docker APIs are refused"
            )
        return self

    @model_validator(mode="after")
    def _drained_hosts_are_managed(self) -> HostConfig:
        if self.drain and not self.manages_docker:
            raise ConfigKeyError(
                ("drain",),
                "a host is drained by a label in its daemon.json, which the program writes only where it manages "
                "Docker (manageDocker)",
            )
        return self

    @model_validator(mode="after")
    def _lost_hosts_are_remote(self) -> HostConfig:
        if self.lost and self.ssh is None:
            raise ConfigKeyError(("lost",), "only a host reached over SSH can be lost; this machine is here")
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
    name: DnsLabel = Field(default="master", description="Host name of the master node.")
    address: Ipv4Host = Field(default="127.0.0.1", description="IPv4 address of the master node.")
    host_workspaces: bool = Field(default=True, description="Also run workspaces on the master (the seed allows it).")
    http_port: PublicPort = Field(default=80, description="Host port HAProxy publishes for HTTP.")
    https_port: PublicPort = Field(default=443, description="Host port HAProxy publishes for HTTPS.")
    postgres_port: Port = Field(
        default=5432,
        description="Port PostgreSQL is published on at the master's address while the site streams to or "
        "from a standby (only the peer site's master passes the firewall).",
    )

    @field_validator("lost")
    @classmethod
    def _master_is_never_lost(cls, value: bool) -> bool:
        if value:
            raise ValueError(
                "the master cannot be marked lost; rebuild it and restore the newest backup "
                "(docs/operations.md: Backups and restore)"
            )
        return value
