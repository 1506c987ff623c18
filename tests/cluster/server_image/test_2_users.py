"""Login, tokens, users and the audit report, as upstream's REST API answers them."""

from __future__ import annotations

import base64
import re

from components.master_layout import DATABASE, DATABASE_USER
from tests.cluster.server_image.steps import ADMIN_PASSWORD, new_user
from tests.cluster.stand_in_services import (
    IMAGES,
    VERSIONS,
)


def test_server_reports_the_version_of_its_image(api):
    assert api.call("OPTIONS", "/").json()["implementationVersion"] == VERSIONS[0]


def test_each_server_version_is_its_own_image(engine):
    ids = {engine.docker("image", "inspect", "-f", "{{.Id}}", f"{IMAGES.server}:{v}").stdout for v in VERSIONS}
    assert len(ids) == len(VERSIONS)


def test_server_health_check_needs_no_token(api):
    assert api.call("GET", "/").status == 200


def test_server_refuses_a_call_without_a_token(api):
    assert api.call("GET", "/user").status == 401


def test_server_refuses_http_basic_credentials(api):
    basic = "Basic " + base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    refused = api.call("GET", "/user", Authorization=basic)
    assert refused.status == 403 and "is invalid" in refused.json()["message"]


def test_server_refuses_a_wrong_password_at_login(api):
    assert api.call("POST", "/auth/login", {"username": "admin", "password": "not-it-1"}).status == 401


def test_server_accepts_the_token_as_a_query_parameter(api, admin):
    assert api.call("GET", f"/user?token={admin}").json()["name"] == "admin"


def test_admin_id_is_its_name(api, admin):
    assert api.call("GET", "/user", token=admin).json()["id"] == "admin"


def test_new_user_ids_are_user_and_16_characters(api, admin):
    assert re.fullmatch(r"user[0-9a-z]{16}", new_user(api, admin, "ids")["id"])


def test_server_keeps_users_in_the_database_server_xml_names(engine, api, admin, postgres):
    user = new_user(api, admin, "stored")
    stored = engine.docker("exec", postgres, "psql", "-tA", "-U", DATABASE_USER, "-d", DATABASE,
                           "-c", "SELECT id FROM usr WHERE name = 'stored'").stdout  # fmt: skip
    assert stored.strip() == user["id"]


def test_users_are_found_by_email(api, admin):
    user = new_user(api, admin, "found")
    assert api.call("GET", "/user/find?email=found@example.org", token=admin).json()["id"] == user["id"]


def test_only_admins_create_users(api, admin):
    new_user(api, admin, "plain", "plainpass1")
    token = api.login("plain", "plainpass1")
    assert api.call("POST", "/user", {"name": "other", "email": "other@example.org"}, token).status == 403


def test_admins_list_users_a_page_at_a_time(api, admin):
    new_user(api, admin, "paged")
    page = api.call("GET", "/admin/user?maxItems=1&skipCount=0", token=admin)
    assert page.status == 200 and len(page.json()) == 1 and 'rel="next"' in page.headers.get("Link", "")


def test_the_audit_report_counts_users_and_names_its_file_as_upstream(api, admin):
    report = api.call("GET", "/audit", token=admin)
    disposition = re.fullmatch(r"attachment; filename=report_\d\d-\d\d-\d{4}_\d\d:\d\d:\d\d\.txt",
                               report.headers.get("Content-Disposition", ""))  # fmt: skip
    assert report.text.startswith("Number of users: ") and disposition, report
