"""Account limits per user (the seed's Resource API) and the audit report."""

from __future__ import annotations

import re
from collections import Counter
from typing import Literal

from pydantic import Field, field_validator, model_validator

from components.config.errors import ConfigKeyError
from components.config.fields import Model

# The seed's Resource API table: resource type -> the units it accepts, the first being its default.
LIMIT_UNITS: dict[str, tuple[str, ...]] = {
    "RAM": ("mb",),
    "workspace": ("item",),
    "runtime": ("item",),
    "timeout": ("minute",),
}
_USER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$")


class ResourceLimit(Model):
    type: Literal["RAM", "workspace", "runtime", "timeout"] = Field(description="Resource type (seed's table).")
    amount: int = Field(ge=0, description="Amount, in the unit.")
    unit: str | None = Field(default=None, description="mb for RAM, item for workspace/runtime, minute for timeout.")

    @model_validator(mode="after")
    def _unit_of_type(self) -> ResourceLimit:
        allowed = LIMIT_UNITS[self.type]
        if self.unit is not None and self.unit not in allowed:
            raise ConfigKeyError(
                ("unit",), f"'{self.unit}' is not a unit of {self.type}; allowed: {', '.join(allowed)}"
            )
        return self

    @property
    def megabytes(self) -> int | None:
        return self.amount if self.type == "RAM" else None


class UserLimits(Model):
    user_id: str = Field(description="Codenvy user ID whose default limits are overridden.")
    resources: tuple[ResourceLimit, ...] = Field(min_length=1, description="The overrides; others stay default.")

    @field_validator("user_id")
    @classmethod
    def _user_id(cls, value: str) -> str:
        if not _USER_ID.fullmatch(value):
            raise ValueError("must be a user ID: letters, digits and . _ @ -, at most 128 characters")
        return value

    @model_validator(mode="after")
    def _one_per_type(self) -> UserLimits:
        types = [limit.type for limit in self.resources]
        repeated = sorted({t for t in types if types.count(t) > 1})
        if repeated:
            raise ConfigKeyError(("resources",), f"each type once; repeated: {', '.join(repeated)}")
        return self


class DefaultLimits(Model):
    ram_mb: int = Field(default=4096, ge=256, description="RAM a user's running workspaces may use in total, MiB.")
    workspaces: int = Field(default=30, ge=1, description="Workspaces a user may create.")
    runtimes: int = Field(default=1, ge=1, description="Workspaces a user may run at once.")
    idle_timeout_minutes: int = Field(default=240, ge=1, description="Idle time before a workspace is stopped.")


class LimitsConfig(Model):
    defaults: DefaultLimits = Field(default_factory=DefaultLimits, description="System-wide defaults (codenvy.env).")
    users: tuple[UserLimits, ...] = Field(
        default=(), description="Per-user overrides, applied through the Resource API."
    )
    api_url: str | None = Field(default=None, description="Base URL of the REST API; default: the site URL + /api.")
    admin_user: str = Field(default="admin", description="Admin account that calls the API (password: adminPassword).")

    @field_validator("users")
    @classmethod
    def _one_entry_per_user(cls, value: tuple[UserLimits, ...]) -> tuple[UserLimits, ...]:
        counts = Counter(user.user_id for user in value)
        repeated = sorted(user_id for user_id, count in counts.items() if count > 1)
        if repeated:
            raise ValueError(f"each userId once (merge their resources); repeated: {', '.join(repeated)}")
        return value

    @field_validator("api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"https?://[A-Za-z0-9.:\[\]-]+(/[A-Za-z0-9._~/-]*)?", value):
            raise ValueError("must be an http(s):// URL such as https://codenvy.example.com/api")
        return value


class AuditConfig(Model):
    enabled: bool = Field(default=False, description="Fetch /api/audit after install and each upgrade.")
    directory: str = Field(default="audit-reports", description="Where report_<datetime>.txt files are saved locally.")
