"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: a delete runs
after the create that replaced it, so it acts only on what its own create claimed."""

from __future__ import annotations

import functools

import pytest

from tests.harness import (
    Evaluation,
    Registration,
    rerender,
    script_of,
    script_parameters,
    site_config,
    stack_file_config,
)
from tests.unit.real_engine.commands.fake_host import (
    FAKE_DOCKER,
    FakeHost,
    commands,
    firewall_on,
    run,
    shipped,
)

# Commands whose delete undoes something on a host, under their URNs as the engine forms them (every
# ancestor's type). A refactor that moves or renames one must alias the old URN, or the next `up` runs the
# old delete after the new create.
URNS_WITH_A_DELETE = {
    "sim": [
        f"codenvy:infra:Site$codenvy:infra:WorkspaceNode$command:remote:Command::codenvy-ws-{name}"
        for name in (
            "node1-firewall",
            "node2-firewall",
            "node3-firewall",
            "node2-swarm-join",
            "node3-swarm-join",
            "node2-membership",
            "node3-membership",
        )
    ]
    + [
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-schedule",
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-backup-tool",
        "codenvy:infra:Site$codenvy:infra:Backups$command:remote:Command::codenvy-backups-restore-tool",
    ],
    "dr": [
        "codenvy:infra:Site$codenvy:infra:DisasterRecovery$command:local:Command::codenvy-dr-dr-transfer-tool",
        "codenvy:infra:Site$codenvy:infra:Backups$command:local:Command::codenvy-dr-backups-backup-tool",
    ],
}


def engine_urn(evaluation: Evaluation, registration: Registration) -> str:
    """The URN the engine gives: the types of every ancestor below the stack (the mocks keep only the parent's)."""
    return "$".join(type_chain(evaluation, registration)) + "::" + registration.name


def type_chain(evaluation: Evaluation, registration: Registration) -> list[str]:
    chain = [registration.type]
    parent = registration.parent
    while parent and "::pulumi:pulumi:Stack::" not in parent:
        ancestor = evaluation.by_urn(parent)
        chain.insert(0, ancestor.type)
        parent = ancestor.parent
    return chain


def inherited_alias_urns(evaluation: Evaluation, registration: Registration) -> set[str]:
    """The URNs an ancestor's type alias gives a resource under it: the chain with that ancestor's former
    type (step_generator.go generateAliases multiplies the parent's aliases out to its children)."""
    chain, found = type_chain(evaluation, registration), set()
    ancestor = registration
    for depth in range(len(chain) - 1, -1, -1):
        for alias in ancestor.options.aliases:
            types, _, name = alias.partition("::")
            if name == ancestor.name:
                former = [*chain[:depth], types.split("$")[-1], *chain[depth + 1 :]]
                found.add("$".join(former) + "::" + registration.name)
        if depth:
            ancestor = evaluation.by_urn(ancestor.parent)
    return found


@pytest.mark.parametrize("stack", sorted(URNS_WITH_A_DELETE))
def test_commands_with_a_delete_keep_their_urns_or_alias_them(stack):
    evaluation = shipped(stack)
    registered = {engine_urn(evaluation, r) for r in evaluation.resources}
    aliased = {alias for r in evaluation.resources for alias in r.options.aliases}
    aliased |= {urn for r in evaluation.resources for urn in inherited_alias_urns(evaluation, r)}
    missing = [urn for urn in URNS_WITH_A_DELETE[stack] if urn not in registered | aliased]
    assert not missing, f"moved without an alias: {missing}"


def test_a_command_with_a_delete_is_deleted_before_it_is_replaced():
    sim = shipped("sim")
    for command in commands(sim):
        if command.inputs.get("delete"):
            assert command.options.delete_before_replace, command.name


@functools.cache
def renamed_node_run() -> Evaluation:
    nodes = stack_file_config("sim")["codenvy-infra:nodes"]
    return run("sim", {"codenvy-infra:nodes": [{**nodes[0], "name": "worker2"}, nodes[1]]})


CLAIMING_KINDS = ["firewall", "swarm-join", "membership"]


def owner(registration: Registration, key: str = "create") -> str:
    return script_parameters(script_of(registration, key))["OWNER"]


@pytest.mark.parametrize("kind", CLAIMING_KINDS)
def test_a_renamed_nodes_resources_claim_the_host_under_their_own_names(kind):
    old = shipped("sim").named(f"codenvy-ws-node2-{kind}")
    new = renamed_node_run().named(f"codenvy-ws-worker2-{kind}")
    assert owner(new) != owner(old, "delete")


@pytest.mark.parametrize("kind", CLAIMING_KINDS)
def test_a_delete_acts_only_for_its_own_create(kind):
    resource = shipped("sim").named(f"codenvy-ws-node2-{kind}")
    assert owner(resource, "delete") == owner(resource)


def test_an_old_firewall_delete_after_a_renamed_nodes_create_leaves_the_firewall(host):
    _, old_delete = firewall_on(host, shipped("sim"), "node2")
    new_create, _ = firewall_on(host, renamed_node_run(), "worker2")
    host.run(new_create)
    result = host.run(old_delete)
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert (host.root / "loaded.nft").exists()
    assert "include" in (host.root / "nftables.conf").read_text()


def test_an_old_leave_after_a_renamed_nodes_join_keeps_the_host_in_the_swarm(host):
    host.fake("docker", FAKE_DOCKER)
    old = shipped("sim").named("codenvy-ws-node2-swarm-join")
    new = renamed_node_run().named("codenvy-ws-worker2-swarm-join")
    state = {"state_dir": str(host.root / "etc-codenvy")}
    (host.root / "swarm-state").write_text("active\n")
    joined = host.run(rerender(new, **state), MANAGER=site_config("sim").master.address)
    assert joined.returncode == 0, joined.stderr
    result = host.run(rerender(old, "delete", **state))
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert not host.ran("docker", "swarm", "leave")


def test_an_old_membership_delete_after_a_renamed_nodes_claim_leaves_the_node_in_the_swarm(host):
    host.fake("docker", FAKE_DOCKER)
    old = shipped("sim").named("codenvy-ws-node2-membership")
    new = renamed_node_run().named("codenvy-ws-worker2-membership")
    assert host.run(script_of(new)).returncode == 0
    result = host.run(script_of(old, "delete"))
    assert result.returncode == 0 and "left in the swarm" in result.stdout
    assert not host.ran("docker", "node", "rm")


def swarm_manager_with_owner(host: FakeHost, owner_of_swarm: str) -> dict[str, str]:
    """A manager host already in a swarm whose owner file names `owner_of_swarm`; the state dir to render with."""
    host.fake("docker", FAKE_DOCKER)
    (host.root / "swarm-state").write_text("active\n")
    (host.root / "etc-codenvy").mkdir()
    (host.root / "etc-codenvy" / "swarm.owner").write_text(owner_of_swarm + "\n")
    return {"state_dir": str(host.root / "etc-codenvy")}


def test_an_old_init_delete_after_the_init_moved_keeps_the_manager_in_its_swarm(host):
    """A move without an alias: the engine runs the new init's create, then the old one's delete."""
    old = shipped("sim").named("codenvy-network-swarm-init")
    state = swarm_manager_with_owner(host, owner(old))
    moved = rerender(old, owner=owner(old).replace("swarm-init", "swarm-init-moved"), **state)
    assert host.run(moved).returncode == 0
    result = host.run(rerender(old, "delete", **state))
    assert result.returncode == 0 and "left as it is" in result.stdout
    assert not host.ran("docker", "swarm", "leave")


@pytest.mark.parametrize("found_owner", ["", "codenvy-infra/other-stack/codenvy-network-swarm-init"])
def test_a_swarm_the_stack_did_not_make_is_left_by_its_init_delete_alone(host, found_owner):
    init = shipped("sim").named("codenvy-network-swarm-init")
    state = swarm_manager_with_owner(host, found_owner)
    assert host.run(rerender(init, **state)).returncode == 0
    host.run(rerender(init, "delete", **state))
    assert not host.ran("docker", "swarm", "leave")


def test_a_membership_delete_removes_the_node_it_claimed(host):
    host.fake("docker", FAKE_DOCKER)
    membership = shipped("sim").named("codenvy-ws-node2-membership")
    host.run(script_of(membership))
    result = host.run(script_of(membership, "delete"))
    assert result.returncode == 0 and "drained and removed" in result.stdout
    assert host.ran("docker", "node", "update", "--availability", "drain")
