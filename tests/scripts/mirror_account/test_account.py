"""The primary's mirror account script, run for real against fake account tools (useradd, getent, usermod) and a
home and sudoers.d of its own: what the standbys' keys may run, and nothing written on a second run. sshd's reading
of the forced command is played by sh, as sshd hands it to the account's shell (`sh -c`)."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from components.config_loader import load_site_config
from components.mirror_access import MirrorSettings, render_account
from tests.stack_values import raw

KEYS = (
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH8T3Fq1n7S8q0mZ0n0v6iJH1w6b3Zbq2yq8wq8wq8wq standby@dr",
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB3x9f0kQm8pN2sVt6yW1zC4dE7gH0jK3lM6nP9qR2sT old-primary",
)
# passwd and shadow as files of the test; useradd's new account is locked (`!`), as Debian's is.
FAKES = {
    "getent": 'grep "^$2:" "$FAKE_ETC/$1"',
    "useradd": 'for last; do :; done\necho "$last:x:999:999::$4:/bin/sh" >> "$FAKE_ETC/passwd"\n'
    'echo "$last:!:20000::::::" >> "$FAKE_ETC/shadow"',
    "usermod": 'sed -i "s/^$3:[^:]*:/$3:$2:/" "$FAKE_ETC/shadow"',
    # root:root is what the script asks; the test may not be root, so owners are left as they are.
    "install": 'while [ "$1" != -m ]; do shift; done\nmode=$2\nshift 2\nmkdir -p "$@"\nchmod "$mode" "$@"',
    "sudo": "true",
    "rrsync": "true",
}


class Primary:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        self.etc = tmp_path / "etc"
        self.etc.mkdir()
        for name in ("passwd", "shadow"):
            (self.etc / name).touch()
        # The real visudo checks the rule where sudo is installed; elsewhere a stand-in accepts it.
        fakes = FAKES if shutil.which("visudo") else {**FAKES, "visudo": "true"}
        for name, body in fakes.items():
            (self.bin / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
            (self.bin / name).chmod(0o755)
        self.home = tmp_path / "home"
        self.sudoers = tmp_path / "sudoers.d" / "codenvy-mirror-codenvy"
        self.sudoers.parent.mkdir()
        site = load_site_config(raw(replication={"standbyKeys": list(KEYS)}))
        self.settings = MirrorSettings.of(site)
        script = render_account(self.settings, "node1")
        self.script = (
            script.replace(f"MIRROR_HOME={shlex.quote('/var/lib/codenvy-mirror')}", f"MIRROR_HOME={self.home}")
            .replace(f"SUDOERS_FILE={self.settings.sudoers_file}", f"SUDOERS_FILE={self.sudoers}")
            .replace("RRSYNC=/usr/bin/rrsync", f"RRSYNC={self.bin / 'rrsync'}")
        )
        assert self.script.count(str(tmp_path)) == 3, "the script's paths were moved into the test's directory"

    def run(self) -> subprocess.CompletedProcess:
        env = {"PATH": f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", "FAKE_ETC": str(self.etc)}
        return subprocess.run(["bash", "-c", self.script], env=env, capture_output=True, text=True)

    def authorized(self) -> list[str]:
        return (self.home / ".ssh" / "authorized_keys").read_text().splitlines()


@pytest.fixture
def primary(tmp_path) -> Primary:
    primary = Primary(tmp_path)
    result = primary.run()
    assert result.returncode == 0, result.stderr
    return primary


def options_and_key(line: str) -> tuple[str, str]:
    """An authorized_keys line's options (up to the blank outside quotes) and the key after them."""
    quoted, index = False, 0
    while index < len(line) and (quoted or line[index] != " "):
        quoted ^= line[index] == '"' and line[index - 1] != "\\"
        index += 1
    return line[:index], line[index + 1 :]


def test_each_listed_key_gets_one_line(primary):
    assert [options_and_key(line)[1] for line in primary.authorized()] == list(KEYS)


def test_each_key_is_restricted(primary):
    assert {options_and_key(line)[0].split(",", 1)[0] for line in primary.authorized()} == {"restrict"}


def forced_command(line: str) -> str:
    options = options_and_key(line)[0]
    command = options.split(",", 1)[1].removeprefix('command="').removesuffix('"')
    return command.replace('\\"', '"')


def test_the_forced_command_hands_the_request_to_the_mirror_tool_as_one_argument(primary, tmp_path):
    """Whatever the standby asks, sh runs sudo with the tool and the request, never the request itself."""
    (tmp_path / "bin" / "sudo").write_text('#!/usr/bin/env bash\nprintf "%s\\0" "$@"\n')
    (tmp_path / "bin" / "sudo").chmod(0o755)
    request = "id; touch /tmp/owned $(id) `id` \"quoted\" 'single'"
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "SSH_ORIGINAL_COMMAND": request}
    ran = subprocess.run(["sh", "-c", forced_command(primary.authorized()[0])], env=env, capture_output=True)
    assert ran.stdout.decode().split("\0")[:-1] == ["-n", primary.settings.serve_tool, request]


def test_sudo_lets_the_account_run_the_mirror_tool_only(primary):
    user, hosts, command = primary.sudoers.read_text().strip().split(" ", 2)
    assert (user, hosts, command) == ("codenvy-mirror", "ALL=(root)", f"NOPASSWD: {primary.settings.serve_tool} *")


def test_the_account_has_no_password_but_is_not_locked_for_keys(primary):
    assert (primary.etc / "shadow").read_text().split(":")[1] == "*"


def test_a_second_run_changes_nothing_and_says_so(primary):
    before = {path: path.read_bytes() for path in primary.tmp.rglob("*") if path.is_file()}
    result = primary.run()
    assert result.stdout.strip() == "mirror account on node1: codenvy-mirror unchanged"
    assert {path: path.read_bytes() for path in primary.tmp.rglob("*") if path.is_file()} == before
