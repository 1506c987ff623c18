"""The API's shared answers and readings (api/utils.go)."""

from __future__ import annotations

import base64
import json
import re

from ..golang import go_json


def image_ref(repo: str, tag: str) -> str:
    """api/utils.go:355-371: repo:tag, or repo@digest when the tag has a colon."""
    return repo if not tag else f"{repo}@{tag}" if ":" in tag else f"{repo}:{tag}"


def decode_auth(header: str | None) -> dict | None:
    """api/handlers.go:661-667: X-Registry-Auth as base64url JSON; None when it does not decode (an absent header
    decodes, to an empty configuration)."""
    text = header or ""
    if len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(text) or b"{}")
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def error_json_message(code: int, message: str) -> bytes:
    """api/utils.go:28-46: sendErrorJSONMessage, empty fields left out."""
    detail = {key: value for key, value in (("code", code), ("message", message)) if value}
    return go_json({**({"error": message} if message else {}), "errorDetail": detail})


NOT_IN_STAND_IN = "{} {}: swarm serves this route; the placement stand-in does not implement it"


class ApiError(Exception):
    """An answer through http.Error (api/utils.go:23-26): plain text, the status given."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def bool_value(query: dict[str, list[str]], key: str) -> bool:
    """api/utils.go:334-337."""
    value = (query.get(key) or [""])[0].strip().lower()
    return value not in ("", "0", "no", "false", "none")
