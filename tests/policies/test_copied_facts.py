"""Every fact the policy pack copies from the program, taken from both sides: a drift on either side fails here."""

from __future__ import annotations

import itertools
import json
import re
import shlex
import typing

import codenvy_policies.program_facts as pack
import pytest
from codenvy_policies.mounts import _host_path, _verified_relay
from pydantic import BaseModel, ValidationError

# The program's side, from where each fact lives; when a module moves, only these lines change.
from components.app_server import AppServerSettings, server_labels
from components.config import INTERNAL_PORTS, SiteConfig
from components.config.fields import _pinned_image
from components.deploy_gates import PrimarySite, capacities
from components.engine_relay import ENGINE_SOCKET, EngineRelaySettings, relay_command
from components.engine_relay import SERVICE_LABEL as RELAY_SERVICE_LABEL
from components.placement import PlacementSettings, node_set_json
from components.script_templates import as_command, render_script, script_params
from tests.harness import PROJECT, PROJECT_DIR, STACKS, Registration, evaluate, full_stack_name, script_of, site_config

DIGEST = "sha256:" + "0123456789abcdef" * 4


def program_pins(image: str) -> bool:
    try:
        _pinned_image(image)
    except ValueError:
        return False
    return True


def labels_of(registration: Registration) -> dict[str, str]:
    return {item["label"]: item["value"] for item in registration.inputs["labels"]}


def assigned(registration: Registration, param: str) -> str:
    """The value a Command's script gives `param`, unquoted as bash would."""
    (value,) = [line.partition("=")[2] for line in script_of(registration).splitlines() if line.startswith(f"{param}=")]
    return shlex.split(value)[0] if value else ""


def config_field_exists(key: str) -> bool:
    """Whether `project:a.b` names a field of the program's config model, by the aliases stack files use."""
    project, _, path = key.partition(":")
    model: type[BaseModel] | None = SiteConfig
    for part in path.split("."):
        if model is None:
            return False
        fields = [field for name, field in model.model_fields.items() if (field.alias or name) == part]
        if not fields:
            return False
        candidates = (fields[0].annotation, *typing.get_args(fields[0].annotation))
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)), None)
    return project == PROJECT


@pytest.fixture(scope="module")
def dev_exports():
    return evaluate("dev").exports


# --- values -----------------------------------------------------------------------------------------------


def test_internal_ports_are_the_programs():
    assert pack.INTERNAL_PORTS == INTERNAL_PORTS


IMAGES = [
    "postgres",
    "postgres:latest",
    "postgres:16.4",
    "library/postgres:16",
    "registry.example.com:5000/team/app",
    "registry.example.com:5000/team/app:latest",
    "registry.example.com:5000/team/app:1.2.3",
    "localhost:5000/app",
    f"postgres@{DIGEST}",
    f"postgres:16@{DIGEST}",
    f"localhost:5000/app@{DIGEST}",
    DIGEST,  # an image ID, what a container built from a RemoteImage names
]
# Tags the program still pins and the pack refuses: channels without a version number.
CHANNEL_TAGS = ["postgres:Latest", "postgres:LATEST", "postgres:stable", "nginx:mainline"]


@pytest.mark.parametrize("image", IMAGES)
def test_image_pin_rule_is_the_programs(image):
    assert (not pack._unpinned(image)) is program_pins(image)


@pytest.mark.parametrize("image", [*IMAGES, *CHANNEL_TAGS])
def test_the_pack_pins_no_image_the_program_refuses(image):
    assert program_pins(image) or pack._unpinned(image)


@pytest.mark.parametrize(
    "nodes",
    [
        [],
        [{"ramGb": 8, "cpus": 2}],
        [{"ramGb": 16, "cpus": 4}, {"ramGb": 8, "cpus": 2}, {"ramGb": 8, "cpus": 1}],
        [{"ramGb": 7.5, "cpus": 2, "name": "node2", "address": "10.0.0.2"}],
        [{"ramGb": 8, "cpus": 2}, {"ramGb": 8.0, "cpus": 2}],
    ],
)
def test_capacities_are_the_programs(nodes):
    assert tuple(pack._capacities(nodes)) == capacities(nodes)


@pytest.mark.parametrize("stack", STACKS)
def test_declared_node_set_is_counted_as_the_program_counts_it(stack):
    site = site_config(stack)
    assert tuple(pack._capacities(json.loads(node_set_json(PlacementSettings.of(site))))) == capacities(site.node_set)


# --- what a rendered script declares ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("script", "param"),
    [
        ("swarm_init", pack.SWARM_ROLE_PARAM),
        ("swarm_join", pack.SWARM_ROLE_PARAM),
        ("placement_nodes", pack.NODE_SET_PARAM),
        ("placement_nodes", pack.SITE_PARAM),
        ("schedule", pack.MARKER_PARAM),
        ("schedule", pack.ENTRY_PARAM),
    ],
)
def test_parameter_the_pack_reads_is_declared_by_the_script(script, param):
    assert param in script_params(script)


@pytest.mark.parametrize(
    "entry",
    [
        "",
        "0 2 * * * /usr/local/lib/codenvy/codenvy-backup-x >> /var/backups/x/backup.log 2>&1",
        "it's",
        'say "hi"',
        "$HOME `id` $(id) \\n ; # not a comment",
        json.dumps([{"name": "node2", "ramGb": 8, "cpus": 2}]),
    ],
)
def test_script_parameters_are_read_as_the_program_renders_them(entry):
    given = {"ENTRY": entry, "LOG_DIR": "/var/backups/x", "MARKER": "codenvy-backup-x", "NODE_NAME": "node 1"}
    create = as_command(render_script("schedule", **{key.lower(): value for key, value in given.items()}))
    parsed = pack._script_params({"create": create})
    assert {key: parsed.get(key) for key in given} == given


def test_swarm_init_declares_the_role_the_pack_counts_as_a_manager(sim):
    assert assigned(sim.named("codenvy-network-swarm-init"), pack.SWARM_ROLE_PARAM) == pack.MANAGER_ROLE


def test_backup_schedule_keeps_its_line_under_the_marker_the_pack_looks_for(sim):
    marker = assigned(sim.named("codenvy-backups-schedule"), pack.MARKER_PARAM)
    assert marker == pack._backup_marker(site_config("sim").site_name)


# --- labels -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_server_labels_are_the_ones_the_pack_reads(stack):
    site = site_config(stack)
    expected = {pack.ENVIRONMENT_LABEL: site.environment, pack.ROLE_LABEL: site.role, pack.VERSION_LABEL: site.version}
    assert server_labels(AppServerSettings.of(site)) == expected


def test_standby_role_is_one_the_program_declares():
    assert pack.STANDBY_ROLE in typing.get_args(SiteConfig.model_fields["role"].annotation)


def test_roles_are_the_ones_the_program_declares():
    assert set(pack.ROLES) == set(typing.get_args(SiteConfig.model_fields["role"].annotation))


def test_dev_stacks_are_the_shipped_stacks_in_environment_dev():
    dev = {stack for stack in STACKS if site_config(stack).environment == pack.UNSCHEDULED_ENVIRONMENT}
    assert set(pack.DEV_STACKS) == dev


def test_site_label_names_the_site(sim):
    assert labels_of(sim.named("codenvy-master-server"))[pack.SITE_LABEL] == site_config("sim").site_name


def test_registry_carries_the_registry_label(sim):
    label, value = pack.REGISTRY_LABEL
    assert labels_of(sim.named("codenvy-registry-container"))[label] == value


def test_registry_with_tls_sets_the_variables_the_pack_checks(sim):
    envs = dict(entry.split("=", 1) for entry in sim.named("codenvy-registry-container").inputs["envs"])
    assert site_config("sim").registry.tls
    assert set(pack.REGISTRY_TLS_VARIABLES) <= set(envs)


# --- config and outputs -----------------------------------------------------------------------------------


def program_requires_backups(environment: str) -> bool:
    """Whether the program refuses the sim site without a backup schedule in `environment`."""
    site = site_config("sim")
    unscheduled = {**site.model_dump(), "environment": environment}
    unscheduled["backup"] = {**site.backup.model_dump(), "schedule": None}
    try:
        SiteConfig.model_validate(unscheduled)
    except ValidationError as error:
        refused = [(problem.get("ctx") or {}).get("error") for problem in error.errors()]
        return any(getattr(raised, "key", None) == ("backup", "schedule") for raised in refused)
    return False


# The sim site is valid in both environments with a schedule, so only the schedule can be refused.
@pytest.mark.parametrize("environment", ["dev", "sim"])
def test_backups_are_required_where_the_program_requires_them(environment):
    assert (environment != pack.UNSCHEDULED_ENVIRONMENT) is program_requires_backups(environment)


@pytest.mark.parametrize("key", [pack.BACKUP_SCHEDULE_KEY, pack.REGISTRY_TLS_KEY, pack.PRIMARY_STACK_KEY])
def test_config_key_named_in_a_message_is_the_programs(key):
    assert config_field_exists(key)


def test_primary_version_is_read_from_the_output_the_program_reads(dev_exports):
    primary = PrimarySite.from_outputs(full_stack_name("dev"), dev_exports)
    assert dev_exports[pack.PRIMARY_VERSION_OUTPUT] == primary.version


def test_primary_nodes_are_read_from_the_output_the_program_reads(dev_exports):
    primary = PrimarySite.from_outputs(full_stack_name("dev"), dev_exports)
    assert tuple(pack._capacities(dev_exports[pack.PRIMARY_NODES_OUTPUT])) == primary.nodes


# --- the policies page's copies (docs/policies.md) ------------------------------------------------------------


def policies_page_row(first_cell: str) -> str:
    lines = (PROJECT_DIR / "docs" / "policies.md").read_text().splitlines()
    (row,) = [line for line in lines if line.startswith(first_cell)]
    return row


def test_policies_page_lists_the_internal_ports():
    row = policies_page_row("| `no-internal-port-published` |")
    assert {int(port) for port in re.findall(r"\b\d{4}\b", row)} == INTERNAL_PORTS


def test_policies_page_marker_table_names_the_packs_markers():
    lines = (PROJECT_DIR / "docs" / "policies.md").read_text().splitlines()
    start = lines.index("| marker | kind | set by | read by |")
    rows = itertools.takewhile(lambda line: line.startswith("|"), lines[start + 2 :])
    documented = {row.split("|")[1].strip().strip("`") for row in rows}
    markers = {
        pack.REGISTRY_LABEL[0],
        pack.VERSION_LABEL,
        pack.ROLE_LABEL,
        pack.ENVIRONMENT_LABEL,
        pack.SITE_LABEL,
        pack.SWARM_ROLE_PARAM,
        pack.NODE_SET_PARAM,
        pack.SITE_PARAM,
        pack.RELAY_LABEL[0],
        pack.MARKER_PARAM,
        pack.ENTRY_PARAM,
        pack.PRIMARY_VERSION_OUTPUT,
        pack.PRIMARY_NODES_OUTPUT,
    }
    assert documented == markers


# --- the engine relay ----------------------------------------------------------------------------------------


def test_the_relay_label_is_the_programs():
    assert pack.RELAY_LABEL == RELAY_SERVICE_LABEL


def test_the_relay_socket_is_the_one_the_program_binds_as_the_kernel_resolves_it():
    assert _host_path(ENGINE_SOCKET) == pack.RELAY_SOCKET


def test_the_programs_relay_command_is_a_verified_relay():
    label, service = RELAY_SERVICE_LABEL
    props = {"labels": [{"label": label, "value": service}], "command": relay_command()}
    assert _verified_relay(props)


def test_the_relay_settings_name_a_codenvy_image():
    assert EngineRelaySettings.of(site_config("sim")).image.startswith("codenvy/socat:")
