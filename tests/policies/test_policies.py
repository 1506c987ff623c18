"""Each policy trips on a violating resource and passes a compliant one; the shipped stacks are compliant."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import replace
from typing import Any

import pytest
from codenvy_policies import POLICIES

from components.host_tools import render_schedule
from components.script_templates import as_command, render_script
from tests.harness import PROJECT_DIR, STACKS, evaluate, full_stack_name, script_of
from tests.harness.dr_evaluations import following_standby, promoted_standby, streaming_primary
from tests.policies.pack import BY_NAME, all_violations, of, resource_args, stack_args, violations

CONTAINER = "docker:index/container:Container"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 - what the policy must catch
PROVIDER = "pulumi:providers:docker"
KEBAB_CASE = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
# The parameters of the placement-nodes and schedule scripts these tests re-render.
DECLARED_PARAMS = ("CONTAINER", "NODE_LIST", "NODE_SET", "NODES_DIR", "SITE_NAME", "MARKER", "NODE_NAME", "ENTRY")


def test_pack_imports_with_only_pulumi_policy():
    probe = (
        "import sys; sys.path.insert(0, 'policies'); from codenvy_policies import POLICIES; "
        "program = ('components', 'pulumi_docker', 'pulumi_command'); "
        "print(len(POLICIES), any(m.startswith(program) for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True, check=True)
    count, imported_program = out.stdout.split()
    assert int(count) == len(BY_NAME) >= 14
    assert imported_program == "False"


@pytest.mark.parametrize("stack", STACKS)
def test_shipped_stack_passes_the_strict_pack(stack):
    assert all_violations(evaluate(stack)) == {}


@pytest.mark.parametrize("site", [streaming_primary, following_standby, promoted_standby])
def test_a_streaming_pair_passes_the_strict_pack(site):
    """PostgreSQL published at the master's address, TLS files from a volume, the seed, role and promotion."""
    assert all_violations(site()) == {}


def test_hardened_container_trips_nothing(postgres):
    assert violations(of(postgres)) == {}


def test_unsafe_container_trips_at_least_four_policies(postgres):
    unsafe = of(
        postgres,
        image="postgres:latest",
        memory=None,
        restart="no",
        privileged=True,
        volumes=[{"hostPath": "/var/run/docker.sock", "containerPath": "/var/run/docker.sock"}],
        ports=[{"internal": 5432, "external": 5432}],
        healthcheck=None,
        logOpts={},
    )
    tripped = set(violations(unsafe))
    assert {
        "container-image-pinned",
        "container-memory-limit",
        "container-restart-bounded",
        "container-not-privileged",
        "no-docker-socket-mount",
        "no-internal-port-published",
    } <= tripped
    assert {"container-healthcheck", "container-log-limits"} <= tripped


@pytest.mark.parametrize(
    ("policy", "changes", "hint"),
    [
        ("container-image-pinned", {"image": "postgres"}, "not pinned"),
        ("container-image-pinned", {"image": "registry.local:5000/team/app:latest"}, "not pinned"),
        ("container-restart-bounded", {"restart": "on-failure", "maxRetryCount": 0}, "without a bound"),
        ("container-restart-bounded", {"restart": "no"}, "restart policy 'no'"),
        (
            "no-docker-socket-mount",
            {"mounts": [{"source": "/run/docker.sock", "target": "/s", "type": "bind"}]},
            "socket",
        ),
        (
            "no-internal-port-published",
            {"ports": [{"internal": 2375, "external": 2375, "ip": ALL_INTERFACES}]},
            "[2375]",
        ),
    ],
)
def test_container_violations_name_the_fix(postgres, policy, changes, hint):
    (message,) = violations(of(postgres, **changes), only=policy)[policy]
    assert hint in message and postgres.name in message


@pytest.mark.parametrize(
    "changes",
    [
        {"image": "postgres@sha256:" + "a" * 64},
        {"image": "sha256:" + "b" * 64},
        {"restart": "unless-stopped"},
        {"restart": "always"},
        {"ports": [{"internal": 5432, "external": 5432, "ip": "10.0.0.5"}]},
        {"ports": [{"internal": 80, "external": 8080}]},
    ],
)
def test_compliant_variants_pass(postgres, changes):
    assert violations(of(postgres, **changes)) == {}


@pytest.mark.parametrize(
    ("props", "compliant"),
    [
        ({"host": "unix:///var/run/docker.sock"}, True),
        ({"host": "ssh://root@10.0.0.2:22"}, True),
        ({"host": "tcp://10.0.0.2:2376", "certPath": "/certs"}, True),
        ({"host": "tcp://10.0.0.2:2376", "caMaterial": "c", "certMaterial": "c", "keyMaterial": "k"}, True),
        ({"host": "tcp://10.0.0.2:2375"}, False),
        ({"host": "tcp://10.0.0.2:2375", "certPath": "/certs"}, False),
        ({"host": "tcp://10.0.0.2:2376"}, False),
    ],
)
def test_docker_provider_needs_a_secure_api(props, compliant):
    found = violations(resource_args(PROVIDER, props))
    assert (found == {}) is compliant
    if not compliant:
        assert list(found) == ["docker-api-over-tls-or-ssh"]


def test_plaintext_registry_is_caught_and_only_pack_config_relaxes_it():
    dev_plaintext = evaluate("dev", {"codenvy-infra:registry": {"tls": False}})
    registry = dev_plaintext.named("codenvy-registry-container")
    assert "registry-serves-tls" in violations(of(registry))
    relaxed = resource_args(CONTAINER, registry.inputs, registry.name, config={"allowPlaintext": True})
    assert "registry-serves-tls" not in violations(relaxed)
    assert "registry-serves-tls" in all_violations(dev_plaintext)


def test_daemon_json_with_insecure_registry_or_plaintext_api_is_caught(sim):
    daemon = sim.named("codenvy-ws-node2-daemon-config")
    assert violations(of(daemon)) == {}
    insecure = daemon.inputs["create"].replace('"labels"', '"insecure-registries": ["10.77.0.11:5000"], "labels"')
    assert "insecure-registries" in violations(of(daemon, create=insecure))["daemon-config-secure"][0]
    plaintext = daemon.inputs["create"].replace('"labels"', '"hosts": ["tcp://0.0.0.0:2375"], "labels"')
    assert "2375" in violations(of(daemon, create=plaintext))["daemon-config-secure"][0]


def test_unsafe_config_is_refused_by_the_program_and_caught_by_the_pack(sim):
    """Defence in depth: the config seam refuses these values; resources built another way still fail."""
    from components.config import ConfigError

    for overrides in (
        {"codenvy-infra:images": {"postgres": "postgres:latest"}},
        {"codenvy-infra:master": {"dockerHost": "tcp://127.0.0.1:2375"}},
    ):
        with pytest.raises(ConfigError):
            evaluate("dev", overrides)
    provider = sim.of_type(PROVIDER)[0]
    assert violations(of(provider, host="tcp://10.77.0.11:2375")) == {
        "docker-api-over-tls-or-ssh": [f"{provider.name}: Docker API at 'tcp://10.77.0.11:2375' without TLS; "
                                       "use unix://, ssh://user@host, or tcp://host:2376 with certificates"]
    }  # fmt: skip
    image = sim.of_type("docker:index/remoteImage:RemoteImage")[0]
    assert "container-image-pinned" in violations(of(image, name="postgres:latest"))


def test_even_number_of_swarm_managers_is_caught(sim):
    init = sim.named("codenvy-network-swarm-init")
    assert violations(stack_args(sim), only="swarm-managers-odd") == {}
    second_manager = type(sim)(resources=[*sim.resources, type(init)(**{**init.__dict__, "urn": init.urn + "-2"})])
    (message,) = violations(stack_args(second_manager), only="swarm-managers-odd")["swarm-managers-odd"]
    assert "2 swarm managers" in message


def dr_with_primary(**primary_changes):
    dev = evaluate("dev").exports
    return evaluate("dr", stack_outputs={full_stack_name("dev"): {**dev, **primary_changes}})


def test_standby_matching_its_primary_passes_and_a_drifted_one_is_caught():
    assert violations(stack_args(dr_with_primary()), only="standby-matches-primary") == {}
    standby = dr_with_primary()
    reference = standby.of_type("pulumi:pulumi:StackReference")[0]
    drifted_outputs = {**reference.outputs["outputs"], "version": "5.23.0", "nodes": [{"ramGb": 16, "cpus": 4}]}
    reference.outputs["outputs"] = drifted_outputs
    messages = violations(stack_args(standby), only="standby-matches-primary")["standby-matches-primary"]
    assert any("standby runs 5.22.0, its primary 5.23.0" in m for m in messages)
    assert any("differ from the primary's [(16.0, 4)]" in m for m in messages)


def declared(resource) -> dict[str, str]:
    """The parameters a command's script assigns, unquoted as bash would."""
    assignments = [line.partition("=") for line in script_of(resource).splitlines()]
    return {key: shlex.split(value)[0] for key, _, value in assignments if key in DECLARED_PARAMS}


def with_declared_nodes(evaluation, nodes: list[dict]) -> Any:
    """The evaluation with the master's placement-nodes command declaring `nodes` instead."""

    def redeclared(resource):
        if not resource.name.endswith("-placement-node-list"):
            return resource
        params = {key.lower(): value for key, value in declared(resource).items()}
        create = as_command(render_script("placement_nodes", **{**params, "node_set": json.dumps(nodes)}))
        return replace(
            resource, inputs={**resource.inputs, "create": create}, outputs={**resource.outputs, "create": create}
        )

    return type(evaluation)(resources=[redeclared(r) for r in evaluation.resources])


def test_standby_nodes_are_read_from_the_nodes_it_declares():
    standby = dr_with_primary()
    nodes = json.loads(declared(standby.named("codenvy-dr-master-placement-node-list"))["NODE_SET"])
    assert violations(stack_args(standby), only="standby-matches-primary") == {}
    resized = with_declared_nodes(standby, [{**nodes[0], "ramGb": 16}])
    (message,) = violations(stack_args(resized), only="standby-matches-primary")["standby-matches-primary"]
    assert "standby nodes [(16.0, 2)] differ from the primary's [(8.0, 2)]" in message


def test_a_standby_that_declares_no_nodes_is_caught():
    standby = dr_with_primary()
    without = type(standby)(resources=[r for r in standby.resources if not r.name.endswith("-placement-node-list")])
    (message,) = violations(stack_args(without), only="standby-matches-primary")["standby-matches-primary"]
    assert "standby nodes [] differ" in message


def test_non_dev_site_without_backup_schedule_is_caught(sim):
    assert violations(stack_args(sim), only="backups-scheduled") == {}
    without = type(sim)(resources=[r for r in sim.resources if not r.name.endswith("backups-schedule")])
    (message,) = violations(stack_args(without), only="backups-scheduled")["backups-scheduled"]
    assert "codenvy-infra:backup.schedule" in message


def with_backup_schedule(evaluation, script: str) -> Any:
    """The evaluation with the site's backup schedule command running `script` instead."""

    def rescheduled(resource):
        if not resource.name.endswith("-backups-schedule"):
            return resource
        create = as_command(script)
        return replace(
            resource, inputs={**resource.inputs, "create": create}, outputs={**resource.outputs, "create": create}
        )

    return type(evaluation)(resources=[rescheduled(r) for r in evaluation.resources])


def backup_schedule_params(evaluation) -> dict[str, str]:
    """The sim site's backup schedule parameters (lower-case, as render_schedule takes them)."""
    params = declared(evaluation.named("codenvy-backups-schedule"))
    return {"marker": params["MARKER"], "node_name": params["NODE_NAME"], "entry": params["ENTRY"]}


def test_schedule_command_that_removes_the_backup_line_is_caught(sim):
    params = backup_schedule_params(sim)
    removing = with_backup_schedule(sim, render_schedule(params["marker"], params["node_name"]))
    assert "backups-scheduled" in violations(stack_args(removing), only="backups-scheduled")


def test_schedule_under_another_sites_marker_is_caught(sim):
    params = backup_schedule_params(sim)
    other_marker = params["marker"] + "-other"
    other = with_backup_schedule(sim, render_schedule(other_marker, params["node_name"], params["entry"]))
    assert "backups-scheduled" in violations(stack_args(other), only="backups-scheduled")


def test_marker_written_outside_the_declared_parameters_is_caught(sim):
    params = backup_schedule_params(sim)
    echoed = f"set -euo pipefail\necho MARKER={params['marker']} ENTRY={shlex.quote(params['entry'])}\n"
    assert "backups-scheduled" in violations(stack_args(with_backup_schedule(sim, echoed)), only="backups-scheduled")


def test_every_message_says_how_to_fix_it(postgres):
    unsafe = of(postgres, image="x:latest", memory=0, restart="no", privileged=True, logOpts={}, healthcheck={})
    for messages in violations(unsafe).values():
        assert all(any(verb in m for verb in ("set", "use", "name", "drop", "add")) for m in messages), messages


def test_policy_names_are_unique():
    names = [policy.name for policy in POLICIES]
    assert sorted({name for name in names if names.count(name) > 1}) == []


def test_policy_names_are_kebab_case():
    assert [policy.name for policy in POLICIES if not KEBAB_CASE.fullmatch(policy.name)] == []
