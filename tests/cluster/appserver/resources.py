"""The Resource API of Codenvy 5.22: free resources limits per account, each account's total, used and available
resources, and the deductions workspace creation and start are checked against.

Sources: eclipse/che 5.22.0 multiuser/api/che-multiuser-api-resource/src/main/java/org/eclipse/che/multiuser/
resource/ ("RES"): api/free/FreeResourcesLimitService.java, FreeResourcesLimitValidator.java:46-64,
ResourceValidator.java:58-86, FreeResourcesProvider.java:69-95, spi/jpa/JpaFreeResourcesLimitDao.java,
api/usage/ResourceUsageService.java, ResourceUsageManager.java, DefaultAvailableResourcesProvider.java,
api/type/*ResourceType.java and AbstractExhaustibleResource.java; eclipse/che multiuser/personal-account/
.../DefaultUserResourcesProvider.java:44-67 for the defaults.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from configuration import Configuration, parse_size_to_megabytes
from database import Database, as_json
from errors import ApiError, bad_request, not_found

RAM, WORKSPACE, RUNTIME, TIMEOUT = "RAM", "workspace", "runtime", "timeout"
# RES api/type/RamResourceType.java:23-24, WorkspaceResourceType.java:22-23, RuntimeResourceType.java:22-23,
# TimeoutResourceType.java:25-26: each type's id and its one supported unit, which is also its default.
UNITS = {RAM: "mb", WORKSPACE: "item", RUNTIME: "item", TIMEOUT: "minute"}
# DefaultUserResourcesProvider.java:63-67 lists them in this order.
DEFAULT_ORDER = (TIMEOUT, RAM, WORKSPACE, RUNTIME)


def resource(kind: str, amount: int) -> dict:
    """A ResourceDto (RES shared/dto/ResourceDto.java:18-38)."""
    return {"type": kind, "amount": amount, "unit": UNITS[kind]}


def validated_limit(body: object) -> tuple[str, list[dict]]:
    """FreeResourcesLimitValidator.check, which ResourceValidator.validate completes: a missing unit becomes
    the type's default."""
    if body is None:
        raise bad_request("Missed free resources limit description.")
    if not isinstance(body, dict):
        raise bad_request("the body must be a FreeResourcesLimitDto")
    account_id = body.get("accountId")
    if account_id is None:
        raise bad_request("Missed account id.")
    if not isinstance(account_id, str):
        raise bad_request("accountId must be a string")
    seen: set[str] = set()
    resources = []
    for entry in body.get("resources") or []:
        kind = entry.get("type") if isinstance(entry, dict) else None
        if kind in seen:
            raise bad_request(f"Free resources limit should contain only one resources with type '{kind}'.")
        seen.add(kind)
        if not isinstance(entry, dict):
            raise bad_request("Missed resource")
        if kind not in UNITS:
            raise bad_request(f"Specified resources type '{kind}' is not supported")
        unit = entry.get("unit")
        if unit is not None and unit != UNITS[kind]:
            raise bad_request(f"Specified resources type '{kind}' support only following units: {UNITS[kind]}")
        amount = entry.get("amount", 0)
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise bad_request(f"Resources with type '{kind}' must have an integer amount")
        if amount < -1:
            raise bad_request(f"Resources with type '{kind}' has negative amount")
        resources.append(resource(kind, amount))
    return account_id, resources


def default_resources(configuration: Configuration) -> list[dict]:
    """DefaultUserResourcesProvider.java:44-67: what a personal account has where its limit says nothing."""
    ram = configuration.text("che.limits.user.workspaces.ram")
    amounts = {
        TIMEOUT: configuration.number("che.limits.workspace.idle.timeout") // 60_000,  # ms → minutes
        RAM: -1 if ram == "-1" else parse_size_to_megabytes(ram),
        WORKSPACE: configuration.number("che.limits.user.workspaces.count"),
        RUNTIME: configuration.number("che.limits.user.workspaces.run.count"),
    }
    return [resource(kind, amounts[kind]) for kind in DEFAULT_ORDER]


class NotEnoughResourcesError(Exception):
    """RES api/exception/NoEnoughResourcesException: what was asked for, what was available, what was missing."""

    def __init__(self, available: list[dict], missing: list[dict]) -> None:
        super().__init__("not enough resources")
        self.available = available
        self.missing = missing


def deduct(total: Iterable[dict], deduction: Iterable[dict]) -> list[dict]:
    """ResourceAggregator.deduct (ResourceAggregator.java:80-109) with each type's own rule: -1 is unlimited
    (AbstractExhaustibleResource.java:43-60); a timeout is not consumed (TimeoutResourceType.java:51-58)."""
    result = {entry["type"]: dict(entry) for entry in total}
    missing = []
    for wanted in deduction:
        kind, have = wanted["type"], result.get(wanted["type"])
        if have is None:
            missing.append(wanted)
        elif kind == TIMEOUT or have["amount"] == -1:
            continue
        elif wanted["amount"] == -1:
            result.pop(kind)
            missing.append(wanted)
        elif have["amount"] < wanted["amount"]:
            result.pop(kind)
            missing.append(resource(kind, wanted["amount"] - have["amount"]))
        else:
            have["amount"] -= wanted["amount"]
    if missing:
        raise NotEnoughResourcesError(list(total), missing)
    return list(result.values())


class Resources:
    """Free resources limits in the database; usage from the workspaces, through `used_by` (set by the server)."""

    def __init__(self, database: Database, configuration: Configuration) -> None:
        self.database = database
        self.configuration = configuration
        self.used_by: Callable[[str], list[dict]] = lambda account_id: []

    # -- FreeResourcesLimitService ----------------------------------------------------------------------------

    def store(self, body: object) -> dict:
        """POST /resource/free: replace the account's limit, or create it (JpaFreeResourcesLimitDao.java:113-122).
        An unknown account fails on the account reference, a ServerException (JpaFreeResourcesLimitDao.java:51-55)."""
        account_id, resources = validated_limit(body)
        self.database.rows(
            "INSERT INTO che_free_resources_limit (account_id, resources) VALUES (%s, %s) "
            "ON CONFLICT (account_id) DO UPDATE SET resources = EXCLUDED.resources",
            (account_id, as_json(resources)),
        )
        return {"accountId": account_id, "resources": resources}

    def page(self, max_items: int, skip_count: int) -> tuple[list[dict], int]:
        """GET /resource/free: a page of limits and their total count (JpaFreeResourcesLimitDao.java:72-90)."""
        total = self.database.rows("SELECT count(*) FROM che_free_resources_limit")[0][0]
        rows = self.database.rows(
            "SELECT account_id, resources FROM che_free_resources_limit ORDER BY account_id LIMIT %s OFFSET %s",
            (max_items, skip_count),
        )
        return [{"accountId": account, "resources": resources} for account, resources in rows], total

    def get(self, account_id: str) -> dict:
        """GET /resource/free/{accountId}: 404 when the account has none (JpaFreeResourcesLimitDao.java:58-70)."""
        found = self.database.rows(
            "SELECT resources FROM che_free_resources_limit WHERE account_id = %s", (account_id,)
        )
        if not found:
            raise not_found(f"Free resources limit for account '{account_id}' was not found")
        return {"accountId": account_id, "resources": found[0][0]}

    def remove(self, account_id: str) -> None:
        """DELETE /resource/free/{accountId}: nothing to remove is no error (JpaFreeResourcesLimitDao.java:102-110)."""
        self.database.rows("DELETE FROM che_free_resources_limit WHERE account_id = %s", (account_id,))

    # -- ResourceUsageService ---------------------------------------------------------------------------------

    def total(self, account_id: str) -> list[dict]:
        """The account's limit, completed with the defaults of its type (FreeResourcesProvider.java:69-95);
        404 for an unknown account (FreeResourcesProvider.java:100, AccountManager.getById)."""
        rows = self.database.rows("SELECT type FROM account WHERE id = %s", (account_id,))
        if not rows:
            raise not_found(f"Account with id '{account_id}' was not found")
        limit = self.database.rows(
            "SELECT resources FROM che_free_resources_limit WHERE account_id = %s", (account_id,)
        )
        resources = {entry["type"]: entry for entry in (limit[0][0] if limit else [])}
        if rows[0][0] == "personal":
            for entry in default_resources(self.configuration):
                resources.setdefault(entry["type"], entry)
        return list(resources.values())

    def used(self, account_id: str) -> list[dict]:
        self.total(account_id)  # 404 for an unknown account, as the trackers' AccountManager.getById
        return self.used_by(account_id)

    def available(self, account_id: str) -> list[dict]:
        """DefaultAvailableResourcesProvider: total less used; what is overdrawn is left out."""
        total, used = self.total(account_id), self.used(account_id)
        try:
            return deduct(total, used)
        except NotEnoughResourcesError as short:
            overdrawn = {entry["type"] for entry in short.missing}
            return [entry for entry in deduct(total, [u for u in used if u["type"] not in overdrawn])
                    if entry["type"] not in overdrawn]  # fmt: skip

    def check(self, account_id: str, wanted: list[dict]) -> None:
        """ResourceUsageManager.checkResourcesAvailability (ResourceUsageManager.java:122-127)."""
        deduct(self.available(account_id), wanted)


def require_total_access(subject_id: str, is_admin: bool, account_id: str, account_type: str | None) -> None:
    """ResourceUsageServicePermissionsFilter.java:62-93: an admin reads any account, a user their personal one."""
    if is_admin:
        return
    if account_type != "personal" or subject_id != account_id:
        raise ApiError(403, "User is not authorized to use specified account")
