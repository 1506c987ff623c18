"""ssh(1) as tools run from this machine (`make status`, the DR sync) reach a host: with the host's own key."""

from __future__ import annotations

from pathlib import Path

from components.config.hosts import HostConfig
from components.host_access import ssh_argv


def identity_files(argv: list[str]) -> list[str]:
    """The identity files ssh(1) would read from these arguments (each `-i FILE`)."""
    return [argv[index + 1] for index, word in enumerate(argv[:-1]) if word == "-i"]


def host(ssh: dict) -> HostConfig:
    return HostConfig.model_validate({"name": "node1", "address": "10.0.0.2", "ssh": {"user": "admin", **ssh}})


def test_a_hosts_key_file_is_the_identity_ssh_uses(tmp_path: Path):
    key = tmp_path / "id_ed25519"
    key.write_text("key")
    assert identity_files(ssh_argv(host({"keyFile": str(key)}))) == [str(key)]


def test_a_host_without_a_key_file_leaves_ssh_its_own_identities():
    assert identity_files(ssh_argv(host({}))) == []
