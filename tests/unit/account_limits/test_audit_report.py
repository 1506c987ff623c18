"""The audit report as the program registers it: off by default, fetched after the first install and after each
upgrade."""

from __future__ import annotations

import functools
import shlex

from tests.harness import evaluate, site_config
from tests.unit.account_limits.site_api import ADMIN, RESOURCE_API


def test_the_audit_report_is_off_by_default():
    assert not [r for r in evaluate("dev").resources if "audit" in r.name]


@functools.cache
def audited():
    return evaluate("dev", {"codenvy-infra:audit": {"enabled": True, "directory": "reports"}, **ADMIN})


def test_the_audit_report_is_fetched_into_the_configured_directory():
    assert shlex.split(audited().named("codenvy-audit-fetch").inputs["create"]) == [*RESOURCE_API, "audit", "reports"]


def test_the_audit_report_is_fetched_again_after_an_upgrade():
    assert audited().named("codenvy-audit-fetch").inputs["triggers"] == [site_config("dev").version]
