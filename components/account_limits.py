"""Per-user account limits through the Resource API, and the opt-in audit report."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
from pydantic import SecretStr

from components.config import AuditConfig, Settings, SiteConfig, UserLimits
from components.ordering import After

# Relative on purpose: the engine starts providers, and so local Commands, in the project's root (pulumi/pulumi
# pkg/engine/project.go getPwdMain, sdk/go/common/resource/plugin/plugin.go), and an absolute path would change
# the Commands' inputs from one checkout to the next. The client finds its own modules from its __file__.
CLIENT = "components/resource_api.py"


def _resource_suffix(user_id: str) -> str:
    """A stable, readable resource name for any user ID."""
    slug = re.sub(r"[^a-z0-9]+", "-", user_id.lower()).strip("-")[:40]
    return f"{slug}-{hashlib.sha256(user_id.encode()).hexdigest()[:6]}"


class ApiAccess(Settings):
    """How the admin reaches the site's REST API."""

    url: str
    admin_user: str
    admin_password: SecretStr

    @classmethod
    def of(cls, site: SiteConfig) -> ApiAccess:
        assert site.admin_password is not None, "validated: API calls need adminPassword"
        return cls(url=site.api_url, admin_user=site.limits.admin_user, admin_password=site.admin_password)

    def environment(self, ca_pem: pulumi.Input[str] | None) -> dict[str, pulumi.Input[str]]:
        """The client's environment: the password only there, never in a command line or output."""
        environment: dict[str, pulumi.Input[str]] = {
            "CODENVY_API_URL": self.url,
            "CODENVY_ADMIN_USER": self.admin_user,
            "CODENVY_ADMIN_PASSWORD": pulumi.Output.secret(self.admin_password.get_secret_value()),
        }
        if ca_pem is not None:
            environment["CODENVY_CA_PEM"] = ca_pem
        return environment


@dataclass(frozen=True, kw_only=True)
class AccountLimitsArgs:
    """What AccountLimits reads, and the resources it needs."""

    users: tuple[UserLimits, ...]
    api: ApiAccess
    ca_pem: pulumi.Input[str] | None
    after: After


class AccountLimits(pulumi.ComponentResource):
    """One resource per user override: create and update store the user's limits (POST /resource/free,
    a no-op when the server has them already); delete resets the user to the defaults. The client waits
    for a server that is still starting (components/resource_api.py). The admin password travels in the
    local process's environment, never in its command line or output."""

    def __init__(self, name: str, args: AccountLimitsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:AccountLimits", name, None, opts)
        for user in args.users:
            limits = [limit.model_dump(exclude_none=True) for limit in user.resources]
            user_arg = shlex.quote(user.user_id)
            command.local.Command(
                f"{name}-{_resource_suffix(user.user_id)}",
                create=f"python3 {CLIENT} limits apply {user_arg}",
                delete=f"python3 {CLIENT} limits reset {user_arg}",
                environment={**args.api.environment(args.ca_pem), "CODENVY_LIMITS": json.dumps(limits, sort_keys=True)},
                add_previous_output_in_env=False,
                opts=pulumi.ResourceOptions(parent=self, depends_on=args.after),
            )
        self.register_outputs({"users": [user.user_id for user in args.users]})


@dataclass(frozen=True, kw_only=True)
class AuditReportArgs:
    """What AuditReport reads, and the resources it needs."""

    config: AuditConfig
    version: str
    api: ApiAccess
    ca_pem: pulumi.Input[str] | None
    after: After


class AuditReport(pulumi.ComponentResource):
    """Saves the audit report (GET /api/audit) locally after the first install and after each upgrade,
    unless it equals the newest one saved; `make audit` fetches one on demand."""

    def __init__(self, name: str, args: AuditReportArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("codenvy:infra:AuditReport", name, None, opts)
        command.local.Command(
            f"{name}-fetch",
            create=f"python3 {CLIENT} audit {shlex.quote(args.config.directory)}",
            environment=args.api.environment(args.ca_pem),
            add_previous_output_in_env=False,
            triggers=[args.version],
            opts=pulumi.ResourceOptions(parent=self, depends_on=args.after),
        )
        self.register_outputs({"directory": args.config.directory})
