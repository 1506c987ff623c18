"""Client of the Codenvy REST API for account limits (seed: "Configure Account Limits") and the audit
report (seed: "Audit service"). Standard library only: the limit and audit Commands run it with the
Python that runs Pulumi.

    python3 components/resource_api.py limits apply USER   store USER's overrides (CODENVY_LIMITS)
    python3 components/resource_api.py limits reset USER   back to the system defaults
    python3 components/resource_api.py audit DIRECTORY     save report_<datetime>.txt there (unless
                                                           the newest there says the same)

USER is a user's ID or e-mail address. Limits belong to the user's personal account, whose ID is the user's
ID (eclipse/che 5.x multiuser/personal-account PersonalAccountUserManager); an address is looked up first
(GET /user/find?email=). The calls are upstream's (che multiuser/api/che-multiuser-api-resource
.../api/free/FreeResourcesLimitService.java): POST /resource/free {accountId, resources} stores a limit,
GET and DELETE /resource/free/{accountId} read and remove it.

The API and credentials come from the environment: CODENVY_API_URL, CODENVY_ADMIN_USER,
CODENVY_ADMIN_PASSWORD, and CODENVY_CA_PEM (the site CA, for an HTTPS site). The client logs in as Codenvy's
own scripts do (codenvy/codenvy dockerfiles/init/modules/codenvy/templates/add-node.sh.erb: POST
/auth/login, then the token). The server may still be starting when `pulumi up` gets here (its container is
created, not healthy): unanswered calls and 502/503/504 are retried for CODENVY_API_WAIT_SECONDS (default
600), then the call fails saying what did not answer.
"""

from __future__ import annotations

import contextlib
import datetime
import http.client
import importlib.util
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any


def _sibling(name: str) -> ModuleType:
    """The module beside this file, loaded from its path: neither the working directory nor sys.path decides
    which module that is (python -P leaves the script's directory off the path; a PYTHONPATH holding another
    `components` package would win an import)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().with_name(f"{name}.py"))
    assert spec is not None and spec.loader is not None, f"{name}.py is missing beside {__file__}"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __package__:  # imported as components.resource_api
    from .json_text import nesting
else:  # run as a script: python3 components/resource_api.py
    nesting = _sibling("json_text").nesting

# The seed's table of resource types and their default units. A copy of components.config.LIMIT_UNITS'
# first units, because this client runs on a bare python3 without pydantic; a test keeps them equal.
DEFAULT_UNITS = {"RAM": "mb", "workspace": "item", "runtime": "item", "timeout": "minute"}
# How long the command-line client waits for a server that is still starting (a first `up` creates the
# server and calls it at once); the server's healthcheck allows it minutes to come up. A bound, not a delay: a
# second more or less changes nothing a server that starts in minutes shows, so its mutants are equivalent.
DEFAULT_WAIT_SECONDS = 600.0  # pragma: no mutate
# What a starting server (or HAProxy in front of one) answers: a gateway without a backend yet.
RETRIED_STATUSES = frozenset({502, 503, 504})
FIRST_RETRY_DELAY = 0.5
# How often a wait for the API says it is still waiting.
PROGRESS_EVERY_S = 10
MAX_RETRY_DELAY = 10.0
# One attempt (connect, headers and body) ends within this, however slowly the server answers: a timeout on
# each read alone lets an answer of one byte a second run on for as long as the answer is.
ATTEMPT_SECONDS = 30.0
# The largest answer read: a limit or a user is a few hundred bytes, the audit report of a large site megabytes.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# The API's documents are a few levels deep; deeper text is refused before the decoder recurses into it.
MAX_JSON_NESTING = 32
# What a terminal acts on rather than shows (escape sequences, other control characters but tab and newline):
# nothing from the server reaches the terminal or Pulumi's log through what this client prints.
_TERMINAL_CONTROL = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-_]?|[\x00-\x08\x0b-\x1f\x7f-\x9f]"
)


class ApiError(Exception):
    """The API refused or failed a call; the message says which call and what to check."""


class _NotReadyError(Exception):
    """The server did not answer the call, or answered as a gateway without a backend: worth retrying."""


# The stack-file keys the errors point at. This client runs alone (standard library only), so they are
# spelled here; tests/unit/test_resource_api_contract.py keeps them equal to the config's own keys.
API_URL_KEY = "codenvy-infra:limits.apiUrl"
ADMIN_USER_KEY = "codenvy-infra:limits.adminUser"
ADMIN_PASSWORD_KEY = "codenvy-infra:adminPassword"  # noqa: S105 - a key name, not a password


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is never followed: urllib would resend the admin credentials to wherever it points (another
    origin too) and turn a POST into a GET there, which answers 200 without storing anything."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        raise ApiError(
            f"{req.get_method()} {req.selector}: the API answered HTTP {code}, a redirect to {newurl}; it is not "
            f"followed with the admin credentials. Set {API_URL_KEY} to the API's real address"
        )


def limits_body(account_id: str, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The body of POST /resource/free (FreeResourcesLimitDto): unit only where one was given."""
    return {
        "accountId": account_id,
        "resources": [
            {"type": r["type"], "amount": r["amount"], **({"unit": r["unit"]} if r.get("unit") else {})}
            for r in resources
        ],
    }


def printable(text: str) -> str:
    """`text` without terminal escapes or control characters (tab and newline kept)."""
    return _TERMINAL_CONTROL.sub("", text)


def _decoded(payload: bytes) -> Any:
    """An answer's JSON; ValueError for text that is not JSON or nested deeper than any answer of the API."""
    text = payload.decode()
    if nesting(text) > MAX_JSON_NESTING:
        raise ValueError(f"nested more than {MAX_JSON_NESTING} levels deep")
    return json.loads(text)


class _Connections:
    """The sockets one attempt opens, so that its deadline can cut them wherever the answer has got to (urllib
    lets go of the connection once the headers are in; the socket lives on under the response)."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []
        self.cut = False

    def recording(self, connection_class: type[http.client.HTTPConnection]) -> type[http.client.HTTPConnection]:
        sockets = self.sockets

        class Recorded(connection_class):
            def connect(self) -> None:
                super().connect()
                sockets.append(self.sock)

        return Recorded

    def cut_all(self) -> None:
        self.cut = True
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Recorded(urllib.request.AbstractHTTPHandler):
    """A urllib handler whose connections are recorded in `connections` (urllib keeps them to itself)."""

    connections: _Connections

    def do_open(self, http_class, req, **options):
        return super().do_open(self.connections.recording(http_class), req, **options)


class _HTTPHandler(_Recorded, urllib.request.HTTPHandler):
    pass


class _HTTPSHandler(_Recorded, urllib.request.HTTPSHandler):
    pass


def _bounded_read(response, method: str, path: str) -> bytes:
    """The answer's body, refused beyond MAX_ANSWER_BYTES; one shorter than its Content-Length was cut short."""
    declared = response.headers.get("Content-Length", "")
    length = int(declared) if declared.isdigit() else None
    too_large = length is not None and length > MAX_ANSWER_BYTES
    payload = b"" if too_large else response.read(MAX_ANSWER_BYTES + 1)
    if too_large or len(payload) > MAX_ANSWER_BYTES:
        raise ApiError(
            f"{method} {path}: the answer is larger than {MAX_ANSWER_BYTES} bytes, more than the API ever sends; "
            f"check that {API_URL_KEY} is Codenvy's REST API"
        )
    if length is not None and len(payload) < length:
        # read(amount) returns what came before the connection closed, where read() would raise this.
        raise http.client.IncompleteRead(payload, length - len(payload))
    return payload


def _normalised(resources: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    """Comparable limits; a type the server knows and the seed's table does not keeps the unit it names."""
    try:
        return sorted(
            (r["type"], int(r["amount"]), r.get("unit") or DEFAULT_UNITS.get(r["type"], "")) for r in resources
        )
    except (TypeError, ValueError) as error:
        raise ApiError(f"the API answered limits that are not type/amount/unit entries: {error}") from None


def _reason(error: Exception) -> str:
    if isinstance(error, urllib.error.URLError):
        return str(error.reason)
    if isinstance(error, http.client.HTTPException):
        return f"{type(error).__name__}: {error}"
    return str(error) or type(error).__name__


@dataclass
class ResourceApi:
    base_url: str
    admin_user: str
    admin_password: str
    ca_pem: str | None = None
    # Seconds to keep retrying a call the server does not answer yet; 0 fails at the first try.
    wait_seconds: float = 0.0
    _token: str | None = field(default=None, repr=False)

    def _request(self, method: str, path: str, body: dict | None = None) -> tuple[int, bytes, dict[str, str]]:
        """One API call as the admin, logging in first (once)."""
        if self._token is None:
            self._token = self._login()
        return self._retried(method, path, body, {"Authorization": self._token})

    def _login(self) -> str:
        """POST /auth/login with the admin's name and password; the answer's `value` is the token."""
        credentials = {"username": self.admin_user, "password": self.admin_password}
        _, payload, _ = self._retried("POST", "/auth/login", credentials, {})
        try:
            token = _decoded(payload)["value"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(
                f"POST /auth/login: the answer is not JSON with a token ({payload[:80]!r}); check that "
                f"{API_URL_KEY} is Codenvy's REST API"
            ) from None
        if not isinstance(token, str) or not token:
            raise ApiError(f"POST /auth/login: the answer's token is empty; check {API_URL_KEY}")
        return token

    def _retried(
        self, method: str, path: str, body: dict | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        """One API call, retried with growing pauses while the server is unreachable or answers 502/503/504,
        for `wait_seconds` in all; then an ApiError naming the call, the URL and the last answer."""
        started = time.monotonic()
        deadline = started + self.wait_seconds
        delay = FIRST_RETRY_DELAY
        next_report = started + PROGRESS_EVERY_S
        while True:
            try:
                return self._request_once(method, path, body, headers)
            except _NotReadyError as not_ready:
                now = time.monotonic()
                if now >= next_report:
                    # On stderr, which `up` shows as it comes: a server still starting is not a silent hang.
                    print(
                        f"waiting for the API at {self.base_url} to answer {method} {path}: {now - started:.0f} s "
                        f"of {self.wait_seconds:g} s ({not_ready})",
                        file=sys.stderr,
                        flush=True,
                    )
                    next_report = now + PROGRESS_EVERY_S
                remaining = deadline - now
                if remaining <= 0:
                    waited = f" within {self.wait_seconds:g} s" if self.wait_seconds else ""
                    raise ApiError(
                        f"{method} {path}: cannot reach {self.base_url}{waited} ({not_ready}); check that the "
                        f"server container runs and {API_URL_KEY}"
                    ) from None
                time.sleep(min(delay, remaining))
                delay = min(delay * 1.5, MAX_RETRY_DELAY)

    def _request_once(
        self, method: str, path: str, body: dict | None, headers: dict[str, str]
    ) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(  # noqa: S310 - the URL is the site's own API from config
            self.base_url.rstrip("/") + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={**headers, "Content-Type": "application/json", "Accept": "*/*"},
        )
        context = ssl.create_default_context(cadata=self.ca_pem) if self.ca_pem else None
        connections = _Connections()
        handlers = [_HTTPHandler(), _HTTPSHandler(context=context)]
        for handler in handlers:
            handler.connections = connections
        opener = urllib.request.build_opener(*handlers, _RefuseRedirects())
        # The timeout bounds each connect and each read; the timer the whole attempt, cutting its connection.
        deadline = threading.Timer(ATTEMPT_SECONDS, connections.cut_all)
        deadline.daemon = True
        deadline.start()
        try:
            return self._answer(opener, request, connections)
        finally:
            deadline.cancel()

    def _answer(
        self, opener: urllib.request.OpenerDirector, request: urllib.request.Request, connections: _Connections
    ) -> tuple[int, bytes, dict[str, str]]:
        """The answer to `request`: only the API's own 2xx is success (a redirect is refused, errors raise), and
        a connection cut at the attempt's deadline is a call not answered, however far the answer had got."""
        method, path = request.get_method(), request.selector
        try:
            with opener.open(request, timeout=ATTEMPT_SECONDS) as response:
                answer = response.status, _bounded_read(response, method, path), dict(response.headers)
            if connections.cut:
                raise _NotReadyError(f"no whole answer within {ATTEMPT_SECONDS:g} s")
            return answer
        except urllib.error.HTTPError as error:
            if error.code in RETRIED_STATUSES:
                raise _NotReadyError(f"last answer: HTTP {error.code}") from None
            if error.code in (401, 403):
                raise ApiError(
                    f"{method} {path}: the API refused the admin credentials (HTTP {error.code}); "
                    f"check {ADMIN_USER_KEY} and {ADMIN_PASSWORD_KEY}"
                ) from None
            if error.code == 404 and method == "GET":
                return 404, b"", {}
            detail = error.read(200).decode(errors="replace")
            raise ApiError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
            # A connection reset or closed while the server starts, a timeout, an answer cut short or garbled.
            if connections.cut:
                raise _NotReadyError(f"no whole answer within {ATTEMPT_SECONDS:g} s") from None
            raise _NotReadyError(_reason(error)) from None

    def account_of(self, user: str) -> str | None:
        """The personal account of a user given by ID or e-mail address (the user's own ID); None when no user
        has that address."""
        if "@" not in user:
            return user
        path = f"/user/find?{urllib.parse.urlencode({'email': user})}"
        status, payload, _ = self._request("GET", path)
        if status == 404:
            return None
        try:
            user_id = _decoded(payload)["id"]
        except (ValueError, KeyError, TypeError):
            raise ApiError(f"GET {path}: the answer is not a user: {payload[:120]!r}") from None
        return str(user_id)

    def current_limits(self, account_id: str) -> list[dict[str, Any]]:
        """The account's overrides; none (the defaults) when the server answers 404."""
        path = f"/resource/free/{urllib.parse.quote(account_id, safe='')}"
        status, payload, _ = self._request("GET", path)
        if status == 404 or not payload:
            return []
        try:
            document = _decoded(payload)
        except ValueError:
            # Enough of the answer to tell a web page from the API; a byte more or less is the same message.
            excerpt = payload[:80]  # pragma: no mutate
            raise ApiError(
                f"GET {path}: the answer is not JSON ({excerpt!r}); check that {API_URL_KEY} is the REST API, "
                "not a web page"
            ) from None
        resources = document.get("resources") if isinstance(document, dict) else None
        if not isinstance(resources, list) or not all(
            isinstance(r, dict) and isinstance(r.get("type"), str) and isinstance(r.get("amount"), int | str)
            for r in resources
        ):
            raise ApiError(f"GET {path}: the answer is not a limit with a list of resources: {payload[:120]!r}")
        return resources

    def apply_limits(self, user: str, resources: list[dict[str, Any]]) -> str:
        """Store the overrides unless the server already has exactly them."""
        account = self.account_of(user)
        if account is None:
            raise ApiError(f"no user has the e-mail address {user}; create the user, then run `pulumi up` again")
        if _normalised(self.current_limits(account)) == _normalised(resources):
            return f"limits of {user}: unchanged"
        self._request("POST", "/resource/free", limits_body(account, resources))
        # Success is the server holding the limits, not a 2xx from whatever answered the POST.
        stored = _normalised(self.current_limits(account))
        if stored != _normalised(resources):
            held = stored or "none"
            raise ApiError(f"POST /resource/free: the API accepted the limits of {user} but holds {held}")
        summary = ", ".join(f"{t}={a} {u}" for t, a, u in _normalised(resources))
        return f"limits of {user}: set {summary}"

    def reset_limits(self, user: str) -> str:
        account = self.account_of(user)
        if account is None:
            return f"limits of {user}: no such user any more; nothing to reset"
        if not self.current_limits(account):
            return f"limits of {user}: already the defaults"
        self._request("DELETE", f"/resource/free/{urllib.parse.quote(account, safe='')}")
        return f"limits of {user}: reset to the defaults"

    def save_audit_report(self, directory: Path) -> str:
        """Saves the report under the name the server gives it. One equal to the newest report saved already
        is not saved again: asking twice of a site that did not change leaves one file."""
        _, payload, headers = self._request("GET", "/audit")
        saved = sorted(directory.glob("report_*.txt"), key=lambda path: path.stat().st_mtime_ns)
        if saved and saved[-1].read_bytes() == payload:
            return f"audit report unchanged since {saved[-1]}"
        # The server's name for the file, if it is a plain one: no path, space or control character.
        match = re.search(r'filename="?(report_[A-Za-z0-9_.-]+\.txt)"?', headers.get("Content-Disposition", ""))
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        target = directory / (match.group(1) if match else f"report_{stamp}.txt")
        directory.mkdir(parents=True, exist_ok=True)
        target.write_bytes(payload)
        return f"audit report saved: {target}"


def api_from_environment() -> ResourceApi:
    missing = [key for key in ("CODENVY_API_URL", "CODENVY_ADMIN_PASSWORD") if not os.environ.get(key)]
    if missing:
        raise ApiError(f"missing environment: {', '.join(missing)}")
    return ResourceApi(
        base_url=os.environ["CODENVY_API_URL"],
        admin_user=os.environ.get("CODENVY_ADMIN_USER", "admin"),
        admin_password=os.environ["CODENVY_ADMIN_PASSWORD"],
        ca_pem=os.environ.get("CODENVY_CA_PEM") or None,
        wait_seconds=float(os.environ.get("CODENVY_API_WAIT_SECONDS") or DEFAULT_WAIT_SECONDS),
    )


def main(argv: list[str]) -> int:
    try:
        api = api_from_environment()
        if argv[:2] == ["limits", "apply"] and len(argv) == 3:
            said = api.apply_limits(argv[2], json.loads(os.environ.get("CODENVY_LIMITS", "[]")))
        elif argv[:2] == ["limits", "reset"] and len(argv) == 3:
            said = api.reset_limits(argv[2])
        elif argv[:1] == ["audit"] and len(argv) == 2:
            said = api.save_audit_report(Path(argv[1]))
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except ApiError as error:
        print(printable(f"resource_api: {error}"), file=sys.stderr)
        return 1
    print(printable(said))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
