"""Account limits as the program registers them: one override per user through the Resource API, the defaults in the
server's general properties, and the limits refused by key."""

from __future__ import annotations

import functools
import json
import shlex

import pytest

from components.config import ConfigError
from components.resource_api import limits_body
from tests.harness import container_file, evaluate, properties_of, site_config
from tests.unit.account_limits.site_api import ADMIN, RESOURCE_API

GENERAL_PROPERTIES = "/opt/codenvy-data/conf/general.properties"


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


@functools.cache
def two_overrides():
    return evaluate("dev", with_users(ALICE, BOB), secret_keys=SECRET)


def alices_override():
    return next(c for name, c in limit_commands(two_overrides()).items() if "alice" in name)


def test_limits_body_is_the_free_resources_limit_format():
    body = limits_body("user123", [{"type": "RAM", "amount": 2048, "unit": "mb"}, {"type": "workspace", "amount": 10}])
    assert body == {
        "accountId": "user123",
        "resources": [{"type": "RAM", "amount": 2048, "unit": "mb"}, {"type": "workspace", "amount": 10}],
    }


def test_each_user_override_is_one_resource():
    names = sorted(limit_commands(two_overrides()))
    assert len(names) == 2 and "alice" in names[0] and "bob" in names[1]


def test_an_override_stores_that_users_limits():
    assert shlex.split(alices_override().inputs["create"]) == [*RESOURCE_API, "limits", "apply", "alice"]


def test_deleting_an_override_resets_that_users_limits():
    assert shlex.split(alices_override().inputs["delete"]) == [*RESOURCE_API, "limits", "reset", "alice"]


def test_an_override_sends_that_users_limits():
    assert json.loads(alices_override().inputs["environment"]["CODENVY_LIMITS"]) == [
        {"amount": 2048, "type": "RAM", "unit": "mb"},
        {"amount": 10, "type": "workspace"},
    ]


def test_an_override_calls_the_sites_api():
    site = site_config("dev")
    url = alices_override().inputs["environment"]["CODENVY_API_URL"]
    assert url.startswith(f"https://{site.hostname}:{site.master.https_port}")


def test_the_admin_password_reaches_an_override_as_a_secret():
    assert "environment" in alices_override().secret_inputs


def test_an_override_waits_for_the_server():
    assert two_overrides().named("codenvy-master-server").urn in alices_override().dependencies


def test_removing_an_override_removes_only_that_users_resource():
    both = set(limit_commands(two_overrides()))
    alone = set(limit_commands(evaluate("dev", with_users(ALICE), secret_keys=SECRET)))
    (removed,) = both - alone
    assert "bob" in removed and alone < both, "its delete (limits reset) runs on the next up"


def test_changing_a_limit_changes_only_that_users_inputs():
    before = limit_commands(two_overrides())
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


def test_default_limits_reach_the_servers_general_properties():
    evaluation = evaluate("dev", {"codenvy-infra:limits": {"defaults": {"ramMb": 8192, "runtimes": 2}}})
    general = properties_of(container_file(evaluation.named("codenvy-master-server"), GENERAL_PROPERTIES))
    assert (general["che.limits.user.workspaces.ram"], general["che.limits.user.workspaces.run.count"]) == (
        "8192mb",
        "2",
    )
