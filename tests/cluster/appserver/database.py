"""The site's PostgreSQL as the stand-in server uses it: the datasource server.xml names, the tables, and whether
the database takes writes (a hot standby's replica does not until it is promoted).

The tables follow the names of eclipse/che 5.22.0 wsmaster/che-core-sql-schema/.../che-schema/5.0.0-M8/1__init.sql
(usr, account, workspace, snapshot) and multiuser/.../che-schema/5.19.0/0.2__add_resources.sql
(che_free_resources_limit, whose account_id references account: a limit for an unknown account fails in the
database, JpaFreeResourcesLimitDao.java:51-55). Configurations and resource lists are kept as JSON columns, which
upstream spreads over further tables.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.errors
import psycopg2.extras
from configuration import DataSource
from errors import ApiError

SCHEMA = """
CREATE TABLE IF NOT EXISTS usr (
    id varchar(255) PRIMARY KEY, email varchar(255) NOT NULL UNIQUE, name varchar(255) NOT NULL UNIQUE,
    password varchar(255));
CREATE TABLE IF NOT EXISTS account (
    id varchar(255) PRIMARY KEY, name varchar(255) NOT NULL UNIQUE, type varchar(255) NOT NULL);
CREATE TABLE IF NOT EXISTS system_permissions (
    user_id varchar(255) PRIMARY KEY REFERENCES usr ON DELETE CASCADE, actions text[] NOT NULL);
CREATE TABLE IF NOT EXISTS che_free_resources_limit (
    account_id varchar(255) PRIMARY KEY REFERENCES account, resources jsonb NOT NULL);
CREATE TABLE IF NOT EXISTS workspace (
    id varchar(255) PRIMARY KEY, account_id varchar(255) NOT NULL REFERENCES account, name varchar(255) NOT NULL,
    config jsonb NOT NULL, attributes jsonb NOT NULL, UNIQUE (name, account_id));
CREATE TABLE IF NOT EXISTS worker (
    user_id varchar(255) NOT NULL REFERENCES usr ON DELETE CASCADE,
    workspace_id varchar(255) NOT NULL REFERENCES workspace ON DELETE CASCADE,
    actions text[] NOT NULL, PRIMARY KEY (user_id, workspace_id));
CREATE TABLE IF NOT EXISTS snapshot (
    id varchar(255) PRIMARY KEY, workspace_id varchar(255) NOT NULL REFERENCES workspace ON DELETE CASCADE,
    env_name varchar(255) NOT NULL, machine_name varchar(255) NOT NULL, is_dev boolean NOT NULL,
    location jsonb NOT NULL, creation_date bigint NOT NULL, UNIQUE (workspace_id, env_name, machine_name));
"""
ACTIVE, STANDBY = "active", "standby"
IDLE_STANDBY = "this site is an idle standby: its database is a read-only replica, writes wait for its promotion"
LOG = logging.getLogger("codenvy.database")


def standby_refusal() -> ApiError:
    return ApiError(503, IDLE_STANDBY, mode=STANDBY)


class Database:
    """One connection per call (or per transaction): a restarted, restored or promoted database is simply used."""

    def __init__(self, source: DataSource) -> None:
        self.source = source

    def _connect(self):
        try:
            return psycopg2.connect(
                host=self.source.host,
                port=self.source.port,
                dbname=self.source.database,
                user=self.source.user,
                password=self.source.password,
                connect_timeout=5,
            )
        except psycopg2.OperationalError as error:
            raise ApiError(503, f"database unavailable: {error}".strip()) from None

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """A cursor whose statements commit together, or not at all."""
        connection = self._connect()
        try:
            with connection, connection.cursor() as cursor:
                yield cursor
        except psycopg2.errors.ReadOnlySqlTransaction:
            raise standby_refusal() from None
        except psycopg2.errors.UndefinedTable:
            # A replica of a primary whose server never ran has no tables yet.
            raise ApiError(503, "the database has no tables yet") from None
        except psycopg2.errors.ForeignKeyViolation as error:
            # Upstream's DAOs wrap what the database refuses as ServerException: 500.
            raise ApiError(500, (error.pgerror or "a referenced row does not exist").strip()) from None
        finally:
            connection.close()

    def rows(self, statement: str, params: tuple = ()) -> list[tuple]:
        with self.transaction() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    def one(self, statement: str, params: tuple, missing: Callable[[], ApiError]) -> tuple:
        found = self.rows(statement, params)
        if not found:
            raise missing()
        return found[0]


def as_json(value: Any) -> psycopg2.extras.Json:
    return psycopg2.extras.Json(value)


class DatabaseRole:
    """Whether the database takes writes, asked of PostgreSQL each time: a replica can be promoted, and a former
    primary re-seeded as a replica, while this server keeps running."""

    def __init__(self, database: Database, on_active: Callable[[], None]) -> None:
        self._database = database
        self._on_active = on_active
        self._lock = threading.Lock()
        self._last: str | None = None

    def current(self) -> str:
        """ACTIVE or STANDBY; on a change, log it, and on becoming active create what is missing."""
        mode = STANDBY if self._database.rows("SELECT pg_is_in_recovery()")[0][0] else ACTIVE
        with self._lock:
            if mode != self._last:
                if mode == ACTIVE:
                    self._database.rows(SCHEMA)
                    self._on_active()
                    LOG.info("database writable: active, tables ready")
                else:
                    LOG.info("database is a read-only replica: idle standby, serving reads and refusing writes")
                self._last = mode
        return mode

    def require_active(self) -> None:
        if self.current() == STANDBY:
            raise standby_refusal()
