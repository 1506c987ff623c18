"""The Resource API: free resources (limits) stored, replaced, listed and removed, and total resources."""

from __future__ import annotations

import pytest

from tests.cluster.server_image.steps import new_user, store_limit


def test_storing_a_limit_answers_201_with_default_units(api, admin):
    user = new_user(api, admin, "limited")
    stored = store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 2048}])
    assert (stored.status, stored.json()["resources"]) == (201, [{"type": "RAM", "amount": 2048, "unit": "mb"}])


def test_storing_a_limit_replaces_the_one_before(api, admin):
    user = new_user(api, admin, "replaced")
    for amount in (1, 2):
        store_limit(api, admin, user["id"], [{"type": "workspace", "amount": amount}])
    held = api.call("GET", f"/resource/free/{user['id']}", token=admin)
    assert (held.status, held.json()["resources"]) == (200, [{"type": "workspace", "amount": 2, "unit": "item"}])


def test_an_account_without_a_limit_answers_404(api, admin):
    user = new_user(api, admin, "unlimited")
    assert api.call("GET", f"/resource/free/{user['id']}", token=admin).status == 404


@pytest.mark.parametrize("held", [True, False], ids=["held", "none"])
def test_removing_a_limit_answers_204(api, admin, held):
    user = new_user(api, admin, f"removed-{'held' if held else 'none'}")
    if held:
        store_limit(api, admin, user["id"], [{"type": "runtime", "amount": 1}])
    assert api.call("DELETE", f"/resource/free/{user['id']}", token=admin).status == 204


@pytest.mark.parametrize(
    "resources",
    [
        [{"type": "CPU", "amount": 1}],
        [{"type": "RAM", "amount": 1, "unit": "gb"}],
        [{"type": "RAM", "amount": 1}, {"type": "RAM", "amount": 2}],
        [{"type": "timeout", "amount": -2}],
    ],
    ids=["unknown-type", "wrong-unit", "repeated-type", "below-minus-one"],
)
def test_an_invalid_limit_answers_400(api, admin, resources):
    assert store_limit(api, admin, "admin", resources).status == 400


def test_a_limit_for_an_unknown_account_answers_500(api, admin):
    answer = store_limit(api, admin, "nobody", [])
    assert answer.status == 500


def test_limits_are_listed_with_a_link_header(api, admin):
    user = new_user(api, admin, "listed")
    store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 1}])
    listed = api.call("GET", "/resource/free?maxItems=1&skipCount=0", token=admin)
    assert listed.status == 200 and len(listed.json()) == 1 and 'rel="next"' in listed.headers.get("Link", "")


def test_total_resources_fill_in_the_configured_defaults(api, admin):
    user = new_user(api, admin, "totals")
    store_limit(api, admin, user["id"], [{"type": "RAM", "amount": 512}])
    totals = {
        r["type"]: (r["amount"], r["unit"]) for r in api.call("GET", f"/resource/{user['id']}", token=admin).json()
    }
    # general.properties: 4096mb would be the default RAM, 14400000 ms idle; the environment's 7 workspaces win.
    assert totals == {"RAM": (512, "mb"), "timeout": (240, "minute"), "workspace": (7, "item"), "runtime": (10, "item")}


def test_total_resources_of_an_unknown_account_answer_404(api, admin):
    assert api.call("GET", "/resource/nobody", token=admin).status == 404


def test_the_resource_api_needs_the_admin(api, admin):
    new_user(api, admin, "curious", "curious123")
    token = api.login("curious", "curious123")
    assert api.call("GET", "/resource/free", token=token).status == 403


def test_a_user_reads_the_totals_of_their_own_account_only(api, admin):
    user = new_user(api, admin, "owner", "owner1234")
    token = api.login("owner", "owner1234")
    statuses = [api.call("GET", f"/resource/{account}", token=token).status for account in (user["id"], "admin")]
    assert statuses == [200, 403]
