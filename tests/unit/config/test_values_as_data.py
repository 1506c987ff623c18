"""Every value a stack file may hold reaches the host scripts as data, never as code: whatever the value, the program
gives a site or a ConfigError naming a key, and each accepted value arrives in its script intact."""

from __future__ import annotations

import json
import subprocess

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from components.backups import BackupSettings, render_backup, render_restore
from components.config import ConfigError
from components.config_loader import load_site_config
from components.deploy_gates import PrimarySite
from components.disaster_recovery import DisasterRecoverySettings, render_transfer
from components.host_access import STATE_DIR
from components.host_firewall import FirewallSettings, render_nftables
from components.host_tools import Toolbox, cron_entry, render_schedule
from components.script_templates import render_script

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
