"""Progress messages: the engine's stream read line by line into cluster.JSONMessage
(cluster/jsonmessage.go)."""

from __future__ import annotations

import http.client

from ..golang import go_int64, go_json_loads, go_keys
from ..logrus import log

SCANNER_LIMIT = 64 * 1024  # bufio.MaxScanTokenSize


def progress_messages(response, what: str):
    """bufio.Scanner over a progress stream (engine.go:1223-1238, 1580-1595): lines without their \\n and a
    trailing \\r, each read as a cluster.JSONMessage; a malformed line is logged and skipped; a line longer than
    the scanner's 64 KiB buffer ends the stream quietly (Scan stops, its error unchecked)."""
    while True:
        try:
            line = response.readline(SCANNER_LIMIT + 1)
        except (OSError, http.client.HTTPException):  # a read error ends Scan like EOF; nobody checks Err
            return
        if not line or len(line.rstrip(b"\n")) >= SCANNER_LIMIT:
            return
        line = line.removesuffix(b"\n").removesuffix(b"\r")
        try:
            yield decode_json_message(line)
        except ValueError as error:
            text = line.decode("utf-8", "replace")
            log("warn", f"Malformed progress line during {what}: {text} - {error}")


JSON_MESSAGE_FIELDS = {  # cluster/jsonmessage.go:22-36, in the struct's order
    "stream": "string",
    "status": "string",
    "progressDetail": {"current": "int64", "total": "int64", "start": "int64"},
    "progress": "string",
    "id": "string",
    "from": "string",
    "time": "int64",
    "timeNano": "int64",
    "errorDetail": {"code": "int64", "message": "string"},
    "error": "string",
    "aux": "raw",
}


def _decode_field(kind, item: object) -> object:
    if kind == "raw":
        return item
    if isinstance(kind, dict):
        if not isinstance(item, dict):
            raise ValueError(f"json: cannot unmarshal {type(item).__name__} into Go value of a struct")
        return {name: _decode_field(kind[name], value) for name, value in go_keys(item, kind).items()}
    if kind == "string" and not isinstance(item, str):
        raise ValueError(f"json: cannot unmarshal {type(item).__name__} into Go value of type string")
    if kind == "int64" and go_int64(item) is None:
        raise ValueError(f"json: cannot unmarshal number {item} into Go value of type int64")
    return item


def decode_json_message(line: bytes) -> dict:
    """json.Unmarshal of one progress line into cluster.JSONMessage (encoding/json's key matching, see go_keys);
    ValueError when the line is not a JSON object or a known field has the wrong type, and the caller skips the line.
    errorDetail and progressDetail given as objects, even empty ones, count as set."""
    value = go_json_loads(line)
    if not isinstance(value, dict):
        raise ValueError("json: cannot unmarshal into Go value of type cluster.JSONMessage")
    return {
        name: _decode_field(JSON_MESSAGE_FIELDS[name], item)
        for name, item in go_keys(value, JSON_MESSAGE_FIELDS).items()
    }


def json_message(message: dict) -> dict:
    """cluster.JSONMessage as encoding/json writes it: the struct's order, empty strings and zero numbers left out,
    progressDetail and errorDetail (pointers) kept when set, even when empty inside."""
    out = {}
    for name, kind in JSON_MESSAGE_FIELDS.items():
        value = message.get(name)
        if value is None or (kind in ("string", "int64") and not value):
            continue
        out[name] = {k: v for k, v in value.items() if v} if isinstance(kind, dict) else value
    return out
