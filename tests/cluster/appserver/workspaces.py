"""Workspaces: created in an account's namespace, started and stopped through the machine runtime, checked against
the account's resources, snapshotted and restored.

Sources (eclipse/che 5.22.0): wsmaster/che-core-api-workspace/.../WorkspaceService.java:141-423,
WorkspaceManager.java:328-460,640-747,794-869, WorkspaceRuntimes.java:200-217,340-349,
jpa/JpaWorkspaceDao.java:55-68,105; multiuser/permission/che-multiuser-permission-workspace/.../
WorkspacePermissionsFilter.java:74-211, WorkspaceCreatorPermissionsProvider.java:61-64;
multiuser/api/che-multiuser-api-resource/.../workspace/LimitsCheckingWorkspaceManager.java:102-299 and
usage/tracker/{Ram,Runtime,Workspace}ResourceUsageTracker.java (what an account uses).

Upstream starts and stops a workspace asynchronously (the answer says STARTING, the client waits for RUNNING);
the contract makes both synchronous: the start answers RUNNING, or the reason it failed.
"""

from __future__ import annotations

import datetime
import logging
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field

import environments
from configuration import Configuration, parse_size_to_megabytes
from database import Database, as_json
from docker_api import DockerError
from errors import ApiError, conflict, forbidden, not_found, server_error
from machines import Machine, MachineRuntime
from resources import RAM, RUNTIME, WORKSPACE, NotEnoughResourcesError, Resources, resource
from users import PERSONAL, Subject, Users, generate

LOG = logging.getLogger("codenvy.workspaces")
STOPPED, STARTING, RUNNING, STOPPING = "STOPPED", "STARTING", "RUNNING", "STOPPING"
# WorkspaceDomain.java:33 with setPermissions added (AbstractPermissionsDomain.java:41-45), in the order Java's
# HashSet gives them, which is what the audit report prints.
OWNER_ACTIONS = ["read", "use", "run", "configure", "setPermissions", "delete"]
LIMIT_EXCEEDED = 10000  # LimitsCheckingWorkspaceManager's ErrorCodes.LIMIT_EXCEEDED


@dataclass
class RuntimeState:
    status: str
    env_name: str
    services: list = field(default_factory=list)
    machines: list[Machine] = field(default_factory=list)


def now_ms() -> int:
    return int(time.time() * 1000)


class Workspaces:
    def __init__(
        self,
        database: Database,
        configuration: Configuration,
        users: Users,
        resources: Resources,
        runtime: MachineRuntime,
    ) -> None:
        self.database = database
        self.configuration = configuration
        self.users = users
        self.resources = resources
        self.runtime = runtime
        self.states: dict[str, RuntimeState] = {}
        self._lock = threading.Lock()
        self._account_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)  # ResourcesLocks
        resources.used_by = self.used

    # -- reading ----------------------------------------------------------------------------------------------

    def _row(self, workspace_id: str) -> tuple:
        """(id, namespace, account id, account type, config, attributes) of a workspace (JpaWorkspaceDao.java:105)."""
        return self.database.one(
            "SELECT w.id, a.name, a.id, a.type, w.config, w.attributes FROM workspace w "
            "JOIN account a ON a.id = w.account_id WHERE w.id = %s",
            (workspace_id,),
            lambda: not_found(f"Workspace with id '{workspace_id}' doesn't exist"),
        )

    def _by_key(self, key: str, subject: Subject) -> tuple:
        """WorkspaceManager.getByKey (WorkspaceManager.java:817-840): an id, or namespace:name / namespace/name."""
        colon, slash = key.find(":"), key.rfind("/")
        if colon == -1 and slash == -1:
            return self._row(key)
        if colon == 0:
            namespace, name = subject.name, key[1:]
        elif colon > 0:
            namespace, name = key[:colon], key[colon + 1 :]
        else:
            namespace, name = key[:slash], key[slash + 1 :]
        found = self.database.rows(
            "SELECT w.id FROM workspace w JOIN account a ON a.id = w.account_id WHERE a.name = %s AND w.name = %s",
            (namespace, name),
        )
        if not found:
            raise not_found(f"Workspace with name '{name}' in namespace '{namespace}' doesn't exist")
        return self._row(found[0][0])

    def status(self, workspace_id: str) -> str:
        state = self.states.get(workspace_id)
        return state.status if state else STOPPED

    def as_json(self, row: tuple) -> dict:
        """A WorkspaceDto: id, namespace, config, status, attributes and, while running, the runtime."""
        workspace_id, namespace, _, _, config, attributes = row
        document = {
            "id": workspace_id,
            "namespace": namespace,
            "config": config,
            "status": self.status(workspace_id),
            "attributes": dict(attributes),
            "temporary": False,
        }
        snapshots = self.database.rows(
            "SELECT max(creation_date) FROM snapshot WHERE workspace_id = %s", (workspace_id,)
        )
        if snapshots and snapshots[0][0]:
            document["attributes"]["snapshotted_at"] = str(snapshots[0][0])  # WorkspaceManager.java:861-868
        state = self.states.get(workspace_id)
        if state and state.machines:
            machines = [machine.as_json(workspace_id, namespace) for machine in state.machines]
            document["runtime"] = {
                "activeEnv": state.env_name,
                "machines": machines,
                "devMachine": next((m for m in machines if m["config"]["dev"]), None),
            }
        return document

    def get(self, key: str, subject: Subject) -> dict:
        row = self._by_key(key, subject)
        if not self._super_privileged(subject):
            self._require(row, subject, "read")
        return self.as_json(row)

    def own(self, subject: Subject, status: str | None) -> list[dict]:
        """GET /workspace: the workspaces the caller has permissions in (WorkspaceService.java:230-246)."""
        rows = self.database.rows(
            "SELECT w.id FROM workspace w JOIN worker k ON k.workspace_id = w.id WHERE k.user_id = %s ORDER BY w.id",
            (subject.user_id,),
        )
        documents = [self.as_json(self._row(row[0])) for row in rows]
        return [d for d in documents if status is None or d["status"].lower() == status.lower()]

    def by_namespace(self, namespace: str, subject: Subject, status: str | None) -> list[dict]:
        """GET /workspace/namespace/{namespace} (WorkspaceService.java:248-272)."""
        if not self._super_privileged(subject):
            self._require_account(namespace, subject)
        rows = self.database.rows(
            "SELECT w.id FROM workspace w JOIN account a ON a.id = w.account_id WHERE a.name = %s ORDER BY w.id",
            (namespace,),
        )
        documents = [self.as_json(self._row(row[0])) for row in rows]
        return [d for d in documents if status is None or d["status"].lower() == status.lower()]

    # -- permissions (WorkspacePermissionsFilter) --------------------------------------------------------------

    def _super_privileged(self, subject: Subject) -> bool:
        """SuperPrivilegesChecker: manageSystem, and che.system.super_privileged_mode on."""
        return subject.has("manageSystem") and self.configuration.flag("che.system.super_privileged_mode")

    def _require_account(self, namespace: str, subject: Subject) -> tuple:
        account = self.users.account_by_name(namespace)
        # PersonalAccountPermissionsChecker: a user may do anything in their personal account, nobody else may.
        if account[2] != PERSONAL:
            raise forbidden("User is not authorized to use specified namespace")
        if account[0] != subject.user_id:
            raise forbidden("User is not authorized to use specified account")
        return account

    def _require(self, row: tuple, subject: Subject, action: str) -> None:
        workspace_id, _, account_id, account_type = row[:4]
        if account_type == PERSONAL and account_id == subject.user_id:
            return
        actions = self.database.rows(
            "SELECT actions FROM worker WHERE user_id = %s AND workspace_id = %s", (subject.user_id, workspace_id)
        )
        if not actions or action not in actions[0][0]:
            raise forbidden(f"The user does not have permission to {action} workspace with id '{workspace_id}'")

    # -- create and remove -------------------------------------------------------------------------------------

    def create(self, config: object, namespace: str | None, subject: Subject, attributes: list[str]) -> dict:
        environments.validate_config(config)
        parsed = {}
        for attribute in attributes:  # WorkspaceService.parseAttrs and DefaultWorkspaceValidator.validateAttributes
            name, _, value = attribute.partition(":")
            if not name.strip() or name.lower().startswith("codenvy"):
                raise ApiError(400, f"Attribute name '{name}' is not valid")
            parsed[name] = value
        namespace = namespace or subject.name  # WorkspaceService.java:171-173
        account_id = self._require_account(namespace, subject)[0]
        assert isinstance(config, dict)
        self._check_environment_ram(config)
        with self._account_locks[account_id]:
            self._check(account_id, [resource(WORKSPACE, 1)], "You are not allowed to create more workspaces.")
            workspace_id = generate("workspace")
            parsed["created"] = str(now_ms())  # WorkspaceManager.java:805
            taken = self.database.rows(
                "SELECT 1 FROM workspace WHERE account_id = %s AND name = %s", (account_id, config["name"])
            )
            if taken:
                raise conflict(
                    f"Workspace with id '{workspace_id}' or name '{config['name']}' in namespace '{namespace}' "
                    "already exists"
                )
            with self.database.transaction() as cursor:
                cursor.execute(
                    "INSERT INTO workspace (id, account_id, name, config, attributes) VALUES (%s, %s, %s, %s, %s)",
                    (workspace_id, account_id, config["name"], as_json(config), as_json(parsed)),
                )
                # WorkspaceCreatorPermissionsProvider.java:61-64: the creator gets every action.
                cursor.execute(
                    "INSERT INTO worker (user_id, workspace_id, actions) VALUES (%s, %s, %s)",
                    (subject.user_id, workspace_id, OWNER_ACTIONS),
                )
        LOG.info(
            "Workspace '%s/%s' with id '%s' created by user '%s'", namespace, config["name"], workspace_id, subject.name
        )
        return self.as_json(self._row(workspace_id))

    def remove(self, workspace_id: str, subject: Subject) -> None:
        """DELETE /workspace/{id}: its snapshots, then itself, unless it runs (WorkspaceManager.java:328-337)."""
        row = self._row(workspace_id)
        self._require(row, subject, "delete")
        if workspace_id in self.states:
            raise conflict(f"The workspace '{workspace_id}' is currently running and cannot be removed.")
        self.database.rows("DELETE FROM workspace WHERE id = %s", (workspace_id,))

    def snapshots(self, workspace_id: str, subject: Subject) -> list[dict]:
        row = self._row(workspace_id)
        self._require(row, subject, "read")
        rows = self.database.rows(
            "SELECT id, env_name, machine_name, is_dev, location, creation_date FROM snapshot WHERE workspace_id = %s "
            "ORDER BY creation_date DESC",
            (workspace_id,),
        )
        return [
            {"id": i, "workspaceId": workspace_id, "envName": e, "machineName": m, "dev": d, "machineSource": loc,
             "creationDate": c, "type": "docker"}
            for i, e, m, d, loc, c in rows
        ]  # fmt: skip

    # -- limits (LimitsCheckingWorkspaceManager) ---------------------------------------------------------------

    def _check(self, account_id: str, wanted: list[dict], message: str) -> None:
        try:
            self.resources.check(account_id, wanted)
        except NotEnoughResourcesError:
            raise server_error(message, errorCode=LIMIT_EXCEEDED) from None

    def _check_environment_ram(self, config: dict) -> None:
        """LimitsCheckingWorkspaceManager.java:187-209: no environment over che.limits.workspace.env.ram."""
        limit = self.configuration.text("che.limits.workspace.env.ram")
        if limit == "-1":
            return
        maximum = parse_size_to_megabytes(limit)
        for environment in config["environments"].values():
            needed = environments.ram_mb(environment, self.configuration.number("che.workspace.default_memory_mb"))
            if needed > maximum:
                raise server_error(
                    f"You are only allowed to use {maximum} mb. RAM per workspace.",
                    errorCode=LIMIT_EXCEEDED,
                    attributes={"environment_max_ram": str(maximum), "environment_max_ram_unit": "mb",
                                "environment_ram": str(needed), "environment_ram_unit": "mb"},
                )  # fmt: skip

    def used(self, account_id: str) -> list[dict]:
        """What an account's workspaces use: RAM of those not stopped (from the configuration while starting),
        their count, and the count of all its workspaces; a type with nothing used is left out."""
        rows = self.database.rows("SELECT id, config FROM workspace WHERE account_id = %s", (account_id,))
        ram = running = 0
        for workspace_id, config in rows:
            state = self.states.get(workspace_id)
            if state is None:
                continue
            running += 1
            if state.status == STARTING:
                environment = config["environments"][state.env_name]
                ram += environments.ram_mb(environment, self.configuration.number("che.workspace.default_memory_mb"))
            else:
                ram += sum(machine.memory_bytes // environments.MEBIBYTE for machine in state.machines)
        amounts = {RAM: ram, WORKSPACE: len(rows), RUNTIME: running}
        return [resource(kind, amount) for kind, amount in amounts.items() if amount > 0]

    # -- start and stop ---------------------------------------------------------------------------------------

    def start(
        self, workspace_id: str, env_name: str | None, restore: bool | None, subject: Subject, token: str
    ) -> dict:
        row = self._row(workspace_id)
        self._require(row, subject, "run")
        _, namespace, account_id, _, config, attributes = row
        if env_name is not None and env_name not in config["environments"]:
            raise not_found(f"Workspace '{namespace}/{config['name']}' doesn't contain environment '{env_name}'")
        env_name = env_name or config["defaultEnv"]
        environment = config["environments"][env_name]
        with self._account_locks[account_id]:
            self._check(account_id, [resource(RUNTIME, 1)], "You are not allowed to start more workspaces.")
            self._check_start_ram(account_id, namespace, config, environment)
            with self._lock:
                state = self.states.get(workspace_id)
                if state is not None:
                    raise conflict(
                        f"Could not start workspace '{config['name']}' because its status is '{state.status}'"
                    )
                state = self.states[workspace_id] = RuntimeState(STARTING, env_name)
        try:
            services = environments.services(env_name, environment)
            # WorkspaceManager.java:363-369: the caller's choice, else the workspace's attribute, else the default.
            attribute = attributes.get("auto_restore")
            default = self.configuration.flag("che.workspace.auto_restore")
            wanted = restore if restore is not None else (default if attribute is None else attribute == "true")
            snapshots = self._snapshots_of(workspace_id, env_name) if wanted else {}
            state.machines = self.runtime.start(workspace_id, namespace, token, env_name, services, snapshots)
        except BaseException as error:
            with self._lock:
                self.states.pop(workspace_id, None)
            LOG.info("Workspace '%s/%s' can't be started because: %s", namespace, config["name"], error)
            if isinstance(error, DockerError):
                raise server_error(str(error)) from None
            raise
        state.status = RUNNING
        LOG.info(
            "Workspace '%s/%s' with id '%s' started by user '%s'", namespace, config["name"], workspace_id, subject.name
        )
        return self.as_json(self._row(workspace_id))

    def _check_start_ram(self, account_id: str, namespace: str, config: dict, environment: dict) -> None:
        """LimitsCheckingWorkspaceManager.java:211-248, with its message."""
        needed = environments.ram_mb(environment, self.configuration.number("che.workspace.default_memory_mb"))
        try:
            self.resources.check(account_id, [resource(RAM, needed)])
        except NotEnoughResourcesError:
            available = next((r for r in self.resources.available(account_id) if r["type"] == RAM), resource(RAM, 0))
            used = next((r for r in self.used(account_id) if r["type"] == RAM), resource(RAM, 0))
            have, using = (f"{r['amount']}{r['unit'].upper()}" for r in (available, used))
            raise server_error(
                f"Workspace {namespace}/{config['name']} needs {needed}MB to start. Your account has {have} available "
                f"and {using} in use. The workspace can't be start. Stop other workspaces or grant more resources.",
                errorCode=LIMIT_EXCEEDED,
            ) from None

    def _snapshots_of(self, workspace_id: str, env_name: str) -> dict[str, dict]:
        rows = self.database.rows(
            "SELECT machine_name, location FROM snapshot WHERE workspace_id = %s AND env_name = %s",
            (workspace_id, env_name),
        )
        return {machine: location for machine, location in rows}

    def stop(self, workspace_id: str, create_snapshot: bool | None, subject: Subject) -> None:
        row = self._row(workspace_id)
        if not self._super_privileged(subject):
            self._require(row, subject, "run")
        _, namespace, _, _, config, attributes = row
        with self._lock:
            state = self.states.get(workspace_id)
            status = state.status if state else STOPPED
            # WorkspaceManager.java:450-457. A start in progress is not interrupted here (upstream's asynchronous
            # start can be): it must finish first.
            if state is None or status != RUNNING:
                raise conflict(
                    f"Could not stop the workspace '{namespace}/{config['name']}' because its status is '{status}'. "
                    "Workspace must be either 'STARTING' or 'RUNNING'"
                )
            state.status = STOPPING
        # WorkspaceManager.java:707-716: the caller's choice, else the workspace's attribute, else the default.
        if create_snapshot is not None:
            snapshot = create_snapshot
        elif "auto_snapshot" in attributes:
            snapshot = attributes["auto_snapshot"] == "true"
        else:
            snapshot = self.configuration.flag("che.workspace.auto_snapshot")
        try:
            if snapshot:
                self._snapshot(workspace_id, state)
            self.runtime.stop(workspace_id, state.machines)
        finally:
            with self._lock:
                self.states.pop(workspace_id, None)
        LOG.info(
            "Workspace '%s/%s' with id '%s' stopped by user '%s'", namespace, config["name"], workspace_id, subject.name
        )

    def _snapshot(self, workspace_id: str, state: RuntimeState) -> None:
        """WorkspaceRuntimes.snapshot: each machine saved; the newest per machine replaces the one before. A
        failure is logged and the stop goes on (WorkspaceManager.java:718-729)."""
        try:
            for machine in state.machines:
                location = self.runtime.snapshot(workspace_id, machine)
                self.database.rows(
                    "INSERT INTO snapshot (id, workspace_id, env_name, machine_name, is_dev, location, creation_date) "
                    "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (workspace_id, env_name, machine_name) DO UPDATE "
                    "SET id = EXCLUDED.id, location = EXCLUDED.location, creation_date = EXCLUDED.creation_date",
                    (generate("snapshot"), workspace_id, state.env_name, machine.name, machine.dev, as_json(location),
                     now_ms()),
                )  # fmt: skip
        except (DockerError, ApiError) as error:
            LOG.warning("Could not create a snapshot of the workspace with workspace id '%s'. The workspace will be "
                        "stopped: %s", workspace_id, error)  # fmt: skip

    def stop_all(self) -> None:
        """On shutdown every running environment is stopped, without snapshots (WorkspaceRuntimes.shutdown,
        WorkspaceRuntimes.java:589-640, called by WorkspaceManager.java:583)."""
        for workspace_id, state in list(self.states.items()):
            if state.status == RUNNING:
                self.runtime.stop(workspace_id, state.machines)


def audit_report(database: Database) -> tuple[str, str]:
    """C: AuditManager.generateAuditReport (AuditManager.java:80-164) with SystemInfoPrinter and UserInfoPrinter:
    the report and its file name, report_dd-MM-yyyy_hh:mm:ss.txt (AuditManager.java:104-105)."""
    users = database.rows("SELECT id, email, name FROM usr ORDER BY id")
    lines = [f"Number of users: {len(users)}\n"]
    for user_id, email, name in users:
        rows = database.rows(
            "SELECT w.id, w.name, a.name, k.actions FROM workspace w JOIN account a ON a.id = w.account_id "
            "LEFT JOIN worker k ON k.workspace_id = w.id AND k.user_id = %s WHERE k.user_id IS NOT NULL OR a.name = %s",
            (user_id, name),
        )
        own = sum(1 for row in rows if row[2] == name)
        permitted = sum(1 for row in rows if row[3] is not None)
        lines.append(f"{email} is owner of {own} workspace{'' if own == 1 else 's'} and has permissions in "
                     f"{permitted} workspace{'' if permitted == 1 else 's'}\n")  # fmt: skip
        for _, workspace, namespace, actions in sorted(rows, key=lambda r: (r[2] != name, r[1])):
            listed = f"[{', '.join(actions)}]" if actions is not None else "[]"
            lines.append(f"   └ {workspace}, is owner: {str(namespace == name).lower()}, permissions: {listed}\n")
    stamp = datetime.datetime.now().strftime("%d-%m-%Y_%I:%M:%S")  # SimpleDateFormat("dd-MM-yyyy_hh:mm:ss")
    return "".join(lines), f"report_{stamp}.txt"
