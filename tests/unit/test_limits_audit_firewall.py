"""Account limits, the audit report and the host firewall, as the program registers them."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from components.host_firewall import FirewallSettings, render_nftables
from components.resource_api import limits_body
from tests.harness import evaluate, script_of, site_config

ADMIN = {"codenvy-infra:adminPassword": "s3cret"}
SECRET = ("codenvy-infra:adminPassword",)


def with_users(*users: dict) -> dict:
    return {"codenvy-infra:limits": {"users": list(users)}, **ADMIN}


ALICE = {
    "userId": "alice",
    "resources": [{"type": "RAM", "amount": 2048, "unit": "mb"}, {"type": "workspace", "amount": 10}],
}
BOB = {"userId": "bob@example.org", "resources": [{"type": "timeout", "amount": 60, "unit": "minute"}]}


def limit_commands(evaluation):
    return {r.name: r for r in evaluation.of_type("command:local:Command") if "-limits-" in r.name}


def test_limits_body_is_the_seeds_format():
    body = limits_body("userId", [{"type": "RAM", "amount": 2048, "unit": "mb"}, {"type": "workspace", "amount": 10}])
    assert body == {
        "userId": "userId",
        "resources": [{"type": "RAM", "amount": 2048, "unit": "mb"}, {"type": "workspace", "amount": 10}],
    }


def test_each_override_is_one_resource_storing_and_resetting_that_user():
    evaluation = evaluate("dev", with_users(ALICE, BOB), secret_keys=SECRET)
    commands = limit_commands(evaluation)
    assert len(commands) == 2
    alice = next(c for name, c in commands.items() if "alice" in name)
    assert alice.inputs["create"] == "python3 components/resource_api.py limits apply alice"
    assert alice.inputs["delete"] == "python3 components/resource_api.py limits reset alice"
    assert json.loads(alice.inputs["environment"]["CODENVY_LIMITS"]) == [
        {"amount": 2048, "type": "RAM", "unit": "mb"},
        {"amount": 10, "type": "workspace"},
    ]
    site = site_config("dev")
    assert alice.inputs["environment"]["CODENVY_API_URL"].startswith(
        f"https://{site.hostname}:{site.master.https_port}"
    )
    assert "environment" in alice.secret_inputs, "the admin password travels as a secret"
    server = evaluation.named("codenvy-master-server")
    assert server.urn in alice.dependencies


def test_removing_an_override_removes_only_that_users_resource():
    both = set(limit_commands(evaluate("dev", with_users(ALICE, BOB), secret_keys=SECRET)))
    alone = set(limit_commands(evaluate("dev", with_users(ALICE), secret_keys=SECRET)))
    (removed,) = both - alone
    assert "bob" in removed and alone < both, "its delete (limits reset) runs on the next up"


def test_changing_a_limit_changes_only_that_users_inputs():
    before = limit_commands(evaluate("dev", with_users(ALICE, BOB), secret_keys=SECRET))
    richer = {**ALICE, "resources": [{"type": "RAM", "amount": 4096, "unit": "mb"}]}
    after = limit_commands(evaluate("dev", with_users(richer, BOB), secret_keys=SECRET))
    changed = [name for name in before if before[name].inputs != after[name].inputs]
    assert len(changed) == 1 and "alice" in changed[0]


@pytest.mark.parametrize(
    ("resource", "key", "hint"),
    [
        ({"type": "disk", "amount": 1}, "resources[0].type", "'RAM', 'workspace', 'runtime' or 'timeout'"),
        ({"type": "RAM", "amount": 1, "unit": "gb"}, "resources[0].unit", "'gb' is not a unit of RAM; allowed: mb"),
        ({"type": "timeout", "amount": 5, "unit": "item"}, "resources[0].unit", "allowed: minute"),
        ({"type": "runtime", "amount": -1}, "resources[0].amount", "greater than or equal to 0"),
    ],
)
def test_bad_limits_are_refused_naming_the_key(resource, key, hint):
    with pytest.raises(ConfigError) as caught:
        evaluate("dev", with_users({"userId": "carol", "resources": [resource]}))
    message = str(caught.value)
    assert f"codenvy-infra:limits.users[0].{key}: " in message and hint in message


def test_limits_that_no_node_could_satisfy_are_refused():
    site = site_config("dev")
    too_much = (site.master.ram_gb * 1024) + 1
    user = {"userId": "dave", "resources": [{"type": "RAM", "amount": int(too_much), "unit": "mb"}]}
    with pytest.raises(ConfigError, match=r"limits\.users\[0\]\.resources: RAM \d+ mb for dave can never be used"):
        evaluate("dev", with_users(user))


def test_limits_need_the_admin_password():
    with pytest.raises(ConfigError, match="codenvy-infra:adminPassword:"):
        evaluate("dev", {"codenvy-infra:limits": {"users": [ALICE]}})


def test_default_limits_go_into_codenvy_env():
    evaluation = evaluate("dev", {"codenvy-infra:limits": {"defaults": {"ramMb": 8192, "runtimes": 2}}})
    env = dict(item.split("=", 1) for item in evaluation.named("codenvy-master-server").inputs["envs"])
    assert env["CODENVY_LIMITS_USER_WORKSPACES_RAM"] == "8192mb"
    assert env["CODENVY_LIMITS_USER_WORKSPACES_RUN_COUNT"] == "2"


def test_audit_report_is_opt_in_and_fetched_after_install_and_upgrades():
    assert not [r for r in evaluate("dev").resources if "audit" in r.name]
    evaluation = evaluate("dev", {"codenvy-infra:audit": {"enabled": True, "directory": "reports"}, **ADMIN})
    fetch = evaluation.named("codenvy-audit-fetch")
    assert fetch.inputs["create"] == "python3 components/resource_api.py audit reports"
    assert fetch.inputs["triggers"] == [site_config("dev").version]


# --- firewall ---------------------------------------------------------------------------------------


def firewall_rules(evaluation, host: str) -> str:
    script = script_of(evaluation.named(f"codenvy-ws-{host}-firewall"))
    return script.split("RULESET='", 1)[1].split("'\n", 1)[0]


def test_firewall_is_on_outside_dev_and_off_on_a_developer_machine():
    assert sorted(r.name for r in evaluate("sim").resources if r.name.endswith("-firewall")) == [
        f"codenvy-ws-{h}-firewall" for h in ("node1", "node2", "node3")
    ]
    assert not [r for r in evaluate("dev").resources if r.name.endswith("-firewall")]


def test_master_and_worker_rules_follow_the_port_tables():
    sim = evaluate("sim")
    site = site_config("sim")
    master, worker = firewall_rules(sim, "node1"), firewall_rules(sim, "node2")
    members = ", ".join(sorted(h.address for h in site.hosts))
    for rules in (master, worker):
        assert f"elements = {{ {members} }}" in rules
        assert "policy drop" in rules and "tcp dport { 22 } ip saddr @ssh_sources accept" in rules
        assert "udp dport { 4789, 7946 } ip saddr @members accept" in rules
        assert "5432" not in rules, "PostgreSQL is never opened"
    assert "2377" in master and "2377" not in worker, "only the manager takes swarm joins"
    assert f"ct original proto-dst {site.registry.port} ip saddr @members accept" in master
    assert "32768-65535" in worker and "32768-65535" not in master, "sim's master hosts no workspaces"
    assert "ct status dnat drop" in master and "ct status dnat drop" in worker


def test_firewall_sources_come_from_config():
    site = site_config("sim")
    custom = site.model_copy(update={"firewall": site.firewall.model_copy(update={"ssh_cidrs": ("10.9.0.0/24",)})})
    assert "elements = { 10.9.0.0/24 }" in render_nftables(
        FirewallSettings.of(custom), custom.master, is_master=True, runs_workspaces=False
    )


def test_removing_the_firewall_unloads_its_table():
    sim = evaluate("sim")
    assert "nft delete table inet codenvy" in script_of(sim.named("codenvy-ws-node2-firewall"), "delete")
    off = evaluate("sim", {"codenvy-infra:firewall": {"enabled": False}})
    assert not [r for r in off.resources if r.name.endswith("-firewall")]


def test_peer_sites_may_pull_from_the_registry_only_when_listed():
    site = site_config("sim")
    assert "@peers" not in render_nftables(
        FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=False
    )
    with_peer = site.model_copy(update={"firewall": site.firewall.model_copy(update={"peer_cidrs": ("10.99.0.7/32",)})})
    rules = render_nftables(FirewallSettings.of(with_peer), with_peer.master, is_master=True, runs_workspaces=False)
    assert "elements = { 10.99.0.7/32 }" in rules
    assert f"ct original proto-dst {site.registry.port} ip saddr @peers accept" in rules
