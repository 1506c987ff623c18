"""Users, their personal accounts, the admin, login tokens and who may do what, as Codenvy 5.22 keeps them.

Sources (eclipse/che 5.22.0 unless marked C: codenvy/codenvy 5.22.0):
- UserService.java (wsmaster/che-core-api-user/...): POST /user 201, GET /user (the caller), /user/{id},
  /user/find?email|name; UserValidator.java:45-89 (name, email, password rules); UserManager.java:86-102
  (reserved names, ids "user" + 16 characters).
- PersonalAccountUserManager.java:38,54-63: every user gets an account of type "personal" with the user's id
  and name.
- C: AdminUserCreator.java:74-122: the admin from codenvy.admin.*, whose id is its name, with every system
  permission.
- C: AuthenticationDaoImpl.java:56-125 (POST /auth/login), OrgServiceAuthenticationHandler.java:31-45 (name or
  email and password), LoginFilter.java:95-121 with NoUserInteractionTokenHandler.java:36-64 (no token: 401,
  an unknown token: 403) and ChainedTokenExtractor (the `token` query parameter, else Authorization).
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from configuration import Configuration
from database import Database
from errors import ApiError, bad_request, conflict, forbidden, not_found

LOG = logging.getLogger("codenvy.users")
# NameGenerator.java: digits and lower-case latin letters; Constants.java:40: ids have 16 of them.
ID_CHARACTERS = "0123456789abcdefghijklmnopqrstuvwxyz"
ID_LENGTH = 16
PERSONAL = "personal"  # UserManager.PERSONAL_ACCOUNT
MANAGE_SYSTEM = "manageSystem"  # SystemDomain.java:35
MANAGE_USERS = "manageUsers"  # UserServicePermissionsFilter.java:36
# SystemDomain.java:41 adds manageSystem to the bound actions; C: AdminApiModule.java:37 binds manageUsers.
SYSTEM_ACTIONS = (MANAGE_SYSTEM, MANAGE_USERS)
# AccountValidator.java:42-43.
VALID_NAME = re.compile(r"^(?:[a-zA-Z0-9]-?)*[a-zA-Z0-9]+")
# SHA512PasswordEncryptor.java: sha512(password + 8 random bytes), hex, followed by the salt in hex.
SALT_BYTES = 8
HASH_HEX_LENGTH = 128


def generate(prefix: str, length: int = ID_LENGTH) -> str:
    """NameGenerator.generate."""
    return prefix + "".join(secrets.choice(ID_CHARACTERS) for _ in range(length))


def encrypt(password: str) -> str:
    salt = secrets.token_bytes(SALT_BYTES)
    return hashlib.sha512(password.encode() + salt).hexdigest() + salt.hex()


def password_matches(password: str, stored: str | None) -> bool:
    if not stored or len(stored) < HASH_HEX_LENGTH + SALT_BYTES * 2:
        return False
    salt = bytes.fromhex(stored[HASH_HEX_LENGTH:])
    return secrets.compare_digest(hashlib.sha512(password.encode() + salt).hexdigest() + salt.hex(), stored)


def check_password(password: str) -> None:
    """UserValidator.checkPassword (UserValidator.java:70-89)."""
    if len(password) < 8:
        raise bad_request("Password should contain at least 8 characters")
    if not any(c.isdigit() for c in password) or not any(c.isalpha() for c in password):
        raise bad_request("Password should contain letters and digits")


def user_json(row: tuple) -> dict:
    """The UserDto's fields (id, email, name, aliases); the password is never sent."""
    return {"id": row[0], "email": row[1], "name": row[2], "aliases": []}


@dataclass(frozen=True)
class Subject:
    """Who calls: their id, name and system permissions."""

    user_id: str
    name: str
    permissions: frozenset[str] = field(default_factory=frozenset)

    def has(self, action: str) -> bool:
        return action in self.permissions

    def check(self, action: str) -> None:
        """AuthorizedSubject.checkPermission (AuthorizedSubject.java:62-70)."""
        if not self.has(action):
            raise forbidden(f"User is not authorized to perform {action} of system")


def request_token(query: str, authorization: str | None) -> str | None:
    """The token of a request (ChainedTokenExtractor: the query first, then the Authorization header, whose
    "Bearer " prefix is dropped (HeaderRequestTokenExtractor.java:19-26); anything else in it is the token)."""
    tokens = parse_qs(query, keep_blank_values=False).get("token")
    if tokens:
        return tokens[0]
    if authorization is None:
        return None
    return authorization.split(" ")[1] if authorization.lower().startswith("bearer") else authorization


class Users:
    """Users and accounts in the database, tokens in this process (as upstream's ticket manager keeps them)."""

    def __init__(self, database: Database, configuration: Configuration) -> None:
        self.database = database
        self.configuration = configuration
        self._tokens: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- login (C: AuthenticationDaoImpl, OrgServiceAuthenticationHandler) --------------------------------------

    def login(self, body: object) -> dict:
        credentials = body if isinstance(body, dict) else {}
        username, password = credentials.get("username"), credentials.get("password")
        if not isinstance(username, str) or not username or not isinstance(password, str) or not password:
            # AuthenticationDaoImpl.java:58-64: a bare 400.
            raise ApiError(400, "")
        rows = self.database.rows("SELECT id, password FROM usr WHERE name = %s OR email = %s", (username, username))
        if not rows or not password_matches(password, rows[0][1]):
            raise ApiError(401, "Authentication failed. Please check username and password.")
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = rows[0][0]
        LOG.info("EVENT#user-sso-logged-in# USING#org# USER#%s#", rows[0][0])
        return {"value": token}

    def logout(self, token: str | None) -> None:
        with self._lock:
            self._tokens.pop(token or "", None)

    def subject(self, token: str | None) -> Subject:
        """The caller behind a token, or the LoginFilter's refusal."""
        if token is None:
            raise ApiError(401, "User not authorized to call this method.")
        with self._lock:
            user_id = self._tokens.get(token)
        rows = self.database.rows("SELECT id, name FROM usr WHERE id = %s", (user_id,)) if user_id else []
        if not rows:
            raise ApiError(403, f"Provided token {token} is invalid")
        permissions = self.database.rows("SELECT actions FROM system_permissions WHERE user_id = %s", (user_id,))
        return Subject(rows[0][0], rows[0][1], frozenset(permissions[0][0] if permissions else ()))

    # -- users (UserService, UserManager, PersonalAccountUserManager) ------------------------------------------

    def create(self, body: object, subject: Subject) -> dict:
        # UserServicePermissionsFilter.java:59-73: without a token only manageUsers may create users.
        subject.check(MANAGE_USERS)
        if not isinstance(body, dict):
            raise bad_request("User required")
        name, email, password = body.get("name"), body.get("email"), body.get("password")
        if not isinstance(name, str) or not name:
            raise bad_request("User name required")
        if not VALID_NAME.fullmatch(name):
            raise bad_request("Username may only contain alphanumeric characters or single hyphens inside")
        if not isinstance(email, str) or not email:
            raise bad_request("User email required")
        if password is not None:
            if not isinstance(password, str):
                raise bad_request("Password required")
            check_password(password)
        return user_json(self.store(generate("user"), name, email, password))

    def store(self, user_id: str, name: str, email: str, password: str | None) -> tuple:
        """UserManager.create (UserManager.java:86-102) with the personal account (PersonalAccountUserManager)."""
        reserved = (self.configuration.text("che.auth.reserved_user_names") or "").split(",")
        if name.lower() in reserved:
            raise conflict(f"Username '{name}' is reserved")
        taken = self.database.rows("SELECT name, email FROM usr WHERE name = %s OR email = %s", (name, email))
        taken += self.database.rows("SELECT name, NULL FROM account WHERE name = %s", (name,))
        if taken:
            # JpaUserDao: a duplicate name or email is a ConflictException.
            what = "email" if any(row[1] == email for row in taken) else "name"
            raise conflict(f"User with such {what} already exists")
        with self.database.transaction() as cursor:
            cursor.execute(
                "INSERT INTO usr (id, email, name, password) VALUES (%s, %s, %s, %s)",
                (user_id, email, name, encrypt(password or secrets.token_urlsafe(12))),
            )
            cursor.execute("INSERT INTO account (id, name, type) VALUES (%s, %s, %s)", (user_id, name, PERSONAL))
        LOG.info("user %s (%s) created with a personal account", name, user_id)
        return (user_id, email, name)

    def get(self, user_id: str) -> dict:
        query = "SELECT id, email, name FROM usr WHERE id = %s"
        return user_json(
            self.database.one(query, (user_id,), lambda: not_found(f"User with id '{user_id}' doesn't exist"))
        )

    def find(self, email: str | None, name: str | None) -> dict:
        """UserService.find (UserService.java:185-199)."""
        if email is None and name is None:
            raise bad_request("Missed user's email or name")
        if email is not None and name is not None:
            raise bad_request("Expected either user's email or name, while both values received")
        column, value = ("email", email) if email is not None else ("name", name)
        query = f"SELECT id, email, name FROM usr WHERE {column} = %s"  # noqa: S608 - a fixed column name
        return user_json(
            self.database.one(query, (value,), lambda: not_found(f"User with {column} '{value}' doesn't exist"))
        )

    def page(self, max_items: int, skip_count: int) -> tuple[list[dict], int]:
        """C: AdminUserService.getAll (AdminUserService.java:65-86): a page of users and their total."""
        total = self.database.rows("SELECT count(*) FROM usr")[0][0]
        rows = self.database.rows(
            "SELECT id, email, name FROM usr ORDER BY id LIMIT %s OFFSET %s", (max_items, skip_count)
        )
        return [user_json(row) for row in rows], total

    def ensure_admin(self) -> None:
        """C: AdminUserCreator.create (AdminUserCreator.java:74-96): the admin, unless a user has its name."""
        name = self.configuration.text("codenvy.admin.name")
        found = self.database.rows("SELECT id FROM usr WHERE name = %s", (name,))
        if found:
            admin_id = found[0][0]
        else:
            # AdminUserCreator.java:88: new UserImpl(name, email, name, password): the id is the name.
            email, password = (
                self.configuration.text("codenvy.admin.email"),
                self.configuration.text("codenvy.admin.initial_password"),
            )
            admin_id = self.store(name, name, email, password)[0]
            LOG.info("Admin user '%s' successfully created", name)
        # AdminUserCreator.java:110-122: every system permission.
        self.database.rows(
            "INSERT INTO system_permissions (user_id, actions) VALUES (%s, %s) "
            "ON CONFLICT (user_id) DO UPDATE SET actions = EXCLUDED.actions",
            (admin_id, list(SYSTEM_ACTIONS)),
        )

    def account_by_name(self, name: str) -> tuple[str, str, str]:
        """JpaAccountDao.getByName (JpaAccountDao.java:95): (id, name, type)."""
        return self.database.one(
            "SELECT id, name, type FROM account WHERE name = %s",
            (name,),
            lambda: not_found(f"Account with name '{name}' was not found"),
        )

    def account_by_id(self, account_id: str) -> tuple[str, str, str]:
        """JpaAccountDao.getById (JpaAccountDao.java:76)."""
        return self.database.one(
            "SELECT id, name, type FROM account WHERE id = %s",
            (account_id,),
            lambda: not_found(f"Account with id '{account_id}' was not found"),
        )
