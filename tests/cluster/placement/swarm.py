#!/usr/bin/env python3
"""Stand-in for the placement manager, standalone Docker Swarm 1.2.8 (`swarm manage`), in the cluster lane.

Upstream Codenvy runs docker/swarm v1.2.8 as codenvy/swarm:<version> (ENTRYPOINT ["/swarm"]); the Codenvy server
uses it as its Docker API endpoint. This script follows swarm's source at tag v1.2.8; each rule cites the file and
lines it mirrors (docker/swarm, read with `git show v1.2.8:<path>`; vendored packages under vendor/). Python 3.11
standard library only.

What it does: `swarm manage [flags] <discovery>` with swarm's flags and refusals; file:// discovery only (other
backends are refused with a message); engines validated, refreshed and health-counted as swarm does; the
scheduler's filters and strategies; the API routes the site uses (containers, exec, images, builds, networks,
info); builds scheduled as containers are and run on the chosen engine. Routes swarm serves that the site never
calls (events, load, volumes, network create/remove, image import) answer 501 naming the stand-in. No rescheduling
watchdog (cluster/watchdog.go): it only acts on containers that opt in with a reschedule policy. Logs go to stdout
in logrus' text format; SIGTERM exits 0.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import functools
import http.client
import http.server
import ipaddress
import itertools
import json
import os
import random
import re
import secrets
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time
import typing
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

VERSION = "1.2.8"  # version/version.go:5
GITCOMMIT = "48d86b1"  # Dockerfile:13 stamps `git rev-parse --short HEAD`; tag v1.2.8 is 48d86b12
GO_VERSION = "go1.7.1"  # Dockerfile:1 builds on golang:1.7.1-alpine
API_VERSION = "1.22"  # api/handlers.go:34
DEFAULT_CLIENT_VERSION = "1.31"  # vendor/github.com/docker/docker/api/common.go:24, until the engine's version is known
START_WITH_BODY_VERSION = "1.15"  # vendor/github.com/samalba/dockerclient/dockerclient.go: APIVersion
API_DIAL_TIMEOUT = 30.0  # the engine API client rides dockerclient's HTTP client (cluster/engine.go:198-204), 30 s
MAX_POST_HANDLER_READ_BYTES = 256 << 10  # net/http server.go maxPostHandlerReadBytes
PROXY_DIAL_TIMEOUT = 10.0  # cluster/engine.go:39-40,190: requestTimeout, a dial timeout only
VALIDATION_INTERVAL = 10.0  # cluster/swarm/cluster.go:443
SPEC_UPDATE_INTERVAL = 300.0  # cluster/engine.go:913
SWARM_LABEL = "com.docker.swarm"  # cluster/config.go:14
FILTERS = ("health", "port", "containerslots", "dependency", "affinity", "constraint", "whitelist")  # filter.go:30-38
STRATEGIES = ("spread", "binpack", "random")  # scheduler/strategy/strategy.go:38-42
PENDING, UNHEALTHY, HEALTHY, DISCONNECTED = "Pending", "Unhealthy", "Healthy", "Disconnected"  # engine.go:51-73
GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


# ------------------------------------------------------------------------------------------------ logging
# cli/cli.go:46-58: logrus to stdout, level from --log-level (debug with --debug when no level was given).
LOG_LEVELS = {"panic": 0, "fatal": 1, "error": 2, "warn": 3, "warning": 3, "info": 4, "debug": 5}
_log = {"level": 4, "lock": threading.Lock()}
_PLAIN = re.compile(r"[A-Za-z0-9\-._/@^+]+")


def _logfmt(value: object) -> str:
    text = str(value)
    return text if _PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def log(level: str, message: str, **fields: object) -> None:
    """One line in logrus' text format: time, level, msg, then the fields sorted by name."""
    if LOG_LEVELS[level] > _log["level"]:
        return
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    words = [f'time="{stamp}"', f"level={'warning' if level == 'warn' else level}", f"msg={_logfmt(message)}"]
    words += [f"{key}={_logfmt(fields[key])}" for key in sorted(fields)]
    with _log["lock"]:
        print(" ".join(words), flush=True)


class FatalError(Exception):
    """log.Fatal: the message is logged at level fatal and swarm exits 1."""


class GoPanicError(Exception):
    """Where swarm's Go code would panic (an index out of range): the process, or the request, dies."""


# ------------------------------------------------------------------------------------------------ Go semantics
def go_quote(text: str) -> str:
    """fmt's %q, near enough for flag values."""
    return json.dumps(text, ensure_ascii=False)


GO_HTML_ESCAPES = str.maketrans(
    {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026"} | {"\u2028": "\\u2028", "\u2029": "\\u2029"}
)


def go_marshal(document: object) -> str:
    """encoding/json's Marshal (Go 1.7): compact, map keys sorted by the caller's dicts, <, >, & and the line and
    paragraph separators escaped (encode.go:HTMLEscape), every other character as UTF-8."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).translate(GO_HTML_ESCAPES)


def go_json(document: object) -> bytes:
    """encoding/json's Encoder: go_marshal and a newline."""
    return go_marshal(document).encode() + b"\n"


def _go_text(value: object) -> object:
    """A decoded JSON value with lone surrogates (from \\ud800 escapes) as U+FFFD, as encoding/json decodes them."""
    if isinstance(value, str) and re.search("[\ud800-\udfff]", value):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_go_text(item) for item in value]
    if isinstance(value, dict):
        return {_go_text(key): _go_text(item) for key, item in value.items()}
    return value


def _no_constant(name: str) -> object:
    raise ValueError(f"invalid character '{name.lstrip('-')[0]}' looking for beginning of value")


def go_json_loads(data: bytes | str) -> object:
    """encoding/json's Unmarshal syntax: invalid UTF-8 read as U+FFFD, no NaN or Infinity; ValueError when the text
    is not JSON (json.Unmarshal then leaves its target untouched: decode.go checkValid)."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    return _go_text(json.loads(text, parse_constant=_no_constant))


def go_trim_space(text: str) -> str:
    return text.strip(GO_SPACE)


def go_atoi(text: str) -> int:
    """strconv.Atoi: optional sign, ASCII digits, nothing else."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"strconv.Atoi: parsing {go_quote(text)}: invalid syntax")
    return int(text)


def go_parse_int0(text: str) -> int:
    """strconv.ParseInt(s, 0, 64), as Go's flag package and cluster/options.go:30 read integers."""
    match = re.fullmatch(r"([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)", text)
    if not match:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    digits = match[2]
    value = int(digits, 16) if digits[:2] in ("0x", "0X") else int(digits, 8) if digits.startswith("0") else int(digits)
    value = -value if match[1] == "-" else value
    if not -(2**63) <= value < 2**63:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return value


def go_parse_bool(text: str) -> bool:
    """strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"strconv.ParseBool: parsing {go_quote(text)}: invalid syntax")


def go_parse_float(text: str) -> float:
    """strconv.ParseFloat; cluster/options.go:47 ignores its error, so a bad value reads as 0."""
    if re.fullmatch(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?i:inf|infinity|nan)", text):
        return float(text)
    raise ValueError(f"strconv.ParseFloat: parsing {go_quote(text)}: invalid syntax")


DURATION_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_parse_duration(text: str) -> float:
    """time.ParseDuration (Go 1.7), in seconds."""
    rest, sign = text, 1.0
    if rest[:1] in ("-", "+"):
        sign, rest = (-1.0 if rest[0] == "-" else 1.0), rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise ValueError(f"time: invalid duration {text}")
    total = 0.0
    while rest:
        match = re.match(r"([0-9]*)(\.[0-9]*)?", rest)
        number = match[0]
        if number in ("", ".") or not (match[1] or (match[2] or "")[1:]):
            raise ValueError(f"time: invalid duration {text}")
        rest = rest[len(number) :]
        unit = re.match(r"[^0-9.]*", rest)[0]
        if not unit:
            raise ValueError(f"time: missing unit in duration {text}")
        if unit not in DURATION_UNITS:
            raise ValueError(f"time: unknown unit {unit} in duration {text}")
        total += float(number) * DURATION_UNITS[unit]
        rest = rest[len(unit) :]
    return sign * total


def go_div(a: int, b: int) -> int:
    """Go's int64 division, truncating toward zero."""
    quotient = abs(a) // abs(b)
    return quotient if (a >= 0) == (b > 0) else -quotient


def go_parse_int64(text: str) -> int:
    """strconv.ParseInt(s, 10, 64)."""
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: invalid syntax")
    if not -(2**63) <= int(text) < 2**63:
        raise ValueError(f"strconv.ParseInt: parsing {go_quote(text)}: value out of range")
    return int(text)


def go_query_unescape(text: str) -> str:
    """net/url QueryUnescape (Go 1.7 url.go unescape): + is a space; a % needs two hex digits."""
    out, index = bytearray(), 0
    raw = text.encode("utf-8", "surrogateescape")
    while index < len(raw):
        char = raw[index : index + 1]
        if char == b"%":
            pair = raw[index + 1 : index + 3]
            if len(pair) < 2 or not re.fullmatch(rb"[0-9A-Fa-f]{2}", pair):
                bad = raw[index : index + 3].decode("utf-8", "replace")
                raise ValueError(f"invalid URL escape {go_quote(bad)}")
            out += bytes([int(pair, 16)])
            index += 3
            continue
        out += b" " if char == b"+" else char
        index += 1
    return out.decode("utf-8", "replace")


def go_parse_query(query: str) -> tuple[dict[str, list[str]], str]:
    """net/url parseQuery (Go 1.7): pairs split at & and ;, each unescaped; a pair that does not unescape is left
    out and the first such error is returned with everything else."""
    values: dict[str, list[str]] = {}
    error = ""
    for pair in re.split("[&;]", query) if query else []:
        if not pair:
            continue
        key, _, value = pair.partition("=")
        try:
            key, value = go_query_unescape(key), go_query_unescape(value)
        except ValueError as failure:
            error = error or str(failure)
            continue
        values.setdefault(key, []).append(value)
    return values, error


GO_TSPECIALS = set('()<>@,;:\\"/[]?=')
MIME_WORD = r"[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+"  # mime/grammar.go isTokenChar


def _mime_token(text: str) -> tuple[str, str]:
    """mime/grammar.go consumeToken."""
    end = 0
    while end < len(text) and 0x20 < ord(text[end]) < 0x7F and text[end] not in GO_TSPECIALS:
        end += 1
    return text[:end], text[end:]


def go_media_type(value: str) -> tuple[str, str]:
    """mime.ParseMediaType (Go 1.7 mediatype.go), the media type only: (type, "") or ("", the error). Parameters are
    token=token or token="quoted"; a trailing semicolon is allowed."""
    head, semicolon, params = value.partition(";")
    media = go_trim_space(head.lower())
    kind, rest = _mime_token(media)
    if not kind:
        return "", "mime: no media type"
    if rest:
        if not rest.startswith("/"):
            return "", "mime: expected slash after first token"
        subtype, rest = _mime_token(rest[1:])
        if not subtype:
            return "", "mime: expected token after slash"
        if rest:
            return "", "mime: unexpected content after media subtype"
    rest, seen = semicolon + params, set()
    while rest.strip():
        match = re.match(rf'\s*;\s*({MIME_WORD})\s*=\s*("(?:[^"\\\r\n]|\\.)*"|{MIME_WORD})', rest)
        if match is None:
            if rest.strip() == ";":
                break
            return "", "mime: invalid media parameter"
        if match[1].lower() in seen:
            return "", "mime: duplicate parameter name"
        seen.add(match[1].lower())
        rest = rest[match.end() :]
    return media, ""


def split_host_port(hostport: str) -> tuple[str, str]:
    """net.SplitHostPort (Go 1.7), as the discovery entries are read (vendor/.../pkg/discovery/entry.go:6-12)."""

    def fail(why: str):
        raise ValueError(f"address {hostport}: {why}")

    last = hostport.rfind(":")
    if last < 0:
        fail("missing port in address")
    low, high = 0, 0
    if hostport.startswith("["):
        end = hostport.find("]")
        if end < 0:
            fail("missing ']' in address")
        if end + 1 == len(hostport):
            fail("missing port in address")
        if end + 1 != last:
            fail("too many colons in address" if hostport[end + 1] == ":" else "missing port in address")
        host, low, high = hostport[1:end], 1, end + 1
    else:
        host = hostport[:last]
        if ":" in host:
            fail("too many colons in address")
        if "%" in host:
            fail("missing brackets in address")
    if "[" in hostport[low:]:
        fail("unexpected '[' in address")
    if "]" in hostport[high:]:
        fail("unexpected ']' in address")
    return host, hostport[last + 1 :]


def join_host_port(host: str, port: str) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def versions_compare(left: str, right: str) -> int:
    """vendor/github.com/docker/docker/api/types/versions/compare.go: dot parts as integers, a bad part is 0."""
    mine, theirs = left.split("."), right.split(".")

    def part(parts: list[str], index: int) -> int:
        try:
            return go_atoi(parts[index]) if index < len(parts) else 0
        except ValueError:
            return 0

    for index in range(max(len(mine), len(theirs))):
        a, b = part(mine, index), part(theirs, index)
        if a != b:
            return 1 if a > b else -1
    return 0


def version_less(left: str, right: str) -> bool:
    return versions_compare(left, right) < 0


def bytes_size(size: float) -> str:
    """go-units BytesSize: "%.4g %s" in powers of 1024 (vendor/github.com/docker/go-units/size.go:38-59)."""
    units, index = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"), 0
    while size >= 1024.0 and index < len(units) - 1:
        size, index = size / 1024.0, index + 1
    return f"{size:.4g} {units[index]}"


def human_duration(seconds: float) -> str:
    """go-units HumanDuration (vendor/github.com/docker/go-units/duration.go)."""
    whole, minutes, hours = int(seconds), int(seconds / 60), int(seconds / 3600)
    if whole < 1:
        return "Less than a second"
    if whole < 60:
        return f"{whole} seconds"
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 3:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{hours // 24 // 365} years"


def natural_less(left: str, right: str) -> bool:
    """vendor/github.com/skarademir/naturalsort/naturalsort.go:18-57, the order of engines in info."""
    split = re.compile(r"[^0-9]+|[0-9]+")
    parts_l, parts_r = split.findall(left.replace(" ", "")), split.findall(right.replace(" ", ""))
    for a, b in zip(parts_l, parts_r, strict=False):
        if a == b:
            continue
        if a[0].isdigit() and b[0].isdigit():
            short_a, short_b = a.lstrip("0"), b.lstrip("0")
            if len(short_a) == len(short_b):
                for char_a, char_b in zip(short_a, short_b, strict=True):
                    if char_a != char_b:
                        return char_a < char_b
                return len(a) < len(b)
            return len(short_a) < len(short_b)
        if a[0].isdigit() or b[0].isdigit():
            return a[0].isdigit()
        return a < b
    for char_a, char_b in zip(left, right, strict=False):
        if char_a.isdigit() or char_b.isdigit():
            return char_a.isdigit()
    return left < right


def truncate_id(identifier: str) -> str:
    """vendor/github.com/docker/docker/pkg/stringid/stringid.go: TruncateID."""
    if ":" in identifier:
        identifier = identifier[identifier.index(":") + 1 :]
    return identifier[:12]


def random_id() -> str:
    """stringid.GenerateRandomID: 64 hex characters whose short form is not all digits."""
    while True:
        identifier = secrets.token_hex(32)
        if not truncate_id(identifier).isdigit():
            return identifier


def go_time(stamp: str | None) -> datetime.datetime | None:
    """time.Parse(RFC3339Nano, ...); None for Go's zero time (also what a parse error gives)."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)", stamp or "")
    if not match:
        return None
    fraction = (match[2] or "0")[:6].ljust(6, "0")
    zone = "+00:00" if match[3] == "Z" else match[3]
    moment = datetime.datetime.fromisoformat(f"{match[1]}.{fraction}{zone}")
    return None if moment.year == 1 else moment


def rfc3339(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ------------------------------------------------------------------------------------------------ command line
@dataclass(frozen=True)
class FlagSpec:
    names: tuple[str, ...]
    kind: str  # bool, string, int or slice
    default: object
    env: str = ""


HELP_FLAG = FlagSpec(("help", "h"), "bool", False)  # vendor/github.com/urfave/cli/flag.go:26-29
MANAGE_FLAGS = (  # cli/commands.go:24-32 with the definitions of cli/flags.go
    FlagSpec(("strategy",), "string", STRATEGIES[0]),  # flags.go:113-117
    FlagSpec(("filter", "f"), "slice", FILTERS),  # flags.go:119-128
    FlagSpec(("host", "H"), "slice", ("tcp://127.0.0.1:2375",), "SWARM_HOST"),  # flags.go:46-53
    FlagSpec(("replication",), "bool", False),  # flags.go:145-148
    FlagSpec(("replication-ttl",), "string", "20s"),  # flags.go:149-153
    FlagSpec(("advertise", "addr"), "string", "", "SWARM_ADVERTISE"),  # flags.go:40-44
    FlagSpec(("tls",), "bool", False),  # flags.go:93-96
    FlagSpec(("tlscacert",), "string", ""),  # flags.go:97-100
    FlagSpec(("tlscert",), "string", ""),  # flags.go:101-104
    FlagSpec(("tlskey",), "string", ""),  # flags.go:105-108
    FlagSpec(("tlsverify",), "bool", False),  # flags.go:109-112
    FlagSpec(("engine-refresh-min-interval",), "string", "30s"),  # flags.go:69-73
    FlagSpec(("engine-refresh-max-interval",), "string", "60s"),  # flags.go:74-78
    FlagSpec(("engine-failure-retry",), "int", 3),  # flags.go:84-88
    FlagSpec(("engine-refresh-retry",), "int", 3),  # flags.go:79-83
    FlagSpec(("heartbeat",), "string", "60s"),  # flags.go:54-58
    FlagSpec(("api-enable-cors", "cors"), "bool", False),  # flags.go:89-92
    FlagSpec(("cluster-driver", "c"), "string", "swarm"),  # flags.go:130-134
    FlagSpec(("discovery-opt",), "slice", ()),  # flags.go:140-144
    FlagSpec(("cluster-opt",), "slice", ()),  # flags.go:135-139
    FlagSpec(("refresh-on-node-filter",), "bool", False),  # flags.go:155-158
    FlagSpec(("container-name-refresh-filter",), "string", ""),  # flags.go:159-162
    HELP_FLAG,
)
GLOBAL_FLAGS = (  # cli/cli.go:26-43, plus urfave/cli's own help and version flags
    FlagSpec(("debug",), "bool", False, "DEBUG"),
    FlagSpec(("log-level", "l"), "string", "info"),
    FlagSpec(("experimental",), "bool", False),
    HELP_FLAG,
    FlagSpec(("version", "v"), "bool", False),
)
COMMANDS = {"manage": "manage", "m": "manage", "create": "create", "c": "create", "list": "list", "l": "list"}
COMMANDS |= {"join": "join", "j": "join", "help": "help", "h": "help"}  # cli/commands.go:5-43


class UsageError(Exception):
    """A flag error: urfave/cli prints "Incorrect Usage." and the help, then swarm exits through log.Fatal."""


class FlagFormsError(UsageError):
    """Two names of one flag (urfave/cli context.go normalizeFlags): the message replaces "Incorrect Usage."."""


@dataclass
class Flags:
    values: dict[str, object]
    visited: set[str]
    args: list[str]

    def is_set(self, *names: str) -> bool:
        return any(name in self.visited for name in names)


def parse_flags(specs: tuple[FlagSpec, ...], args: list[str], environ: dict[str, str]) -> Flags:
    """Go's flag.FlagSet.Parse as urfave/cli sets it up (vendor/github.com/urfave/cli/flag.go:138-160, context.go
    normalizeFlags): defaults (or the environment), then -name, --name, -name=value or -name value up to the first
    argument that is not a flag, or up to "--"."""
    by_name = {name: spec for spec in specs for name in spec.names}
    values: dict[str, object] = {}
    for spec in specs:
        value: object = list(spec.default) if spec.kind == "slice" else spec.default
        env_value = environ.get(spec.env, "") if spec.env else ""
        if env_value and spec.kind == "slice":
            value = [part.strip() for part in env_value.split(",")]
        elif env_value and spec.kind in ("bool", "int"):
            with contextlib.suppress(ValueError):  # urfave/cli flag.go: an unreadable variable is ignored
                value = go_parse_bool(env_value) if spec.kind == "bool" else go_parse_int0(env_value)
        elif env_value:
            value = env_value
        values[spec.names[0]] = value
    visited: set[str] = set()
    rest = list(args)
    while rest:
        arg = rest[0]
        if len(arg) < 2 or arg[0] != "-":
            break
        dashes = 2 if arg[1] == "-" else 1
        if arg == "--":
            rest.pop(0)
            break
        name = arg[dashes:]
        if not name or name[0] in "-=":
            raise UsageError(f"bad flag syntax: {arg}")
        rest.pop(0)
        name, has_value, value_text = name.partition("=")
        spec = by_name.get(name)
        if spec is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        key = spec.names[0]
        if spec.kind == "bool":
            try:
                values[key] = go_parse_bool(value_text) if has_value else True
            except ValueError as error:
                raise UsageError(f"invalid boolean value {go_quote(value_text)} for -{name}: {error}") from None
        else:
            if not has_value:
                if not rest:
                    raise UsageError(f"flag needs an argument: -{name}")
                value_text = rest.pop(0)
            if spec.kind == "int":
                try:
                    values[key] = go_parse_int0(value_text)
                except ValueError as error:
                    raise UsageError(f"invalid value {go_quote(value_text)} for flag -{name}: {error}") from None
            elif spec.kind == "slice":
                values[key].append(value_text)
            else:
                values[key] = value_text
        visited.add(name)
    for spec in specs:  # urfave/cli context.go normalizeFlags: one name per flag
        used = [name for name in spec.names if name in visited]
        if len(used) > 1:
            raise FlagFormsError(f"Cannot use two forms of the same flag: {used[1]} {used[0]}")
    return Flags(values, visited, rest)


def command_args(args: list[str]) -> list[str]:
    """vendor/github.com/urfave/cli/command.go:78-106: arguments before the first flag move behind the flags."""
    first_flag, terminator = -1, -1
    for index, arg in enumerate(args):
        if arg == "--":
            terminator = index
            break
        if arg.startswith("-") and first_flag == -1:
            first_flag = index
    if first_flag == -1:
        return list(args)
    regular = list(args[:first_flag])
    if terminator > -1:
        return args[first_flag:terminator] + regular + args[terminator:]
    return args[first_flag:] + regular


@dataclass
class TlsConfig:
    """cli/manage.go:70-98: one configuration for both sides, as two Python contexts made from the same files."""

    server: ssl.SSLContext
    client: ssl.SSLContext


@dataclass
class Settings:
    hosts: list[str]
    discovery_path: str
    heartbeat: float
    strategy: str
    filters: list[str]
    refresh_min: float
    refresh_max: float
    failure_retry: int
    overcommit: float = 0.05  # cluster/swarm/cluster.go:88
    create_retry: int = 0  # cluster/swarm/cluster.go:90
    tls: TlsConfig | None = None
    debug: bool = False
    cors: bool = False
    refresh_on_node_filter: bool = False
    container_name_refresh_filter: str = ""


def _strerror(error: OSError, path: str) -> str:
    reason = (error.strerror or str(error)).lower()
    return f"open {path}: {reason}"


def load_tls_config(ca: str, cert: str, key: str, verify: bool) -> TlsConfig:
    """cli/manage.go:70-98: the key pair is this manager's certificate and its client certificate towards every
    engine; with verify, clients must present a certificate from the CA and engines are checked against it."""
    server, client = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER), ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for context in (server, client):
        try:
            context.load_cert_chain(cert, key)
        except OSError as error:
            reason = _strerror(error, cert) if not isinstance(error, ssl.SSLError) else str(error)
            raise FatalError(f"Couldn't load X509 key pair ({cert}, {key}): {reason}. Key encrypted?") from None
    server.set_alpn_protocols(["http/1.1"])  # api/server.go:67
    if verify:
        try:
            with open(ca, "rb") as handle:
                pem = handle.read().decode("ascii", "replace")
        except OSError as error:
            raise FatalError(f"Couldn't read CA certificate: {_strerror(error, ca)}") from None
        # x509.CertPool.AppendCertsFromPEM ignores what it cannot read: a CA file without a certificate trusts nobody.
        if "-----BEGIN CERTIFICATE-----" in pem:
            for context in (server, client):
                context.load_verify_locations(cadata=pem)
        server.verify_mode = ssl.CERT_REQUIRED  # RequireAndVerifyClientCert, manage.go:90
    else:
        client.check_hostname = False  # InsecureSkipVerify, manage.go:92-95
        client.verify_mode = ssl.CERT_NONE
    return TlsConfig(server, client)


def driver_option(options: list[str], key: str) -> str | None:
    """cluster/options.go:14-25: the first `key=value`; a matching option without "=" makes swarm panic."""
    for option in options:
        parts = option.split("=", 1)
        if parts[0] == key:
            if len(parts) < 2:
                raise GoPanicError("runtime error: index out of range")
            return parts[1]
    return None


def cluster_options(options: list[str]) -> tuple[float, int]:
    """cluster/swarm/cluster.go:93-109: swarm.overcommit and swarm.createretry."""
    overcommit, create_retry = 0.05, 0
    text = driver_option(options, "swarm.overcommit")
    if text is not None:
        try:
            value = go_parse_float(text)
        except ValueError:
            value = 0.0
        if value <= -1:
            raise FatalError(f"swarm.overcommit should be larger than -1, {value:f} is invalid")
        if value < 0:
            log("warn", "-1 < swarm.overcommit < 0 will make swarm take less resource than docker engine offers")
        overcommit = value
    text = driver_option(options, "swarm.createretry")
    if text is not None:
        try:
            value = go_parse_int0(text)
        except ValueError:
            value = 0
        if value < 0:
            raise FatalError(f"swarm.createretry can not be negative, {value} is invalid")
        create_retry = value
    return overcommit, create_retry


def discovery_path(uri: str) -> str:
    """vendor/github.com/docker/docker/pkg/discovery/backends.go:29-37,98-106 and main.go:4-7: the schemes swarm
    registers; this stand-in implements file:// only."""
    scheme, separator, rest = uri.partition("://")
    if not separator:
        scheme, rest = "nodes", uri
    if scheme == "file":
        return rest
    if scheme in ("nodes", "token", "consul", "etcd", "zk"):
        raise FatalError(f"{scheme} discovery is not implemented by this placement stand-in, only file:// is: {uri}")
    raise FatalError("discovery service not supported")


def manage_settings(flags: Flags, environ: dict[str, str], app_name: str = "swarm") -> Settings:
    """cli/manage.go:216-343, in its order of checks; every refusal is a FatalError with swarm's text."""
    value = flags.values
    tls = None
    if value["tls"] or value["tlsverify"]:  # manage.go:222-244
        if not flags.is_set("tlscert") or not flags.is_set("tlskey"):
            raise FatalError("--tlscert and --tlskey must be provided when using --tls")
        if value["tlsverify"] and not flags.is_set("tlscacert"):
            raise FatalError("--tlscacert must be provided when using --tlsverify")
        tls = load_tls_config(value["tlscacert"], value["tlscert"], value["tlskey"], bool(value["tlsverify"]))
    elif flags.is_set("tlscert", "tlskey", "tlscacert"):
        raise FatalError("--tlscert, --tlskey and --tlscacert require the use of either --tls or --tlsverify")

    def duration(name: str) -> float:  # urfave/cli context.go lookupDuration: a bad value reads as 0
        try:
            return go_parse_duration(str(value[name]))
        except ValueError:
            return 0.0

    refresh_min, refresh_max = duration("engine-refresh-min-interval"), duration("engine-refresh-max-interval")
    if refresh_min <= 0:  # manage.go:248-253
        raise FatalError("min refresh interval should be a positive number")
    if refresh_max < refresh_min:
        raise FatalError("max refresh interval cannot be less than min refresh interval")
    if value["engine-refresh-retry"] != 3:  # manage.go:255-258
        raise FatalError("--engine-refresh-retry is deprecated. Use --engine-failure-retry")
    if value["engine-failure-retry"] <= 0:  # manage.go:259-262
        raise FatalError("invalid failure retry count")
    uri = flags.args[0] if len(flags.args) == 1 else environ.get("SWARM_DISCOVERY", "")  # cli/flags.go:22-27
    if not uri:
        raise FatalError(f"discovery required to manage a cluster. See '{app_name} manage --help'.")
    try:  # manage.go:101-108
        heartbeat = go_parse_duration(str(value["heartbeat"]))
    except ValueError as error:
        raise FatalError(f"invalid --heartbeat: {error}") from None
    if heartbeat < 1:
        raise FatalError("--heartbeat should be at least one second")
    if any("=" not in option for option in value["discovery-opt"]):  # manage.go:119-128
        raise FatalError("--discovery-opt must contain key=value strings")
    path = discovery_path(uri)
    strategy = "binpack" if value["strategy"] == "binpacking" else value["strategy"]  # strategy.go:46-59
    if strategy not in STRATEGIES:
        raise FatalError("strategy not supported")
    names = list(value["filter"])
    if flags.is_set("filter", "f"):  # manage.go:279-283: given filters replace the defaults
        names = names[len(FILTERS) :]
    if any(name not in FILTERS for name in names):  # scheduler/filter/filter.go:42-60
        raise FatalError("filter not supported")
    driver = value["cluster-driver"]  # manage.go:291-299
    if driver == "mesos-experimental":
        raise FatalError("the mesos-experimental cluster driver is not implemented by this placement stand-in")
    if driver != "swarm":
        raise FatalError(f"unsupported cluster {go_quote(driver)}")
    overcommit, create_retry = cluster_options(list(value["cluster-opt"]))
    hosts = list(value["host"])
    if flags.is_set("host", "H"):  # manage.go:305-308: given hosts replace the default (or $SWARM_HOST's first)
        hosts = hosts[1:]
    if value["replication"]:  # manage.go:314-335; leader election needs a key-value store
        address = value["advertise"]
        if not address:
            raise FatalError("--advertise address must be provided when using --leader-election")
        try:  # cli/join.go:14-22
            port = go_atoi(split_host_port(address)[1])
        except ValueError:
            port = 0
        if not 0 < port <= 65535:
            raise FatalError("--advertise should be of the form ip:port or hostname:port")
        try:
            ttl = go_parse_duration(str(value["replication-ttl"]))
        except ValueError as error:
            raise FatalError(f"invalid --replication-ttl: {error}") from None
        if ttl <= 0:
            raise FatalError("--replication-ttl should be a positive number")
        raise FatalError("Leader election is only supported with consul, etcd and zookeeper discovery.")
    return Settings(
        hosts=hosts,
        discovery_path=path,
        heartbeat=heartbeat,
        strategy=strategy,
        filters=names,
        refresh_min=refresh_min,
        refresh_max=refresh_max,
        failure_retry=int(value["engine-failure-retry"]),
        overcommit=overcommit,
        create_retry=create_retry,
        tls=tls,
        cors=bool(value["api-enable-cors"]),
        refresh_on_node_filter=bool(value["refresh-on-node-filter"]),
        container_name_refresh_filter=str(value["container-name-refresh-filter"]),
    )


# ------------------------------------------------------------------------------------------------ file discovery
class DiscoveryError(Exception):
    pass


RANGE = re.compile(r"\[(.+):(.+)\]")  # vendor/github.com/docker/docker/pkg/discovery/generator.go:11


def generate(pattern: str) -> list[str]:
    """generator.go:10-35: one inclusive integer range per line, `10.0.0.[1:3]:2375`; anything else is kept."""
    match = RANGE.search(pattern)
    if not match:
        return [pattern]
    try:
        start, end = go_atoi(match[1]), go_atoi(match[2])
    except ValueError:
        return [pattern]
    return [f"{pattern[: match.start()]}{value}{pattern[match.end() :]}" for value in range(start, end + 1)]


def parse_file_content(content: str) -> list[str]:
    """vendor/github.com/docker/docker/pkg/discovery/file/file.go:34-51."""
    result = []
    for raw in go_trim_space(content).split("\n"):
        line = go_trim_space(raw)
        if line.startswith("#"):  # :39-41
            continue
        if "#" in line:  # :43-47, an inline comment
            line = go_trim_space(line[: line.index("#")])
        result.extend(generate(line))
    return result


def create_entries(addresses: list[str]) -> list[tuple[str, str]]:
    """vendor/.../pkg/discovery/entry.go:77-94: empty lines are skipped; one bad address fails the whole read."""
    entries = []
    for address in addresses:
        if not address:
            continue
        try:
            entries.append(split_host_port(address))
        except ValueError as error:
            raise DiscoveryError(str(error)) from None
    return entries


class FileDiscovery:
    """file/file.go:53-102: read at start, then every heartbeat; an unchanged or unreadable file changes nothing."""

    def __init__(self, path: str, heartbeat: float) -> None:
        self.path, self.heartbeat = path, heartbeat

    def fetch(self) -> list[tuple[str, str]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                content = handle.read()
        except OSError as error:
            raise DiscoveryError(f"failed to read '{self.path}': {_strerror(error, self.path)}") from None
        return create_entries(parse_file_content(content))

    def watch(self, on_entries, on_error, stop: threading.Event) -> None:
        current: list[tuple[str, str]] = []
        try:
            current = self.fetch()
            on_entries(current)
        except DiscoveryError as error:
            on_error(error)
        while not stop.wait(self.heartbeat):
            try:
                entries = self.fetch()
            except DiscoveryError as error:
                on_error(error)
                continue
            if entries != current:  # entry.go:33-45 compares the ordered lists
                on_entries(entries)
            current = entries


# ------------------------------------------------------------------------------------------------ expressions
class ExprError(Exception):
    pass


OPERATORS = ("==", "!=")  # scheduler/filter/expr.go:19
KEY_RE = re.compile(r"[a-z_][a-z0-9\-_.]+", re.IGNORECASE | re.ASCII)  # expr.go:39
VALUE_RE = re.compile(r"[=!/]?(~)?[a-z0-9:\-_\t\n\f\r \.\*/\(\)\?\+\[\]\\\^\$\|]+", re.IGNORECASE | re.ASCII)  # :53


@dataclass(frozen=True)
class Expr:
    key: str
    operator: int  # 0 is ==, 1 is !=
    value: str
    soft: bool

    def __str__(self) -> str:
        return f"{self.key}{OPERATORS[self.operator]}{self.value}"

    def match(self, *whats: str) -> bool:
        """expr.go:76-110: /regexp/ or a glob with * anchored at both ends; != negates."""
        if self.value[0] == "/" and self.value[-1] == "/":
            if len(self.value) < 2:
                raise GoPanicError("runtime error: slice bounds out of range")
            pattern = self.value[1:-1]
        else:
            pattern = "^" + self.value.replace("*", ".*") + r"\Z"
        try:
            regex = re.compile(pattern)
            matched = any(regex.search(what) for what in whats)
        except re.error as error:
            log("error", str(error))
            matched = False
        return matched if self.operator == 0 else not matched


def parse_exprs(entries: list[str]) -> list[Expr]:
    """expr.go:28-74: the first operator found splits key and value; a leading ~ makes the expression soft."""
    exprs = []
    for entry in entries:
        for index, operator in enumerate(OPERATORS):
            if operator in entry:
                key, value = entry.split(operator, 1)
                if not KEY_RE.fullmatch(key):
                    raise ExprError(f"Key '{key}' is invalid")
                if not VALUE_RE.fullmatch(value):
                    raise ExprError(f"Value '{value}' is invalid")
                exprs.append(Expr(key, index, value.lstrip("~"), value.startswith("~")))
                break
        else:
            raise ExprError("One of operator ==, != is expected")
    return exprs


# ------------------------------------------------------------------------------------------------ containers
def _json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text) if text is not None else []
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _json_label(values: list[str]) -> str:
    return json.dumps(values, separators=(",", ":"), ensure_ascii=False)


class ContainerConfig:
    """cluster/config.go: a container's Config with its HostConfig and NetworkingConfig, the scheduling
    expressions kept as JSON arrays in com.docker.swarm.* labels."""

    EXPRESSION_KEYS: typing.ClassVar = {
        "affinity": "affinities",
        "constraint": "constraints",
        "whitelist": "whitelists",
    }
    EXPRESSION_KEYS |= {"reschedule": "reschedule-policies"}

    def __init__(self, config: dict, host_config: dict, networking_config: dict) -> None:
        self.config, self.host_config, self.networking_config = config, host_config, networking_config

    @classmethod
    def build(cls, config: dict, host_config: dict, networking_config: dict) -> ContainerConfig:
        """config.go:63-144: labels first, then `affinity:`, `constraint:`, `reschedule:`, `whitelist:` env entries
        (split at the first colon), which leave Env."""
        config = dict(config)
        labels = dict(config.get("Labels") or {})
        found = {key: _json_list(labels.get(f"{SWARM_LABEL}.{key}")) for key in cls.EXPRESSION_KEYS.values()}
        env = []
        for entry in config.get("Env") or []:
            key, colon, value = str(entry).partition(":")
            if colon and key in cls.EXPRESSION_KEYS:
                found[cls.EXPRESSION_KEYS[key]].append(value)
            else:
                env.append(entry)
        config["Env"] = env or None
        for key, values in found.items():
            if values:
                labels[f"{SWARM_LABEL}.{key}"] = _json_label(values)
        config["Labels"] = labels
        return cls(config, dict(host_config or {}), dict(networking_config or {}))

    @classmethod
    def from_inspect(cls, info: dict, engine_cpus: int) -> ContainerConfig:
        """cluster/engine.go:876-885: from an inspect, CpuShares read back as a number of CPUs."""
        networks = (info.get("NetworkSettings") or {}).get("Networks")
        built = cls.build(info.get("Config") or {}, info.get("HostConfig") or {}, {"EndpointsConfig": networks})
        built.host_config["CpuShares"] = go_div(built.cpu_shares * engine_cpus, 1024)
        return built

    @property
    def labels(self) -> dict:
        return self.config.setdefault("Labels", {})

    @property
    def image(self) -> str:
        return str(self.config.get("Image") or "")

    @property
    def memory(self) -> int:
        return int(self.host_config.get("Memory") or 0)

    @property
    def cpu_shares(self) -> int:
        return int(self.host_config.get("CpuShares") or 0)

    @property
    def network_mode(self) -> str:
        return str(self.host_config.get("NetworkMode") or "")

    def swarm_id(self) -> str:  # config.go:156-165
        return str(self.labels.get(f"{SWARM_LABEL}.id", ""))

    def set_swarm_id(self, swarm_id: str) -> None:
        self.labels[f"{SWARM_LABEL}.id"] = swarm_id

    def expressions(self, key: str) -> list[str]:  # config.go:146-154
        return _json_list(self.labels.get(f"{SWARM_LABEL}.{key}"))

    def add_expression(self, key: str, expression: str) -> None:  # config.go:210-248
        self.labels[f"{SWARM_LABEL}.{key}"] = _json_label([*self.expressions(key), expression])

    def remove_expression(self, key: str, expression: str) -> None:  # config.go:222-236
        self.labels[f"{SWARM_LABEL}.{key}"] = _json_label([e for e in self.expressions(key) if e != expression])

    def have_node_constraint(self) -> bool:  # config.go:251-260
        return any(c.startswith("node==") and not c.startswith("node==~") for c in self.expressions("constraints"))

    def validate(self) -> None:  # config.go:273-291
        policies = self.expressions("reschedule-policies")
        if len(policies) > 1:
            raise ValueError("too many reschedule policies")
        if policies and policies[0] not in ("off", "on-node-failure"):
            raise ValueError(f"invalid reschedule policy: {policies[0]}")

    def engine_body(self, engine_cpus: int) -> dict:
        """What goes to the engine (cluster/engine.go:1104-1111): the Config's fields, HostConfig with CpuShares
        turned from CPUs into real shares, NetworkingConfig."""
        host_config = dict(self.host_config)
        host_config["CpuShares"] = int(-(-self.cpu_shares * 1024 // engine_cpus)) if engine_cpus else 0
        return {**self.config, "HostConfig": host_config, "NetworkingConfig": self.networking_config}


class Container:
    """cluster/container.go:14-20: the engine's list entry, swarm's view of its config, its inspect, its engine."""

    def __init__(self, engine: Engine | None, summary: dict | None = None, config: ContainerConfig | None = None):
        self.engine, self.summary, self.config = engine, summary or {}, config
        self.info: dict = {}

    @property
    def id(self) -> str:
        return str(self.summary.get("Id") or "")

    @property
    def names(self) -> list[str]:
        return list(self.summary.get("Names") or [])

    @property
    def state(self) -> dict:
        return self.info.get("State") or {}


def find_container(containers: list[Container], id_or_name: str) -> Container | None:
    """cluster/container.go:97-157: ID, swarm ID, a unique name (name, /name, engine/name), a unique prefix."""
    if not id_or_name:
        return None
    for container in containers:
        if container.id and (container.id == id_or_name or truncate_id(container.id) == id_or_name):
            return container
    for container in containers:
        swarm_id = container.config.swarm_id() if container.config else ""
        if swarm_id and (swarm_id == id_or_name or truncate_id(swarm_id) == id_or_name):
            return container
    candidates = []
    for container in containers:
        engine_id = container.engine.id if container.engine else ""
        engine_name = container.engine.name if container.engine else ""
        for name in container.names:
            if id_or_name in (name, engine_id + name, engine_name + name) or name == "/" + id_or_name:
                candidates.append(container)
                break
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        return None
    candidates = [c for c in containers if c.id.startswith(id_or_name)]
    candidates += [c for c in containers if c.config and c.config.swarm_id().startswith(id_or_name)]
    return candidates[0] if len(candidates) == 1 else None


def state_string(state: dict) -> str:
    """cluster/container.go:23-44."""
    if state.get("Running"):
        return "paused" if state.get("Paused") else "restarting" if state.get("Restarting") else "running"
    if state.get("Dead"):
        return "dead"
    return "exited" if go_time(state.get("StartedAt")) else "created"


def full_state_string(state: dict) -> str:
    """cluster/container.go:47-86, the Status column of ps."""
    now = datetime.datetime.now(datetime.UTC)
    started, finished = go_time(state.get("StartedAt")), go_time(state.get("FinishedAt"))

    def since(moment: datetime.datetime | None) -> str:
        return human_duration((now - moment).total_seconds() if moment else now.timestamp() + 62135596800)

    if state.get("Running"):
        if state.get("Paused"):
            return f"Up {since(started)} (Paused)"
        if state.get("Restarting"):
            return f"Restarting ({state.get('ExitCode', 0)}) {since(finished)} ago"
        health = (state.get("Health") or {}).get("Status", "")
        health = "health: starting" if health == "starting" else health
        return f"Up {since(started)} ({health})" if health else f"Up {since(started)}"
    if state.get("Dead"):
        return "Dead"
    if not started:
        return "Created"
    if not finished:
        return ""
    return f"Exited ({state.get('ExitCode', 0)}) {since(finished)} ago"


# ------------------------------------------------------------------------------------------------ images and networks
def parse_repository_tag(repos: str) -> tuple[str, str]:
    """cluster/image.go:21-35."""
    if "@" in repos:
        parts = repos.split("@")
        return parts[0], parts[1]
    index = repos.rfind(":")
    if index < 0:
        return repos, ""
    tag = repos[index + 1 :]
    return (repos[:index], tag) if "/" not in tag else (repos, "")


def image_matches(image: dict, id_or_name: str, match_tag: bool) -> bool:
    """cluster/image.go:38-79: ID or ID prefix (more than two characters), repo:tag, repo@digest."""
    image_id, size = str(image.get("Id") or ""), len(id_or_name)
    if image_id == id_or_name or (size > 2 and image_id.startswith(id_or_name)):
        return True
    if ":" in image_id:
        bare = image_id.split(":", 1)[1]
        if bare == id_or_name or (size > 2 and bare.startswith(id_or_name)):
            return True
    repo, tag = parse_repository_tag(id_or_name)
    for reference in [*(image.get("RepoTags") or []), *(image.get("RepoDigests") or [])]:
        image_repo, image_tag = parse_repository_tag(reference)
        if image_repo == repo and (not match_tag or image_tag == tag or tag == ""):
            return True
    return False


# vendor/github.com/docker/distribution/reference/regexp.go: the grammar of image references.
_NAME_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
_DOMAIN = (
    r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*"
)
_REFERENCE = re.compile(
    rf"((?:{_DOMAIN}(?::[0-9]+)?/)?{_NAME_COMPONENT}(?:/{_NAME_COMPONENT})*)"
    r"(?::([\w][\w.-]{0,127}))?(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?"
)


def parse_normalized_named(text: str) -> tuple[str, str, str]:
    """reference.ParseNormalizedNamed then FamiliarName and the tag the engine API wants (vendor/github.com/docker/
    docker/client/image_pull.go:22-63): (familiar name, tag or digest, full name)."""
    if re.fullmatch(r"[a-f0-9]{64}", text):
        raise ValueError(f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings")
    first = text.find("/")
    if first == -1 or (not any(c in text[:first] for c in ".:") and text[:first] != "localhost"):
        domain, remainder = "docker.io", text
    else:
        domain, remainder = text[:first], text[first + 1 :]
    domain = "docker.io" if domain == "index.docker.io" else domain
    if domain == "docker.io" and "/" not in remainder:
        remainder = "library/" + remainder
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise ValueError("invalid reference format: repository name must be lowercase")
    match = _REFERENCE.fullmatch(f"{domain}/{remainder}")
    if not match:
        raise ValueError("invalid reference format")
    if len(match[1]) > 255:
        raise ValueError("repository name must not be more than 255 characters")
    path = match[1][len(domain) + 1 :]
    familiar = path if domain != "docker.io" else path.removeprefix("library/") if path.count("/") == 1 else path
    familiar = familiar if domain == "docker.io" else f"{domain}/{path}"
    return familiar, match[3] or match[2] or "latest", match[1]


def image_ref(repo: str, tag: str) -> str:
    """api/utils.go:355-371: repo:tag, or repo@digest when the tag has a colon."""
    return repo if not tag else f"{repo}@{tag}" if ":" in tag else f"{repo}:{tag}"


@dataclass
class Network:
    """cluster/network.go:12-16: an engine's network resource."""

    resource: dict
    engine: Engine

    @property
    def id(self) -> str:
        return str(self.resource.get("Id") or "")

    @property
    def name(self) -> str:
        return str(self.resource.get("Name") or "")


def unique_networks(networks: list[Network]) -> list[Network]:
    """cluster/network.go:26-47: one per ID, endpoints merged."""
    by_id: dict[str, Network] = {}
    for network in networks:
        if network.id in by_id:
            by_id[network.id].resource["Containers"].update(network.resource.get("Containers") or {})
        else:
            resource = {**network.resource, "Containers": dict(network.resource.get("Containers") or {})}
            by_id[network.id] = Network(resource, network.engine)
    return list(by_id.values())


def find_network(networks: list[Network], id_or_name: str) -> Network | None:
    """cluster/network.go:150-198: ID, a name (name, engineID/name, engineName/name) unique across IDs, /name, a
    unique ID prefix. A name several engines carry with different IDs finds nothing."""
    if not id_or_name:
        return None
    for network in networks:
        if network.id == id_or_name or truncate_id(network.id) == id_or_name:
            return network
    candidates = [n for n in networks if id_or_name in (n.name, f"{n.engine.id}/{n.name}", f"{n.engine.name}/{n.name}")]
    if len(unique_networks(candidates)) == 1:
        return candidates[0]
    if candidates:
        return None
    for network in networks:
        if network.name == "/" + id_or_name:
            return network
    candidates = [n for n in networks if n.id.startswith(id_or_name)]
    return candidates[0] if len(unique_networks(candidates)) == 1 else None


# ------------------------------------------------------------------------------------------------ docker filters
class Filters:
    """vendor/github.com/docker/docker/api/types/filters/parse.go: the `filters` query parameter."""

    def __init__(self, fields: dict[str, dict[str, bool]]) -> None:
        self.fields = fields

    @classmethod
    def from_param(cls, text: str) -> Filters:  # parse.go:96-118, the legacy {"key": ["value"]} form too
        if not text:
            return cls({})
        document = json.loads(text)
        if not isinstance(document, dict):
            raise ValueError("json: cannot unmarshal into Go value of type map[string]map[string]bool")
        fields = {}
        for key, values in document.items():
            if isinstance(values, dict):
                fields[key] = {str(v): bool(flag) for v, flag in values.items()}
            elif isinstance(values, list):
                fields[key] = {str(v): True for v in values}
            else:
                raise ValueError("json: cannot unmarshal into Go value of type map[string]bool")
        return cls(fields)

    def get(self, key: str) -> list[str]:
        return list(self.fields.get(key, {}))

    def include(self, key: str) -> bool:
        return key in self.fields

    def exact_match(self, key: str, source: str) -> bool:  # parse.go:213-222
        values = self.fields.get(key)
        return True if not values else bool(values.get(source))

    def match(self, key: str, source: str) -> bool:  # parse.go:194-210: exact, else each value as a regexp
        if self.exact_match(key, source):
            return True
        for value in self.fields.get(key, {}):
            try:
                if re.search(value, source):
                    return True
            except re.error:
                continue
        return False

    def match_kv_list(self, key: str, sources: dict | None) -> bool:  # parse.go:163-188
        values = self.fields.get(key)
        if not values:
            return True
        if not sources:
            return False
        for value in values:
            name, equals, expected = value.partition("=")
            if name not in sources or (equals and sources[name] != expected):
                return False
        return True


# ------------------------------------------------------------------------------------------------ engines
IMAGE_MISSING = -404  # the status an EngineError carries for the engine API client's imageNotFoundError
SCANNER_LIMIT = 64 * 1024  # bufio.MaxScanTokenSize


class EngineError(Exception):
    """An engine call failed; `connection` says whether swarm counts it against the engine's health
    (cluster/engine.go:1627-1638: IsConnectionError)."""

    def __init__(self, message: str, *, connection: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.connection, self.status = connection, status


@dataclass
class EngineOpts:
    refresh_min: float
    refresh_max: float
    failure_retry: int


def _dial(addr: str, context: ssl.SSLContext | None, timeout: float | None) -> socket.socket:
    """cluster/httpclient.go:13-57: a TCP dial bounded by the timeout (the TLS handshake is not), https when swarm
    has a TLS configuration; the engine's certificate is checked against the host of its discovery address."""
    host, port = split_host_port(addr)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    sock.settimeout(None)
    if context is not None:
        try:
            sock = context.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
    return sock


class HijackedConnection:
    """A raw connection to an engine for attach and exec (api/utils.go:166-264) that can end its writing half while
    still reading: TLS through a memory BIO so close_write sends close_notify and reads go on. Swarm 1.2.8 (Go 1.7)
    half-closes the TCP connection under TLS instead, which a TLS relay such as socat reads as an error."""

    def __init__(self, addr: str, context: ssl.SSLContext | None) -> None:
        host, port = split_host_port(addr)
        self.sock = socket.create_connection((host, int(port)))
        self.lock = threading.Lock()
        self.tls = None
        if context is not None:
            self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
            try:
                self._tls_step(self.tls.do_handshake)
            except BaseException:
                self.sock.close()
                raise

    def _tls_step(self, operation):
        """Run a TLS operation, moving records between the socket and the BIOs until it completes."""
        while True:
            with self.lock:
                try:
                    result = operation()
                    self._flush()
                    return result
                except ssl.SSLWantReadError:
                    self._flush()
            data = self.sock.recv(65536)
            if not data:
                raise ssl.SSLEOFError("EOF occurred in violation of protocol")
            with self.lock:
                self.incoming.write(data)

    def _flush(self) -> None:
        if data := self.outgoing.read():
            self.sock.sendall(data)

    def sendall(self, data: bytes) -> None:
        if self.tls is None:
            self.sock.sendall(data)
            return
        with self.lock:
            self.tls.write(data)
            self._flush()

    def recv(self, size: int) -> bytes:
        if self.tls is None:
            return self.sock.recv(size)
        try:
            return self._tls_step(lambda: self.tls.read(size))
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""

    def close_write(self) -> None:
        if self.tls is None:
            self.sock.shutdown(socket.SHUT_WR)
            return
        with self.lock:
            with contextlib.suppress(ssl.SSLWantReadError):
                self.tls.unwrap()
            self._flush()

    def close(self) -> None:
        self.sock.close()


def _failure(error: BaseException) -> tuple[str, str]:
    """The kind of a failed engine call (refused, timeout or other) and Go's wording of it."""
    if isinstance(error, ConnectionRefusedError):
        return "refused", "getsockopt: connection refused"
    if isinstance(error, TimeoutError):
        return "timeout", "i/o timeout"
    if isinstance(error, ssl.SSLCertVerificationError):
        return "other", f"x509: {error.verify_message}"
    if isinstance(error, ssl.SSLError):
        return "other", f"remote error: tls: {error.reason or error}".lower()
    if isinstance(error, http.client.RemoteDisconnected | http.client.IncompleteRead | ConnectionResetError):
        return "other", "EOF"
    if isinstance(error, http.client.HTTPException):
        return "other", "malformed HTTP response"
    if isinstance(error, socket.gaierror):
        return "other", "no such host"
    if isinstance(error, OSError) and error.strerror:
        return "other", error.strerror.lower()
    return "other", str(error)


def _api_error_text(status: int, headers, data: bytes, url: str) -> str:
    """vendor/github.com/docker/docker/client/request.go:184-205."""
    if not data:
        reason = http.client.responses.get(status, "")
        return (
            f"Error: request returned {reason} for API route and version {url}, "
            "check if the server supports the requested API version"
        )
    message = data.decode("utf-8", "replace")
    if headers.get("Content-Type") == "application/json":
        try:
            message = str(json.loads(data).get("message", ""))
        except (ValueError, AttributeError):
            return f"Error reading JSON: {data[:200]!r}"
    return f"Error response from daemon: {message.strip()}"


FULL_REFRESH_EVENTS = {"die", "kill", "oom", "pause", "start", "restart", "stop", "unpause", "rename", "update"}
FULL_REFRESH_EVENTS |= {"health_status"}  # engine.go:1413
QUIET_EVENTS = {"top", "resize", "export", "exec_create", "exec_start", "exec_detach", "attach", "detach"}
QUIET_EVENTS |= {"extract-to-dir", "copy", "archive-path"}  # engine.go:1415


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


def request_body(chunks):
    """How Go 1.7's client sends a request body of unknown length (net/http transfer.go): one byte is read ahead;
    none makes an empty body with Content-Length: 0, otherwise it is sent chunked."""
    chunks = iter(chunks)
    for first in chunks:
        if first:
            return itertools.chain([first], chunks)
    return b""


class Engine:
    """cluster/engine.go: one Docker engine, its state, caches (containers, images, networks) and loops."""

    def __init__(self, addr: str, overcommit: float, opts: EngineOpts, tls: ssl.SSLContext | None) -> None:
        self.addr, self.opts, self.tls = addr, opts, tls
        self.id = self.ip = self.name = self.version = ""
        self.cpus = self.memory = 0
        self.labels: dict[str, str] = {}
        self.client_version = DEFAULT_CLIENT_VERSION
        self.state, self.last_error, self.updated_at, self.failure_count = PENDING, "", time.time(), 0
        self.overcommit_ratio = int(overcommit * 100)  # engine.go:160
        self.containers: dict[str, Container] = {}
        self.images: list[dict] = []
        self.networks: dict[str, Network] = {}
        self.lock = threading.RLock()
        self.stop = threading.Event()
        self._events_stop: threading.Event | None = None
        self._events_connection: http.client.HTTPConnection | None = None
        self.has_events_monitor = False  # engine.go:244 makes it only once the engine's address resolved

    # --- calls
    def call(self, method: str, path: str, *, query=None, body=None, headers=None, version=None, stream=False):
        """One call through swarm's engine API client (vendor/.../client/request.go:116-211), its outcome checked
        for health (engine.go:428-453). JSON bodies are sent as JSON."""
        target = f"/v{version or self.client_version}{path}" + (f"?{urlencode(query, doseq=True)}" if query else "")
        headers = dict(headers or {})
        if isinstance(body, dict | list):
            body, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        elif method in ("POST", "PUT") and body is None:
            body, headers["Content-Type"] = b"", "text/plain"
        try:
            connection = http.client.HTTPConnection("engine")
            connection.sock = _dial(self.addr, self.tls, API_DIAL_TIMEOUT)
            connection.request(method, target, body=body, headers={"Host": self.addr, **headers})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as error:
            kind, text = _failure(error)
            if kind in ("refused", "timeout"):
                failure = EngineError(
                    f"Cannot connect to the Docker daemon at tcp://{self.addr}. Is the docker daemon running?",
                    connection=True,
                )
            else:
                scheme = "https" if self.tls else "http"
                failure = EngineError(f"error during connect: {method.title()} {scheme}://{self.addr}{target}: {text}")
            self.check_connection_err(failure)
            raise failure from None
        if not 200 <= response.status < 400:
            data = response.read()
            connection.close()
            url = f"{'https' if self.tls else 'http'}://{self.addr}{target}"  # request.go:193 prints req.URL
            failure = EngineError(_api_error_text(response.status, response.headers, data, url), status=response.status)
            self.check_connection_err(failure)
            raise failure
        self.check_connection_err(None)
        if stream:
            return connection, response
        data = response.read()
        connection.close()
        return json.loads(data) if data.strip() else None

    # --- health (engine.go:310-453)
    def status(self) -> str:
        return self.state

    def is_healthy(self) -> bool:
        return self.state == HEALTHY

    def health_indicator(self) -> int:
        with self.lock:
            if self.state != HEALTHY or self.failure_count >= self.opts.failure_retry:
                return 0
            return 100 - self.failure_count * 100 // self.opts.failure_retry

    def set_err_msg(self, message: str) -> None:
        with self.lock:
            self.last_error, self.updated_at = message.strip(), time.time()

    def check_connection_err(self, error: EngineError | None) -> None:
        """engine.go:428-453: success clears the error and heals; a connection error counts; others change nothing."""
        if error is None:
            self.set_err_msg("")
            with self.lock:
                if self.state == UNHEALTHY:
                    log("info", f"Engine came back to life after {self.failure_count} retries. Hooray!", **self._who())
                    self.state = HEALTHY
                self.failure_count = 0
            return
        if error.connection:
            with self.lock:
                self.failure_count += 1
                if self.state == HEALTHY and self.failure_count >= self.opts.failure_retry:  # engine.go:396-405
                    self.state = UNHEALTHY
                    log(
                        "error",
                        f"Flagging engine as unhealthy. Connect failed {self.failure_count} times",
                        **self._who(),
                    )
            self.set_err_msg(str(error))

    def _who(self) -> dict:
        return {"name": self.name, "id": self.id}

    def time_to_validate(self) -> bool:
        """engine.go:337-354: a pending engine is retried after 2^failures + 30 s without news, or after 4 h."""
        with self.lock:
            if self.state != PENDING:
                return False
            since = time.time() - self.updated_at
            return since > 4 * 3600 or since > 2 ** min(self.failure_count, 20) + 30

    # --- resources (engine.go:1062-1092)
    def used_memory(self) -> int:
        with self.lock:
            return sum(c.config.memory for c in self.containers.values() if c.config)

    def used_cpus(self) -> int:
        with self.lock:
            return sum(c.config.cpu_shares for c in self.containers.values() if c.config)

    def total_memory(self) -> int:
        return self.memory + go_div(self.memory * self.overcommit_ratio, 100)

    def total_cpus(self) -> int:
        return self.cpus + go_div(self.cpus * self.overcommit_ratio, 100)

    def container_list(self) -> list[Container]:
        with self.lock:
            return list(self.containers.values())

    def image_list(self) -> list[dict]:
        with self.lock:
            return list(self.images)

    def network_list(self) -> list[Network]:
        with self.lock:
            return list(self.networks.values())

    def node(self) -> dict:
        """types.ContainerNode (engine.go:456-466): what inspect adds as "Node"."""
        node = {"ID": self.id, "IP": self.ip, "Addr": self.addr, "Name": self.name, "Cpus": self.cpus}
        return node | {"Memory": self.memory, "Labels": dict(self.labels)}

    # --- connecting (engine.go:177-269, 503-616)
    def connect(self) -> None:
        host = split_host_port(self.addr)[0]
        try:
            self.ip = socket.gethostbyname(host)
        except OSError:
            raise EngineError(f"lookup {host}: no such host") from None
        self.has_events_monitor = True
        self.update_specs()
        self.start_events()
        try:
            self.refresh_containers(full=True)
            self.refresh_images()
        except EngineError:
            self.stop_events()
            raise
        self._quietly(self.refresh_networks)

    def update_specs(self) -> None:
        info = self.call("GET", "/info")
        if not info.get("NCPU") or not info.get("MemTotal"):
            raise EngineError(
                f"cannot get resources for this engine, make sure {self.addr} is a Docker Engine, not a Swarm manager"
            )
        version = str((self.call("GET", "/version") or {}).get("Version", ""))
        if version_less(version, "1.8.0"):
            message = f"engine {self.addr} is running an unsupported version of Docker Engine."
            raise EngineError(f"{message} Please upgrade to at least 1.8.0")
        self.version, self.client_version = version, client_version_for(version)
        with self.lock:
            info_id = f"{info.get('ID', '')}|{self.addr}"  # engine.go:540-548
            if not self.id:
                self.id = info_id
            elif self.id != info_id:
                self.state = PENDING
                self.last_error = (
                    f"Engine (ID: {self.id}, Addr: {self.addr}) shows up with another ID:{info_id}. "
                    "Please remove it from cluster, it can be added back."
                )
                raise EngineError(self.last_error)
            self.name, self.cpus, self.memory = str(info.get("Name", "")), int(info["NCPU"]), int(info["MemTotal"])
            self.labels = self._labels(info)

    def _labels(self, info: dict) -> dict[str, str]:
        """engine.go:579-614: four labels from /info, then the daemon's own, which cannot override them."""
        labels, who = {}, f"(ID: {self.id}, Addr: {self.addr})"
        for key, source in (("storagedriver", "Driver"), ("kernelversion", "KernelVersion")):
            if info.get(source):
                labels[key] = str(info[source])
        for key, source in (("operatingsystem", "OperatingSystem"), ("ostype", "OSType")):
            if info.get(source):
                labels[key] = str(info[source])
        for label in info.get("Labels") or []:
            key, equals, value = str(label).partition("=")
            if not equals:
                raise EngineError(f'Engine {who} contains an invalid label ({label}) not formatted as "key=value".')
            if key == "node":
                log(
                    "warn", f'Engine {who} contains a label ({label}) with key of "node" which cannot be used in Swarm.'
                )
            elif key in labels:
                text = f"already contains a label ({labels[key]}) with key ({key}), and Engine's label ({value})"
                log("warn", f"Node {who} {text} cannot override it.")
            else:
                labels[key] = value
        return labels

    def validation_complete(self) -> None:
        """engine.go:357-366."""
        with self.lock:
            if self.state != PENDING:
                return
            self.state, self.failure_count = HEALTHY, 0
        threading.Thread(target=self.refresh_loop, name=f"refresh {self.addr}", daemon=True).start()

    def disconnect(self) -> None:
        """engine.go:273-293."""
        with self.lock:
            if self.state == DISCONNECTED:
                return
            if not self.has_events_monitor:  # engine.go:283 calls Stop on a nil *EventsMonitor
                raise GoPanicError("runtime error: invalid memory address or nil pointer dereference")
            self.stop.set()
            self.state = DISCONNECTED
        self.stop_events()

    def handle_id_conflict(self, other: str) -> None:
        self.set_err_msg(f"ID duplicated. {self.id} shared by this node {self.addr} and another node {other}")

    # --- refreshing (engine.go:681-959)
    def refresh_loop(self) -> None:
        last_spec = time.time()
        while True:
            backoff = min(max(self.failure_count - self.opts.failure_retry, 0), 1000)
            jitter = random.uniform(0, self.opts.refresh_max - self.opts.refresh_min)  # noqa: S311 - a delay
            wait = self.opts.refresh_min * (1 + backoff) + jitter
            if self.stop.wait(wait):
                return
            if not self.is_healthy() or time.time() - last_spec > SPEC_UPDATE_INTERVAL:
                try:
                    self.update_specs()
                except EngineError as error:
                    log("error", f"Update engine specs failed: {error}", **self._who())
                    continue
                last_spec = time.time()
            try:
                self.refresh_containers(full=False)
            except EngineError:
                log("debug", "Engine refresh failed", **self._who())
                continue
            self._quietly(self.refresh_networks)
            self._quietly(self.refresh_images)
            self.update_network_containers()

    @staticmethod
    def _quietly(call) -> None:
        try:
            call()
        except EngineError as error:
            log("debug", str(error))

    def refresh_containers(self, full: bool) -> None:
        """engine.go:776-802: every container, stopped ones too; new (or restarting) ones are inspected."""
        merged: dict[str, Container] = {}
        for summary in self.call("GET", "/containers/json", query={"all": "1"}) or []:
            try:
                self.update_container(summary, merged, full)
            except EngineError as error:
                log(
                    "error",
                    f"Unable to update state of container {go_quote(summary.get('Id', ''))}: {error}",
                    **self._who(),
                )
        with self.lock:
            self.containers = merged

    def refresh_container(self, container_id: str, full: bool) -> Container | None:
        """engine.go:806-840."""
        filters = json.dumps({"id": {container_id: True}})
        found = self.call("GET", "/containers/json", query={"all": "1", "filters": filters}) or []
        if len(found) > 1:
            self.refresh_containers(full)
            return None
        if not found:
            with self.lock:
                self.containers.pop(container_id, None)
            return None
        self.update_container(found[0], self.containers, full)
        with self.lock:
            return self.containers.get(found[0]["Id"])

    def update_container(self, summary: dict, into: dict[str, Container], full: bool) -> None:
        """engine.go:842-905."""
        with self.lock:
            container = self.containers.get(summary["Id"])
        if container is None or container.state.get("Restarting"):
            full = True
        container = container or Container(self)
        if full:
            info = self.call("GET", f"/containers/{summary['Id']}/json")
            container.config = ContainerConfig.from_inspect(info, self.cpus)
            container.info = info
        with self.lock:
            container.summary = summary
            into[summary["Id"]] = container

    def refresh_images(self) -> None:
        images = self.call("GET", "/images/json", query={"all": "1"}) or []
        with self.lock:
            self.images = list(images)

    def refresh_networks(self) -> None:
        networks = self.call("GET", "/networks") or []
        with self.lock:
            self.networks = {n["Id"]: Network(n, self) for n in networks}

    def refresh_network(self, network_id: str) -> None:
        try:
            network = self.call("GET", f"/networks/{network_id}")
        except EngineError as error:
            if "No such network" in str(error):
                with self.lock:
                    self.networks.pop(network_id, None)
            return
        with self.lock:
            self.networks[network_id] = Network(network, self)

    def update_network_containers(self) -> None:
        """engine.go:975-1038: the endpoints of each network, from the containers' list entries."""
        with self.lock:
            for container in self.containers.values():
                for settings in ((container.summary.get("NetworkSettings") or {}).get("Networks") or {}).values():
                    network = self.networks.get(settings.get("NetworkID", ""))
                    if network is None:
                        return
                    names = container.names
                    name = (names[0].split("/")[1] if "/" in names[0] else names[0]) if names else ""
                    v4, v6 = settings.get("IPAddress"), settings.get("GlobalIPv6Address")
                    endpoint = {"Name": name, "EndpointID": settings.get("EndpointID", "")}
                    endpoint |= {"MacAddress": settings.get("MacAddress", "")}
                    endpoint |= {"IPv4Address": f"{v4}/{settings.get('IPPrefixLen', 0)}" if v4 else ""}
                    endpoint |= {"IPv6Address": f"{v6}/{settings.get('GlobalIPv6PrefixLen', 0)}" if v6 else ""}
                    network.resource.setdefault("Containers", {})
                    if network.resource["Containers"] is None:
                        network.resource["Containers"] = {}
                    network.resource["Containers"][container.id] = endpoint

    # --- events (engine.go:212-238, 1392-1462; cluster/event_monitor.go)
    def start_events(self) -> None:
        stop = threading.Event()
        self._events_stop = stop
        threading.Thread(target=self._events, args=(stop,), name=f"events {self.addr}", daemon=True).start()

    def stop_events(self) -> None:
        if self._events_stop is not None:
            self._events_stop.set()
        connection = self._events_connection
        if connection is not None and connection.sock is not None:
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_RDWR)

    def _events(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                connection, response = self._open_events()
                try:
                    self._read_events(response, stop)
                finally:
                    connection.close()
                error = "EOF"
            except (EngineError, OSError, http.client.HTTPException, ValueError) as failure:
                error = str(failure)
            if stop.is_set():
                return
            log("error", "error monitoring events, will restart", error=error, **self._who())
            stop.wait(min(self.failure_count + 1, 10))

    def _open_events(self):
        """Events are read without touching the failure count (engine.go:213-238 uses the client directly)."""
        connection = http.client.HTTPConnection("engine")
        connection.sock = _dial(self.addr, self.tls, API_DIAL_TIMEOUT)
        self._events_connection = connection
        connection.request("GET", f"/v{self.client_version}/events", headers={"Host": self.addr})
        response = connection.getresponse()
        if response.status != 200:
            connection.close()
            raise EngineError(f"events: {response.status}")
        return connection, response

    def _read_events(self, response, stop: threading.Event) -> None:
        pending = b""
        while not stop.is_set():
            data = response.read1(65536)
            if not data:
                return
            pending += data
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                if line.strip():
                    self._quietly(functools.partial(self.handle_event, json.loads(line)))

    def handle_event(self, message: dict) -> None:
        """engine.go:1392-1449: what each engine event refreshes."""
        kind, action = message.get("Type", ""), str(message.get("Action", ""))
        actor = (message.get("Actor") or {}).get("ID", "")
        if kind == "network":
            self.refresh_network(actor)
        elif kind == "image":
            self.refresh_images()
        elif kind == "daemon" and action == "reload":
            self.update_specs()
        elif kind == "container":
            action = "health_status" if action.startswith("health_status") else action
            container_id = message.get("id") or actor
            if action == "commit":
                self.refresh_images()
            elif action in FULL_REFRESH_EVENTS:
                self.refresh_container(container_id, True)
            elif action not in QUIET_EVENTS:
                self.refresh_container(container_id, False)

    # --- operations
    def create_container(self, config: ContainerConfig, name: str, pull_image: bool, auth: dict | None) -> Container:
        """engine.go:1095-1142: on "No such image" pull on this engine, then create again."""
        query = {"name": name} if name else None
        body = config.engine_body(self.cpus)
        try:
            created = self._create(config, query, body)
        except EngineError as error:
            if error.status != IMAGE_MISSING or not pull_image:
                raise
            self.pull(config.image, auth, None)
            created = self._create(config, query, body)
        self._quietly(functools.partial(self.refresh_container, created["Id"], True))
        with self.lock:
            container = self.containers.get(created["Id"])
        if container is None:
            raise EngineError("Container created but refresh didn't report it back")
        return container

    def _create(self, config: ContainerConfig, query: dict | None, body: dict) -> dict:
        """vendor/.../client/container_create.go:45-51: a 404 naming the image is imageNotFoundError."""
        try:
            return self.call("POST", "/containers/create", query=query, body=body)
        except EngineError as error:
            if error.status == 404 and "No such image" in str(error):
                raise EngineError(f"Error: No such image: {config.image}", status=IMAGE_MISSING) from None
            raise

    def pull(self, image: str, auth: dict | None, callback) -> None:
        """engine.go:1204-1244 with vendor/.../client/image_pull.go: stream the engine's pull, stop at its error."""
        try:
            familiar, tag, _ = parse_normalized_named(image)
        except ValueError as error:
            raise EngineError(str(error)) from None
        encoded = base64.urlsafe_b64encode(json.dumps(auth_fields(auth)).encode()).decode() if auth is not None else ""
        query, headers = {"fromImage": familiar, "tag": tag}, {"X-Registry-Auth": encoded}
        connection, response = self.call("POST", "/images/create", query=query, headers=headers, stream=True)
        try:
            for message in progress_messages(response, f"pull of {image}"):
                if message.get("errorDetail") is not None:
                    raise EngineError(f"Failed to load {image}: {message['errorDetail'].get('message', '')}")
                if callback is not None:
                    callback(message)
        finally:
            connection.close()
        self._quietly(self.refresh_images)

    def build_image(self, context, options: dict, callback) -> None:
        """engine.go:1572-1598 with vendor/.../client/image_build.go:20-44: POST /build with the options as the query,
        X-Registry-Config and the context streamed as application/x-tar; the engine's progress passed on, its first
        error message ending the build as "Failed to build image: ..."."""
        try:
            query = image_build_query(options, self.client_version)
        except EngineError as error:
            self.check_connection_err(error)
            raise
        headers = {"X-Registry-Config": registry_config_header(options), "Content-Type": "application/x-tar"}
        connection, response = self.call(
            "POST", "/build", query=query, headers=headers, body=request_body(context), stream=True
        )
        try:
            for message in progress_messages(response, "image build"):
                if message.get("errorDetail") is not None:
                    raise EngineError(f"Failed to build image: {message['errorDetail'].get('message', '')}")
                if callback is not None:
                    callback(message)
        finally:
            connection.close()

    def start_container(self, container: Container, host_config: bytes | None) -> None:
        """engine.go:1504-1533: a start with a HostConfig body goes through dockerclient (API 1.15)."""
        if host_config is None:
            self.call("POST", f"/containers/{container.id}/start")
        else:
            self.call(
                "POST",
                f"/containers/{container.id}/start",
                body=json.loads(host_config),
                version=START_WITH_BODY_VERSION,
            )
        try:
            self.refresh_container(container.id, True)
        except EngineError as error:
            if not ((container.info.get("HostConfig") or {}).get("AutoRemove") and error.status == 404):
                raise
            with self.lock:
                self.containers.pop(container.id, None)

    def remove_container(self, container: Container, force: bool, volumes: bool) -> None:
        """engine.go:1145-1163 with vendor/.../client/container_remove.go."""
        query = {key: "1" for key, wanted in (("v", volumes), ("force", force)) if wanted}
        self.call("DELETE", f"/containers/{container.id}", query=query or None)
        with self.lock:
            self.containers.pop(container.id, None)

    def remove_image(self, name: str, force: bool) -> list:
        """engine.go:619-631: refreshed even when the engine refused."""
        try:
            return (
                self.call("DELETE", f"/images/{quote(name, safe=':/@')}", query={"force": "1"} if force else None) or []
            )
        finally:
            self._quietly(self.refresh_images)


def client_version_for(server_version: str) -> str:
    """cluster/engine.go:469-500: the API version swarm speaks to an engine, at most 1.30."""
    version = server_version.split("-")[0]
    steps = (("1.9", "1.20"), ("1.10", "1.21"), ("1.11", "1.22"), ("1.12", "1.23"), ("1.13", "1.24"))
    for bound, api in (*steps, ("1.13.1", "1.25")):
        if version_less(version, bound):
            return api
    if version_less(version, "17.03.1") or versions_compare(version, "1.13.1") == 0:
        return "1.26"
    for bound, api in (("17.04", "1.27"), ("17.05", "1.28"), ("17.06", "1.29")):
        if version_less(version, bound):
            return api
    return "1.30"


AUTH_FIELDS = ("username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken")


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


def auth_fields(auth: dict) -> dict:
    """types.AuthConfig as Go re-encodes it: known keys (matched without case), email always present."""
    lowered = {str(key).lower(): value for key, value in auth.items()}
    encoded = {key: str(lowered[key]) for key in AUTH_FIELDS if lowered.get(key)}
    return {**encoded, "email": str(lowered.get("email") or "")}


# ------------------------------------------------------------------------------------------------ scheduler
class SchedulingError(Exception):
    pass


@dataclass
class Node:
    """scheduler/node/node.go:10-48: a snapshot of an engine for one scheduling decision."""

    id: str
    name: str
    labels: dict[str, str]
    containers: list[Container]
    images: list[dict]
    used_memory: int
    used_cpus: int
    total_memory: int
    total_cpus: int
    health_indicator: int
    addr: str = ""
    ip: str = ""

    @classmethod
    def of(cls, engine: Engine) -> Node:
        return cls(
            id=engine.id, name=engine.name, labels=dict(engine.labels), containers=engine.container_list(),
            images=engine.image_list(), used_memory=engine.used_memory(), used_cpus=engine.used_cpus(),
            total_memory=engine.total_memory(), total_cpus=engine.total_cpus(),
            health_indicator=engine.health_indicator(), addr=engine.addr, ip=engine.ip,
        )  # fmt: skip

    def is_healthy(self) -> bool:
        return self.health_indicator > 0

    def container(self, id_or_name: str) -> Container | None:
        return find_container(self.containers, id_or_name)

    def add_container(self, container: Container) -> None:
        """node.go:56-68: a pending container reserves its memory and CPUs, unless it does not fit at all."""
        if container.config is not None:
            memory, cpus = container.config.memory, container.config.cpu_shares
            if self.total_memory - memory < 0 or self.total_cpus - cpus < 0:
                return
            self.used_memory += memory
            self.used_cpus += cpus
        self.containers.append(container)


def _bindings(port_map: dict | None):
    for bindings in (port_map or {}).values():
        yield from bindings or []


def _binds_all(binding: dict) -> bool:  # scheduler/filter/port.go:154-157
    host_ip = binding.get("HostIp") or ""
    try:
        return host_ip == "" or ipaddress.ip_address(host_ip).is_unspecified
    except ValueError:
        return False


def _port_taken(requested: dict, port_map: dict | None) -> bool:
    """port.go:113-134: the same HostPort on the same IP, or either side on every interface."""
    for binding in _bindings(port_map):
        same_port = binding.get("HostPort") and binding.get("HostPort") == requested.get("HostPort")
        same_ip = requested.get("HostIp", "") == binding.get("HostIp", "")
        if same_port and (same_ip or _binds_all(requested) or _binds_all(binding)):
            return True
    return False


def _port_in_use(node: Node, requested: dict) -> bool:
    """port.go:79-111: a container's requested and actual bindings; a pending one's configuration."""
    for container in node.containers:
        if container.id:
            host_config, settings = container.info.get("HostConfig"), container.info.get("NetworkSettings")
            if (host_config and _port_taken(requested, host_config.get("PortBindings"))) or (
                settings and _port_taken(requested, settings.get("Ports"))
            ):
                return True
        elif container.config and _port_taken(requested, container.config.host_config.get("PortBindings")):
            return True
    return False


def filter_health(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/health.go:25-38."""
    healthy = [node for node in nodes if node.is_healthy()]
    if not healthy:
        raise SchedulingError("No healthy node available in the cluster")
    return healthy


def filter_port(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/port.go:24-64."""
    if config.network_mode == "host":
        for port in config.config.get("ExposedPorts") or {}:
            nodes = [
                n
                for n in nodes
                if not any(
                    (c.info.get("HostConfig") or {}).get("NetworkMode") == "host"
                    and port in ((c.info.get("Config") or {}).get("ExposedPorts") or {})
                    for c in n.containers
                )
            ]
            if not nodes:
                raise SchedulingError(f"unable to find a node with port {port} available in the Host mode")
        return nodes
    for binding in _bindings(config.host_config.get("PortBindings")):
        nodes = [node for node in nodes if not _port_in_use(node, binding)]
        if not nodes:
            raise SchedulingError(f"unable to find a node with port {binding.get('HostPort', '')} available")
    return nodes


def filter_slots(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/slots.go:26-47: a `containerslots` engine label caps the containers of a node."""
    kept = []
    for node in nodes:
        try:
            slots = go_atoi(node.labels["containerslots"])
        except (KeyError, ValueError):
            kept.append(node)
            continue
        if len(node.containers) < slots:
            kept.append(node)
    if not kept:
        raise SchedulingError("No node with enough open slots available in the cluster")
    return kept


def _dependencies(config: ContainerConfig) -> tuple[list[str], list[str], list[str]]:
    volumes = [str(v).split(":", 1)[0] for v in config.host_config.get("VolumesFrom") or []]
    links = [str(link).split(":", 1)[0] for link in config.host_config.get("Links") or []]
    network = [config.network_mode.removeprefix("container:")] if config.network_mode.startswith("container:") else []
    return volumes, links, network


def filter_dependency(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/dependency.go:21-57: volumes-from, links and --net=container: need their containers."""
    if not nodes:
        return nodes
    wanted = [name for group in _dependencies(config) for name in group]
    kept = [node for node in nodes if all(node.container(name) is not None for name in wanted)]
    if not kept:
        raise SchedulingError(f"Unable to find a node fulfilling all dependencies: {' '.join(get_dependency(config))}")
    return kept


def filter_affinity(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/affinity.go:22-78: container, image, or a label of the node's containers."""
    for affinity in parse_exprs(config.expressions("affinities")):
        if not soft and affinity.soft:
            continue
        kept = []
        for node in nodes:
            if affinity.key == "container":
                whats = [w for c in node.containers if c.names for w in (c.id, c.names[0].removeprefix("/"))]
            elif affinity.key == "image":
                whats = []
                for image in node.images:
                    tags = list(image.get("RepoTags") or [])
                    whats += [str(image.get("Id") or ""), *tags, *(parse_repository_tag(t)[0] for t in tags)]
            else:
                whats = [str((c.summary.get("Labels") or {}).get(affinity.key, "")) for c in node.containers]
            if affinity.match(*whats):
                kept.append(node)
        if not kept:
            raise SchedulingError(f"unable to find a node that satisfies the affinity {affinity}")
        nodes = kept
    return nodes


def filter_constraint(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/constraint.go:21-53: `node` is the engine's ID or name, any other key an engine label."""
    for constraint in parse_exprs(config.expressions("constraints")):
        if not soft and constraint.soft:
            continue
        if constraint.key == "node":
            kept = [n for n in nodes if constraint.match(n.id, n.name)]
        else:
            kept = [n for n in nodes if constraint.match(n.labels.get(constraint.key, ""))]
        if not kept:
            raise SchedulingError(f"unable to find a node that satisfies the constraint {constraint}")
        nodes = kept
    return nodes


def filter_whitelist(config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """scheduler/filter/whitelist.go:22-58: |-separated node names, whatever the key."""
    for whitelist in parse_exprs(config.expressions("whitelists")):
        if not soft and whitelist.soft:
            continue
        names = whitelist.value.split("|")
        nodes = [node for node in nodes if node.name in names]
        if not nodes:
            raise SchedulingError(f"unable to find a node that satisfies the whitelist {whitelist}")
    return nodes


def get_port(config: ContainerConfig) -> list[str]:  # port.go:137-152
    if config.network_mode == "host":
        return [f"port {port} (Host mode)" for port in config.config.get("ExposedPorts") or {}]
    return [f"port {b.get('HostPort', '')} (Bridge mode)" for b in _bindings(config.host_config.get("PortBindings"))]


def get_dependency(config: ContainerConfig) -> list[str]:  # dependency.go:60-72
    found = [f"--volumes-from={v}" for v in config.host_config.get("VolumesFrom") or []]
    found += [f"--link={link}" for link in config.host_config.get("Links") or []]
    return found + ([f"--net={config.network_mode}"] if config.network_mode.startswith("container:") else [])


def _with_softness(key: str):
    """affinity.go:81-91 and whitelist.go:61-71 list expressions with "(soft=true|false)"."""
    return lambda config: [f"{e} (soft={str(e.soft).lower()})" for e in parse_exprs(config.expressions(key))]


FILTER_FUNCTIONS = {  # scheduler/filter/filter.go:30-38, each with its GetFilters
    "health": (filter_health, lambda config: []),
    "port": (filter_port, get_port),
    "containerslots": (filter_slots, lambda config: ["available container slots"]),
    "dependency": (filter_dependency, get_dependency),
    "affinity": (filter_affinity, _with_softness("affinities")),
    "constraint": (filter_constraint, lambda config: [str(e) for e in parse_exprs(config.expressions("constraints"))]),
    "whitelist": (filter_whitelist, _with_softness("whitelists")),
}


def list_all_filters(names: list[str], config: ContainerConfig, last: str) -> str:
    """filter.go:83-100: every filter's conditions up to the one that failed, each as "\\n[a b]"."""
    text = ""
    for name in names:
        try:
            found = FILTER_FUNCTIONS[name][1](config)
        except ExprError as error:
            return f"{text}\nerror from {name} filter: {error}"
        if found:
            text += "\n[" + " ".join(found) + "]"
        if name == last:
            return text
    return text


def apply_filters(names: list[str], config: ContainerConfig, nodes: list[Node], soft: bool) -> list[Node]:
    """filter.go:63-80: the health filter's own error; any other failure lists the conditions."""
    for name in names:
        try:
            nodes = FILTER_FUNCTIONS[name][0](config, nodes, soft)
        except (SchedulingError, ExprError) as error:
            if name == "health":
                raise SchedulingError(str(error)) from None
            conditions = list_all_filters(names, config, name)
            raise SchedulingError(
                f"Unable to find a node that satisfies the following conditions {conditions}"
            ) from None
    return nodes


def weigh_nodes(config: ContainerConfig, nodes: list[Node], health_factor: int) -> list[tuple[int, Node]]:
    """scheduler/strategy/weighted_node.go:39-73: reservations in percent of the node, plus health."""
    weighted = []
    memory, cpus = config.memory, config.cpu_shares
    for node in nodes:
        if node.total_memory < memory or node.total_cpus < cpus:
            continue
        cpu_score = go_div((node.used_cpus + cpus) * 100, node.total_cpus) if cpus > 0 else 100
        memory_score = go_div((node.used_memory + memory) * 100, node.total_memory) if memory > 0 else 100
        if cpu_score <= 100 and memory_score <= 100:
            weighted.append((cpu_score + memory_score + health_factor * node.health_indicator, node))
    if not weighted:
        raise SchedulingError("no resources available to schedule container")  # strategy.go:34
    return weighted


def rank_and_sort(strategy: str, config: ContainerConfig, nodes: list[Node]) -> list[Node]:
    """spread.go:25-39 (lowest weight, then fewer containers), binpack.go:25-39 (the reverse), random.go:28-34.
    Equal nodes keep their order, which swarm draws from a Go map: random (cluster/swarm/cluster.go:907)."""
    if strategy == "random":
        shuffled = list(nodes)
        random.shuffle(shuffled)
        return shuffled
    weighted = weigh_nodes(config, nodes, -10 if strategy == "spread" else 10)
    sign = 1 if strategy == "spread" else -1
    return [node for _, node in sorted(weighted, key=lambda pair: (sign * pair[0], sign * len(pair[1].containers)))]


class Scheduler:
    """scheduler/scheduler.go: filters then strategy, soft expressions first, then without them."""

    def __init__(self, strategy: str, filters: list[str]) -> None:
        self.strategy, self.filters = strategy, filters
        self.lock = threading.Lock()

    def select_nodes_for_container(self, nodes: list[Node], config: ContainerConfig) -> list[Node]:
        try:
            return self._select(nodes, config, soft=True)
        except SchedulingError:
            return self._select(nodes, config, soft=False)

    def _select(self, nodes: list[Node], config: ContainerConfig, soft: bool) -> list[Node]:
        accepted = apply_filters(self.filters, config, nodes, soft)
        if not accepted:
            raise SchedulingError("No nodes available in the cluster")  # scheduler.go:15,51-53
        return rank_and_sort(self.strategy, config, accepted)

    def filter_names(self) -> str:
        return ", ".join(self.filters)


# ------------------------------------------------------------------------------------------------ cluster
@dataclass
class PendingContainer:
    """cluster/swarm/cluster.go:31-56: a create in flight, seen by the scheduler and the name check."""

    name: str
    config: ContainerConfig
    engine: Engine

    def to_container(self) -> Container:
        summary = {"Labels": self.config.labels, "Names": [f"/{self.name}"] if self.name else []}
        container = Container(self.engine, summary, self.config)
        container.info = {"HostConfig": {}}
        return container


NAME_CONFLICT = (
    "Conflict: The name {0} is already assigned. You have to delete (or rename) that container to be able to "
    "assign {0} to a container again."
)  # cluster/swarm/cluster.go:199,1034
IMAGE_NOT_FOUND = re.compile(r"image \S* not found|repository \S* not found|repository does not exist")  # :172-174


class Cluster:
    """cluster/swarm/cluster.go: the engines from discovery, pending engines and pending creates."""

    def __init__(self, scheduler: Scheduler, settings: Settings) -> None:
        self.scheduler, self.settings = scheduler, settings
        self.tls = settings.tls.client if settings.tls else None
        self.opts = EngineOpts(settings.refresh_min, settings.refresh_max, settings.failure_retry)
        self.engines: dict[str, Engine] = {}
        self.pending_engines: dict[str, Engine] = {}
        self.pending_containers: dict[str, PendingContainer] = {}
        self.lock = threading.RLock()
        self.current_entries: list[tuple[str, str]] = []

    def start(self, stop: threading.Event) -> None:
        discovery = FileDiscovery(self.settings.discovery_path, self.settings.heartbeat)
        args = (self.on_entries, lambda error: log("error", f"Discovery error: {error}"), stop)
        threading.Thread(target=discovery.watch, args=args, name="discovery", daemon=True).start()
        threading.Thread(target=self.monitor_pending_engines, args=(stop,), name="pending", daemon=True).start()

    # --- engines (cluster.go:297-460)
    def on_entries(self, entries: list[tuple[str, str]]) -> None:
        """cluster.go:414-439: removals first, then additions."""
        added = [e for e in entries if e not in self.current_entries]
        removed = [e for e in self.current_entries if e not in entries]
        self.current_entries = list(entries)
        for entry in removed:
            try:
                self.remove_engine(join_host_port(*entry))
            except GoPanicError as panic:  # a panic in swarm's discovery goroutine ends the process
                print(f"panic: {panic}", file=sys.stderr, flush=True)
                os._exit(2)
        for entry in added:
            self.add_engine(join_host_port(*entry))

    def engine_by_addr(self, addr: str) -> Engine | None:
        with self.lock:
            if addr in self.pending_engines:
                return self.pending_engines[addr]
            return next((e for e in self.engines.values() if e.addr == addr), None)

    def add_engine(self, addr: str) -> None:
        if self.engine_by_addr(addr) is not None:
            return
        engine = Engine(addr, self.settings.overcommit, self.opts, self.tls)
        with self.lock:
            self.pending_engines[addr] = engine
        threading.Thread(target=self.validate_pending_engine, args=(engine,), daemon=True).start()

    def validate_pending_engine(self, engine: Engine) -> bool:
        """cluster.go:348-392."""
        try:
            engine.connect()
        except (EngineError, OSError, ValueError, http.client.HTTPException) as error:
            log("debug", f"Failed to validate pending node: {error}", Addr=engine.addr)
            return False
        with self.lock:
            if engine.addr not in self.pending_engines:
                return False
            old = self.engines.get(engine.id)
            if old is not None:
                if old.addr != engine.addr:
                    log("error", f"ID duplicated. {engine.id} shared by {old.addr} and {engine.addr}")
                    engine.handle_id_conflict(old.addr)
                else:
                    engine.disconnect()
                    del self.pending_engines[engine.addr]
                return False
            del self.pending_engines[engine.addr]
            engine.validation_complete()
            self.engines[engine.id] = engine
        log("info", f"Registered Engine {engine.name} at {engine.addr}")
        return True

    def remove_engine(self, addr: str) -> None:
        """cluster.go:394-411: disconnect, then forget it with its containers."""
        engine = self.engine_by_addr(addr)
        if engine is None:
            return
        engine.disconnect()
        with self.lock:
            if addr in self.pending_engines:
                del self.pending_engines[addr]
            else:
                self.engines.pop(engine.id, None)
        log("info", f"Removed Engine {engine.name}")

    def monitor_pending_engines(self, stop: threading.Event) -> None:
        """cluster.go:442-460."""
        while not stop.wait(VALIDATION_INTERVAL):
            with self.lock:
                pending = list(self.pending_engines.values())
            for engine in pending:
                if engine.time_to_validate():
                    threading.Thread(target=self.validate_pending_engine, args=(engine,), daemon=True).start()

    def active_engines(self) -> list[Engine]:
        """cluster.go:937-945: every validated engine, healthy or not, in no particular order (a Go map)."""
        with self.lock:
            engines = list(self.engines.values())
        random.shuffle(engines)
        return engines

    def all_engines(self) -> list[Engine]:
        with self.lock:
            return [*self.engines.values(), *self.pending_engines.values()]

    # --- views
    def containers(self) -> list[Container]:
        return [c for engine in self.active_engines() for c in engine.container_list()]

    def container(self, id_or_name: str) -> Container | None:
        return find_container(self.containers(), id_or_name) if id_or_name else None

    def images(self) -> list[tuple[dict, Engine]]:
        return [(image, engine) for engine in self.active_engines() for image in engine.image_list()]

    def image(self, id_or_name: str) -> tuple[dict, Engine] | None:
        """cluster.go:475-488."""
        for image, engine in self.images() if id_or_name else []:
            if image_matches(image, id_or_name, True):
                return image, engine
        return None

    def networks(self) -> list[Network]:
        return [n for engine in self.active_engines() for n in engine.network_list()]

    def list_nodes(self) -> list[Node]:
        """cluster.go:902-918: validated engines, each with the creates in flight on it."""
        nodes = []
        for engine in self.active_engines():
            node = Node.of(engine)
            for pending in list(self.pending_containers.values()):
                if pending.engine is engine and node.container(pending.config.swarm_id()) is None:
                    node.add_container(pending.to_container())
            nodes.append(node)
        return nodes

    # --- creating (cluster.go:163-262, 838-864)
    def check_name_uniqueness(self, name: str) -> bool:
        if not name:
            return True
        for container in self.containers():
            if any(existing in (name, "/" + name) for existing in container.names):
                return False
        return all(pending.name != name for pending in self.pending_containers.values())

    def generate_unique_id(self) -> str:
        while True:
            identifier = random_id()
            if self.container(identifier) is None:
                return identifier

    def create_container(self, config: ContainerConfig, name: str, auth: dict | None) -> Container:
        """cluster.go:163-191: one retry with image affinity when the image is missing but somewhere in the
        cluster, then swarm.createretry more."""
        container, error = self._attempt(config, name, False, auth)
        if error is not None:
            retries = 0
            missing = isinstance(error, EngineError) and error.status == IMAGE_MISSING  # client.IsErrImageNotFound
            not_found = IMAGE_NOT_FOUND.search(str(error)) or missing
            if not_found and not config.have_node_constraint() and self.image(config.image) is not None:
                container, error = self._attempt(config, name, True, auth)
                retries += 1
            while retries < self.settings.create_retry and error is not None:
                log("warn", f"Failed to create container: {error}, retrying", Name="Swarm")
                container, error = self._attempt(config, name, False, auth)
                retries += 1
        if error is not None:
            raise error
        return container

    def _attempt(self, config, name, with_image_affinity, auth) -> tuple[Container | None, Exception | None]:
        try:
            return self._create(config, name, with_image_affinity, auth), None
        except (SchedulingError, EngineError, ExprError) as error:
            return None, error

    def _create(self, config: ContainerConfig, name: str, with_image_affinity: bool, auth: dict | None) -> Container:
        with self.scheduler.lock:
            if not self.check_name_uniqueness(name):
                raise SchedulingError(NAME_CONFLICT.format(name))
            swarm_id = config.swarm_id()
            if not swarm_id:
                swarm_id = self.generate_unique_id()
                config.set_swarm_id(swarm_id)
            # cluster.go:209-214: a local-scoped network pins softly to its engine; swarm or global ones do not.
            network = find_network(self.networks(), config.network_mode)
            if network is not None and network.resource.get("Scope") == "local":
                if not config.have_node_constraint():
                    config.add_expression("constraints", "node==~" + network.engine.name)
                config.host_config["NetworkMode"] = network.name
            if with_image_affinity:
                config.add_expression("affinities", "image==" + config.image)
            try:
                nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), config)
            finally:
                if with_image_affinity:
                    config.remove_expression("affinities", "image==" + config.image)
            with self.lock:
                engine = self.engines.get(nodes[0].id)
            if engine is None:
                raise SchedulingError("error creating container")
            self.pending_containers[swarm_id] = PendingContainer(name, config, engine)
        try:
            container = engine.create_container(config, name, True, auth)
            log("debug", f"Scheduling container {name or truncate_id(container.id)} to ", NodeName=engine.name)
            return container
        except EngineError as error:
            log("error", "Failed to create container", NodeName=engine.name, NodeID=engine.id, error=str(error))
            raise
        finally:
            with self.scheduler.lock:
                self.pending_containers.pop(swarm_id, None)

    def build_image(self, context, options: dict, callback) -> None:
        """cluster.go:1042-1085: the build args become the Env of a container configuration (their affinity:,
        constraint:, whitelist: and reschedule: entries leave them) with the memory and CPUs asked for; the
        scheduler picks the engine as for a container, but nothing is reserved for the build. The engine's messages
        go to the callback as (engine name, message, error); then one more with the outcome. The engine's images are
        re-read afterwards, whatever the outcome. Only a scheduling failure is raised."""
        with self.scheduler.lock:
            config, options["BuildArgs"] = build_config(options)
            nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), config)
        with self.lock:
            engine = self.engines.get(nodes[0].id)
        if engine is None:  # c.engines[n.ID] is nil when the engine left meanwhile; engine.Name panics
            raise GoPanicError("runtime error: invalid memory address or nil pointer dereference")
        try:
            engine.build_image(context, options, lambda message: callback(engine.name, message, None))
        except EngineError as error:
            callback(engine.name, {}, error)
        else:
            callback(engine.name, {}, None)
        engine._quietly(engine.refresh_images)

    def random_engine(self) -> Engine:
        """cluster.go:1021-1028: not random, the strategy's first node for an empty configuration."""
        nodes = self.scheduler.select_nodes_for_container(self.list_nodes(), ContainerConfig.build({}, {}, {}))
        with self.lock:
            return self.engines[nodes[0].id]

    # --- info (cluster.go:947-1019; cli/manage.go:51-67)
    def total_memory(self) -> int:
        return sum(e.total_memory() for e in self.active_engines())

    def total_cpus(self) -> int:
        return sum(e.total_cpus() for e in self.active_engines())

    def status(self) -> list[list[str]]:
        rows = [["Role", "primary"], ["Strategy", self.scheduler.strategy], ["Filters", self.scheduler.filter_names()]]
        engines = sorted(self.all_engines(), key=functools.cmp_to_key(_engine_order))
        rows.append(["Nodes", str(len(engines))])
        for engine in engines:
            rows += engine_rows(engine)
        return rows


def _engine_order(left: Engine, right: Engine) -> int:
    return -1 if natural_less(left.name, right.name) else 1 if natural_less(right.name, left.name) else 0


def engine_rows(engine: Engine) -> list[list[str]]:
    """cluster/swarm/cluster.go:976-1016: one engine's rows in info."""
    containers = engine.container_list()
    rows = [[" " + (engine.name or "(unknown)"), engine.addr], ["  └ ID", engine.id], ["  └ Status", engine.status()]]
    if engine.is_healthy():
        paused = sum(1 for c in containers if c.state.get("Paused"))
        running = sum(1 for c in containers if not c.state.get("Paused") and c.state.get("Running"))
        stopped = len(containers) - paused - running
        rows.append(["  └ Containers", f"{len(containers)} ({running} Running, {paused} Paused, {stopped} Stopped)"])
    else:
        rows.append(["  └ Containers", str(len(containers))])
    rows.append(["  └ Reserved CPUs", f"{engine.used_cpus()} / {engine.total_cpus()}"])
    rows.append(["  └ Reserved Memory", f"{bytes_size(engine.used_memory())} / {bytes_size(engine.total_memory())}"])
    rows.append(["  └ Labels", ", ".join(sorted(f"{k}={v}" for k, v in engine.labels.items()))])
    if engine.last_error:
        rows.append(["  └ Error", engine.last_error])
    rows.append(["  └ UpdatedAt", rfc3339(engine.updated_at)])
    rows.append(["  └ ServerVersion", engine.version])
    return rows


# ------------------------------------------------------------------------------------------------ builds
ULIMIT_FIELDS = {"Name": "string", "Hard": "int64", "Soft": "int64"}  # vendor/github.com/docker/go-units/ulimit.go
OS_ERROR = re.compile(r'image operating system "(.+)" cannot be used on this platform')  # api/utils.go:20
FORM_LIMIT = 10 << 20  # net/http parsePostForm (Go 1.7): "10 MB is a lot of text."


def _go_int64(value: object) -> int | None:
    """A JSON number as encoding/json stores it into an int64: integer syntax within range, else a type error."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def _go_keys(value: dict, names) -> dict:
    """encoding/json decode.go object(): each key names a field exactly, else without case; the last one wins; a
    null changes nothing."""
    found = {}
    for key, item in value.items():
        name = next((n for n in names if n == key), None) or next((n for n in names if n.lower() == key.lower()), None)
        if name is not None and item is not None:
            found[name] = item
    return found


def _go_struct(value: object, fields: dict[str, str]) -> dict:
    """A JSON value decoded into a struct of string and int64 fields, the decoding error ignored: a value of the
    wrong type leaves its field zero."""
    decoded = {name: "" if kind == "string" else 0 for name, kind in fields.items()}
    for name, item in (_go_keys(value, fields) if isinstance(value, dict) else {}).items():
        if fields[name] == "string":
            decoded[name] = item if isinstance(item, str) else ""
        else:
            decoded[name] = _go_int64(item) or 0
    return decoded


def go_unmarshal_ignored(text: str, shape: str) -> object:
    """json.Unmarshal([]byte(text), &field) with its error ignored (api/handlers.go:1422-1440), for the shapes
    postBuild decodes: "args" map[string]*string, "labels" map[string]string, "strings" []string, "ulimits"
    []*units.Ulimit, "auths" map[string]types.AuthConfig. Text that is not JSON, or JSON of another kind, leaves the
    field nil (None); values of the wrong type inside leave zero values."""
    try:
        value = go_json_loads(text)
    except ValueError:
        return None
    if shape in ("args", "labels", "auths"):
        if not isinstance(value, dict):
            return None
        if shape == "args":  # a null is a nil *string, anything but a string an allocated ""
            return {k: v if isinstance(v, str) or v is None else "" for k, v in value.items()}
        if shape == "labels":
            return {k: v if isinstance(v, str) else "" for k, v in value.items()}
        return {k: _go_struct(v, dict.fromkeys(AUTH_FIELDS, "string")) for k, v in value.items()}
    if not isinstance(value, list):
        return None
    if shape == "strings":
        return [v if isinstance(v, str) else "" for v in value]
    return [None if v is None else _go_struct(v, ULIMIT_FIELDS) for v in value]


def go_base64_url_decode(text: str) -> bytes | None:
    """base64.URLEncoding.DecodeString (Go 1.7): the URL alphabet with padding, CR and LF skipped; None on error.
    Standard base64 with + or / in it does not decode."""
    text = text.replace("\r", "").replace("\n", "")
    if len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        return None
    if text.endswith("=") and (len(text.rstrip("=")) % 4) not in (2, 3):
        return None
    return base64.urlsafe_b64decode(text)


def parse_form(method: str, content_type: str | None, raw_query: str, read_body) -> tuple[dict, str]:
    """net/http Request.ParseForm (Go 1.7 request.go): a POST whose Content-Type is
    application/x-www-form-urlencoded has its body (at most 10 MB) read as the form, its values ahead of the
    query's; other types leave the body alone (none is application/octet-stream). Returns the form and the first
    error, which postBuild answers with 500 (api/handlers.go:1394-1397)."""
    post: dict[str, list[str]] = {}
    error = ""
    if method in ("POST", "PUT", "PATCH"):
        media, error = go_media_type(content_type or "application/octet-stream")
        if media == "application/x-www-form-urlencoded":
            data = read_body(FORM_LIMIT + 1)
            if len(data) > FORM_LIMIT:
                return {}, "http: POST too large"
            post, error = go_parse_query(data.decode("utf-8", "surrogateescape"))
    query, query_error = go_parse_query(raw_query)
    form = {key: list(values) for key, values in post.items()}
    for key, values in query.items():
        form.setdefault(key, []).extend(values)
    return form, error or query_error


def _form_value(form: dict[str, list[str]], key: str) -> str:
    return (form.get(key) or [""])[0]


def _bool_form(form: dict[str, list[str]], key: str) -> bool:
    """api/utils.go:334-337: boolValue."""
    return go_trim_space(_form_value(form, key)).lower() not in ("", "0", "no", "false", "none")


def _int64_form(form: dict[str, list[str]], key: str) -> int:
    """api/utils.go:347-353: int64ValueOrZero."""
    try:
        return go_parse_int64(_form_value(form, key))
    except ValueError:
        return 0


def build_options(form: dict[str, list[str]], registry_config: str | None) -> dict:
    """api/handlers.go:1399-1447: types.ImageBuildOptions from the form postBuild reads. Parameters it does not read
    (target, securityopt, extrahosts, platform, ...) are not passed on; X-Registry-Config is base64url JSON, kept only
    when it decodes."""
    options = {
        "Tags": form.get("t"),
        "SuppressOutput": _bool_form(form, "q"),
        "RemoteContext": _form_value(form, "remote"),
        "NoCache": _bool_form(form, "nocache"),
        "Remove": _bool_form(form, "rm"),
        "ForceRemove": _bool_form(form, "forcerm"),
        "PullParent": _bool_form(form, "pull"),
        "Isolation": _form_value(form, "isolation"),
        "CPUSetCPUs": _form_value(form, "cpusetcpus"),
        "CPUSetMems": _form_value(form, "cpusetmems"),
        "CPUShares": _int64_form(form, "cpushares"),
        "CPUQuota": _int64_form(form, "cpuquota"),
        "CPUPeriod": _int64_form(form, "cpuperiod"),
        "Memory": _int64_form(form, "memory"),
        "MemorySwap": _int64_form(form, "memswap"),
        "CgroupParent": _form_value(form, "cgroupparent"),
        "NetworkMode": _form_value(form, "networkmode"),
        "ShmSize": _int64_form(form, "shmsize"),
        "Dockerfile": _form_value(form, "dockerfile"),
        "Squash": _bool_form(form, "squash"),
        "Ulimits": None,
        "BuildArgs": None,
        "AuthConfigs": None,
        "Labels": None,
        "CacheFrom": None,
    }
    for key, field, shape in (
        ("buildargs", "BuildArgs", "args"),
        ("ulimits", "Ulimits", "ulimits"),
        ("labels", "Labels", "labels"),
        ("cachefrom", "CacheFrom", "strings"),
    ):
        if _form_value(form, key):
            options[field] = go_unmarshal_ignored(_form_value(form, key), shape)
    if registry_config:
        decoded = go_base64_url_decode(registry_config)
        if decoded is not None:
            options["AuthConfigs"] = go_unmarshal_ignored(decoded.decode("utf-8", "replace"), "auths")
    return options


def convert_map_to_kv_strings(values: dict | None) -> list[str]:
    """cluster/swarm/utils.go:23-35: {"k": "v"} to ["k=v"], a nil value as "k=", in Go's random map order."""
    pairs = [f"{key}={value or ''}" for key, value in (values or {}).items()]
    random.shuffle(pairs)
    return pairs


def convert_kv_strings_to_map(values: list[str] | None) -> dict:
    """cluster/swarm/utils.go:8-20: ["k=v"] to {"k": "v"}, split at the first =; without one, a nil value."""
    result: dict[str, str | None] = {}
    for value in values or []:
        key, equals, rest = value.partition("=")
        result[key] = rest if equals else None
    return result


def build_config(options: dict) -> tuple[ContainerConfig, dict]:
    """cluster/swarm/cluster.go:1047-1050: the build args as Env and memory and CPUs as resources; affinity:,
    constraint:, reschedule: and whitelist: args become expressions (cluster/config.go:63-144) and the rest, as a map
    again, is what the engine gets."""
    env = convert_map_to_kv_strings(options.get("BuildArgs"))
    config = ContainerConfig.build(
        {"Env": env}, {"CpuShares": options.get("CPUShares", 0), "Memory": options.get("Memory", 0)}, {}
    )
    return config, convert_kv_strings_to_map(config.config.get("Env"))


def _sorted_json(value: object) -> str:
    """json.Marshal of a Go map (keys sorted) or slice; nil is null."""
    if isinstance(value, dict):
        value = dict(sorted(value.items()))
    return go_marshal(value)


def image_build_query(options: dict, client_version: str) -> list[tuple[str, str]]:
    """vendor/github.com/docker/docker/client/image_build.go:47-124 (imageBuildOptionsToQuery), as url.Values.Encode
    sends it: keys sorted. rm is always sent (0 unless asked for); squash needs API 1.25."""
    query: dict[str, list[str]] = {"t": list(options.get("Tags") or [])}
    for field, key in (
        ("SuppressOutput", "q"),
        ("NoCache", "nocache"),
        ("ForceRemove", "forcerm"),
        ("PullParent", "pull"),
    ):
        if options.get(field):
            query[key] = ["1"]
    if options.get("RemoteContext"):
        query["remote"] = [options["RemoteContext"]]
    query["rm"] = ["1" if options.get("Remove") else "0"]
    if options.get("Squash"):
        if version_less(client_version, "1.25"):
            raise EngineError(
                f'"squash" requires API version 1.25, but the Docker daemon API version is {client_version}'
            )
        query["squash"] = ["1"]
    isolation = str(options.get("Isolation") or "")
    if isolation and isolation.lower() != "default":  # api/types/container/host_config.go IsDefault
        query["isolation"] = [isolation]
    for key, field in (("cpusetcpus", "CPUSetCPUs"), ("networkmode", "NetworkMode"), ("cpusetmems", "CPUSetMems")):
        query[key] = [str(options.get(field) or "")]
    for key, field in (
        ("cpushares", "CPUShares"),
        ("cpuquota", "CPUQuota"),
        ("cpuperiod", "CPUPeriod"),
        ("memory", "Memory"),
        ("memswap", "MemorySwap"),
    ):
        query[key] = [str(options.get(field) or 0)]
    query["cgroupparent"] = [str(options.get("CgroupParent") or "")]
    query["shmsize"] = [str(options.get("ShmSize") or 0)]
    query["dockerfile"] = [str(options.get("Dockerfile") or "")]
    query["target"] = [""]
    query["ulimits"] = [_sorted_json(options.get("Ulimits"))]
    query["buildargs"] = [_sorted_json(options.get("BuildArgs"))]
    query["labels"] = [_sorted_json(options.get("Labels"))]
    query["cachefrom"] = [_sorted_json(options.get("CacheFrom"))]
    return [(key, value) for key in sorted(query) for value in query[key]]


def registry_config_header(options: dict) -> str:
    """image_build.go:26-32: json.Marshal(AuthConfigs), base64url; each types.AuthConfig with its empty fields left
    out (vendor/github.com/docker/docker/api/types/auth.go)."""
    auths = options.get("AuthConfigs")
    if auths is not None:
        auths = {key: {f: v for f, v in auth.items() if v} for key, auth in auths.items()}
    return base64.urlsafe_b64encode(_sorted_json(auths).encode()).decode()


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
        return {name: _decode_field(kind[name], value) for name, value in _go_keys(item, kind).items()}
    if kind == "string" and not isinstance(item, str):
        raise ValueError(f"json: cannot unmarshal {type(item).__name__} into Go value of type string")
    if kind == "int64" and _go_int64(item) is None:
        raise ValueError(f"json: cannot unmarshal number {item} into Go value of type int64")
    return item


def decode_json_message(line: bytes) -> dict:
    """json.Unmarshal of one progress line into cluster.JSONMessage (encoding/json's key matching, see _go_keys);
    ValueError when the line is not a JSON object or a known field has the wrong type, and the caller skips the line.
    errorDetail and progressDetail given as objects, even empty ones, count as set."""
    value = go_json_loads(line)
    if not isinstance(value, dict):
        raise ValueError("json: cannot unmarshal into Go value of type cluster.JSONMessage")
    return {
        name: _decode_field(JSON_MESSAGE_FIELDS[name], item)
        for name, item in _go_keys(value, JSON_MESSAGE_FIELDS).items()
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


def error_json_message(code: int, message: str) -> bytes:
    """api/utils.go:28-46: sendErrorJSONMessage, empty fields left out."""
    detail = {key: value for key, value in (("code", code), ("message", message)) if value}
    return go_json({**({"error": message} if message else {}), "errorDetail": detail})


# ------------------------------------------------------------------------------------------------ API
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade"}
HOP_BY_HOP |= {"content-length", "host", "expect"}  # http.server answers "Expect: 100-continue" itself
NOT_IN_STAND_IN = "{} {}: swarm serves this route; the placement stand-in does not implement it"


class ApiError(Exception):
    """An answer through http.Error (api/utils.go:23-26): plain text, the status given."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def _route(pattern: str) -> re.Pattern:
    # api/primary.go:184-185: every route also under /v{version:[0-9]+.[0-9]+}.
    return re.compile(r"(?:/v(?P<version>[0-9]+.[0-9]+))?" + pattern)


ROUTES = [  # api/primary.go:35-105 (method, path, handler)
    ("HEAD", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("GET", r"/_ping", "ping"),
    ("GET", r"/events", "not_in_stand_in"),
    ("GET", r"/info", "get_info"),
    ("GET", r"/version", "get_version"),
    ("GET", r"/images/json", "get_images_json"),
    ("GET", r"/images/viz", "not_implemented"),
    ("GET", r"/images/search", "proxy_random"),
    ("GET", r"/images/get", "not_in_stand_in"),
    ("GET", r"/images/(?P<name>.*)/get", "proxy_image_get"),
    ("GET", r"/images/(?P<name>.*)/history", "proxy_image"),
    ("GET", r"/images/(?P<name>.*)/json", "proxy_image"),
    ("GET", r"/containers/ps", "get_containers_json"),
    ("GET", r"/containers/json", "get_containers_json"),
    ("GET", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/export", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/changes", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/json", "get_container_json"),
    ("GET", r"/containers/(?P<name>.*)/top", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/logs", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/stats", "proxy_container"),
    ("GET", r"/containers/(?P<name>.*)/attach/ws", "not_in_stand_in"),
    ("GET", r"/exec/(?P<execid>.*)/json", "proxy_container"),
    ("GET", r"/networks", "get_networks"),
    ("GET", r"/networks/(?P<networkid>.*)", "get_network"),
    ("GET", r"/volumes", "not_in_stand_in"),
    ("GET", r"/volumes/(?P<volumename>.*)", "not_in_stand_in"),
    ("POST", r"/auth", "proxy_random"),
    ("POST", r"/commit", "post_commit"),
    ("POST", r"/build", "post_build"),
    ("POST", r"/images/create", "post_images_create"),
    ("POST", r"/images/load", "not_in_stand_in"),
    ("POST", r"/images/(?P<name>.*)/push", "proxy_image_push"),
    ("POST", r"/images/(?P<name>.*)/tag", "post_tag_image"),
    ("POST", r"/containers/create", "post_containers_create"),
    ("POST", r"/containers/(?P<name>.*)/kill", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/pause", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/unpause", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/rename", "post_rename_container"),
    ("POST", r"/containers/(?P<name>.*)/restart", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/start", "post_containers_start"),
    ("POST", r"/containers/(?P<name>.*)/stop", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/update", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/wait", "proxy_container_and_force_refresh"),
    ("POST", r"/containers/(?P<name>.*)/resize", "proxy_container"),
    ("POST", r"/containers/(?P<name>.*)/attach", "proxy_hijack"),
    ("POST", r"/containers/(?P<name>.*)/copy", "proxy_container"),
    ("POST", r"/containers/(?P<name>.*)/exec", "post_containers_exec"),
    ("POST", r"/exec/(?P<execid>.*)/start", "post_exec_start"),
    ("POST", r"/exec/(?P<execid>.*)/resize", "proxy_container"),
    ("POST", r"/networks/create", "not_in_stand_in"),
    ("POST", r"/networks/(?P<networkid>.*)/connect", "proxy_network_connect"),
    ("POST", r"/networks/(?P<networkid>.*)/disconnect", "not_in_stand_in"),
    ("POST", r"/volumes/create", "not_in_stand_in"),
    ("PUT", r"/containers/(?P<name>.*)/archive", "proxy_container"),
    ("DELETE", r"/containers/(?P<name>.*)", "delete_containers"),
    ("DELETE", r"/images/(?P<name>.*)", "delete_images"),
    ("DELETE", r"/networks/(?P<networkid>.*)", "not_in_stand_in"),
    ("DELETE", r"/volumes/(?P<name>.*)", "not_in_stand_in"),
]
COMPILED_ROUTES = [(method, _route(pattern), handler) for method, pattern, handler in ROUTES]


def bool_value(query: dict[str, list[str]], key: str) -> bool:
    """api/utils.go:334-337."""
    value = (query.get(key) or [""])[0].strip().lower()
    return value not in ("", "0", "no", "false", "none")


class ApiHandler(http.server.BaseHTTPRequestHandler):
    """The primary router (api/primary.go, api/handlers.go, api/utils.go) over HTTP/1.1."""

    protocol_version = "HTTP/1.1"
    cluster: Cluster  # set on the subclass the server makes

    # --- plumbing
    def setup(self) -> None:
        self.tls_failed = False
        context = getattr(self.server, "tls_context", None)
        if context is not None:  # api/server.go:66-69: the listener speaks TLS
            try:
                self.request = context.wrap_socket(self.request, server_side=True)
            except (ssl.SSLError, OSError) as error:
                log("error", f"http: TLS handshake error from {self.address_string()}: {error}")
                self.tls_failed = True
        super().setup()

    def handle(self) -> None:
        if not self.tls_failed:
            try:
                super().handle()
            except (ConnectionError, ssl.SSLError, TimeoutError):
                self.close_connection = True

    def address_string(self) -> str:
        return str(self.client_address[0]) if isinstance(self.client_address, tuple) else "@"

    def log_message(self, format: str, *args) -> None:
        log("debug", format % args)

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def do_GET(self) -> None:
        self.dispatch()

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET  # noqa: N815 - the names BaseHTTPRequestHandler calls

    def dispatch(self) -> None:
        parts = urlsplit(self.path)
        self.url_path, self.raw_query = unquote(parts.path), parts.query
        self.query = parse_qs(parts.query, keep_blank_values=True)
        self.began = self.chunked = False
        self.body_done = self.headers.get("Content-Length", "0") == "0" and "chunked" not in self.headers.get(
            "Transfer-Encoding", ""
        )
        self.body_left: int | None = None
        self.chunk_end_pending = False
        log("debug", "HTTP request received", method=self.command, uri=self.path)
        for method, pattern, name in COMPILED_ROUTES:
            match = pattern.fullmatch(self.url_path) if method == self.command else None
            if match:
                self.vars = {k: v for k, v in match.groupdict().items() if v is not None}
                self.api_version = self.vars.pop("version", "")
                self._run(getattr(self, name))
                break
        else:
            self.http_error("404 page not found", 404, quiet=True)  # gorilla/mux's NotFound
        if not self.body_done:
            self.close_connection = True

    def _run(self, handler) -> None:
        try:
            handler()
        except ApiError as error:
            self.discard_unread_body()
            self.http_error(str(error), error.status)
        except GoPanicError as panic:  # net/http recovers a handler's panic by dropping the connection
            log("error", f"http: panic serving {self.address_string()}: {panic}")
            self.close_connection = True
        except (ConnectionError, ssl.SSLError, BrokenPipeError):
            self.close_connection = True
        except Exception as error:  # a fault of the stand-in itself: say so rather than hang the client
            log("error", f"stand-in fault serving {self.command} {self.path}: {error!r}")
            self.http_error(f"placement stand-in fault: {error!r}", 500)
        if self.began and self.chunked:
            self._end()

    # --- request bodies
    def body_chunks(self):
        """The request body as it arrives (Content-Length or chunked), from where an earlier reader left it: what
        was read stays read, as with Go's request body."""
        if self.body_done:
            return
        if "chunked" in self.headers.get("Transfer-Encoding", ""):
            while True:
                if self.chunk_end_pending:
                    self.rfile.readline(65537)
                    self.chunk_end_pending = False
                size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                data = self.rfile.read(size)
                self.chunk_end_pending = True
                yield data
        else:
            if self.body_left is None:
                self.body_left = int(self.headers.get("Content-Length", "0"))
            while self.body_left > 0:
                data = self.rfile.read(min(self.body_left, 65536))
                if not data:
                    break
                self.body_left -= len(data)
                yield data
        self.body_done = True

    def read_body(self) -> bytes:
        return b"".join(self.body_chunks())

    def discard_unread_body(self) -> None:
        """Go's net/http (server.go, body.Close with maxPostHandlerReadBytes): a body the handler left unread is
        read and dropped, up to 256 KiB, before the answer goes out, so a client still sending it reads the
        answer; a larger rest closes the connection."""
        left = MAX_POST_HANDLER_READ_BYTES
        for chunk in self.body_chunks():
            left -= len(chunk)
            if left < 0:
                self.close_connection = True
                return

    def read_body_upto(self, limit: int) -> bytes:
        """io.LimitReader over the body: at most limit bytes (the rest stays unread)."""
        data = b""
        for chunk in self.body_chunks():
            data += chunk
            if len(data) >= limit:
                break
        return data[:limit]

    # --- answers
    def http_error(self, message: str, status: int, quiet: bool = False) -> None:
        if not quiet:
            log("error", f"HTTP error: {message}", status=status)
        if self.began:  # a second WriteHeader: Go logs it and the client gets what was already sent
            self.close_connection = True
            return
        self.send_bytes(
            status, (message + "\n").encode(), "text/plain; charset=utf-8", {"X-Content-Type-Options": "nosniff"}
        )

    def send_bytes(self, status: int, payload: bytes, content_type: str | None, headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in {"Content-Type": content_type, **(headers or {})}.items():
            if value is not None:
                self.send_header(name, value)
        if status not in (204, 304):
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD" and status not in (204, 304):
            self.wfile.write(payload)
        self.wfile.flush()
        self.began = True

    def send_json(self, status: int, document: object) -> None:
        self.send_bytes(status, go_json(document), "application/json")

    def _begin(self, status: int, headers: list[tuple[str, str]], length: str | None) -> None:
        """Start an answer whose body follows: with the engine's length, or chunked."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        bodyless = self.command == "HEAD" or status in (204, 304) or 100 <= status < 200
        if length is not None:
            self.send_header("Content-Length", length)
        elif not bodyless:
            self.send_header("Transfer-Encoding", "chunked")
            self.chunked = True
        self.end_headers()
        self.wfile.flush()
        self.began = True

    def _write(self, data: bytes) -> None:
        if not data:
            return
        if self.chunked:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        else:
            self.wfile.write(data)
        self.wfile.flush()  # api/flusher.go: every write is flushed

    def _end(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        self.chunked = False

    # --- proxying (api/utils.go:82-142)
    def proxy(self, engine: Engine, path=None, raw_query=None, callback=None, body: bytes | None = None) -> None:
        path = self.url_path if path is None else path
        raw_query = self.raw_query if raw_query is None else raw_query
        target = quote(path, safe="/:@!$&'()*+,;=-._~") + (f"?{raw_query}" if raw_query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if body is not None:  # already read by the handler
            headers["Content-Length"] = str(len(body))
        elif "Content-Length" in self.headers and "chunked" not in self.headers.get("Transfer-Encoding", ""):
            headers["Content-Length"] = self.headers["Content-Length"]
        body = body if body is not None else None if self.body_done else self.body_chunks()
        scheme = "https" if engine.tls else "http"
        try:
            connection = http.client.HTTPConnection("engine")
            connection.sock = _dial(engine.addr, engine.tls, PROXY_DIAL_TIMEOUT)
            connection.request(self.command, target, body=body, headers={"Host": engine.addr, **headers})
            response = connection.getresponse()
        except (OSError, http.client.HTTPException, ValueError) as error:
            kind, text = _failure(error)
            text = f"dial tcp {engine.addr}: {text}" if kind in ("refused", "timeout") else text
            failure = EngineError(
                f"{self.command.title()} {scheme}://{engine.addr}{target}: {text}", connection=kind == "refused"
            )
            engine.check_connection_err(failure)  # proxyContainer and friends check the proxy's error
            raise ApiError(str(failure), 500) from None
        try:
            headers_out = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
            self._begin(response.status, headers_out, response.getheader("Content-Length"))
            if self.command != "HEAD":
                while data := response.read1(65536):
                    self._write(data)
        finally:
            connection.close()
        engine.check_connection_err(None)
        if callback is not None:
            callback(response)

    def hijack(self, engine: Engine, path: str) -> None:
        """api/utils.go:266-332: the raw connection, both ways, once the request went to the engine."""
        try:
            upstream = HijackedConnection(engine.addr, engine.tls)
        except OSError as error:
            kind, text = _failure(error)
            failure = EngineError(f"dial tcp {engine.addr}: {text}", connection=kind == "refused")
            engine.check_connection_err(failure)
            raise ApiError(str(failure), 500) from None
        target = quote(path, safe="/:@!$&'()*+,;=-._~") + (f"?{self.raw_query}" if self.raw_query else "")
        lines = [f"{self.command} {target} HTTP/1.1", f"Host: {engine.addr}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items() if k.lower() != "host"]
        log("debug", "Proxy hijack request", addr=engine.addr, request=lines[0])
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.read_body())
        self.began, self.close_connection = True, True

        def inbound() -> None:
            try:
                while data := self.rfile.read1(65536):
                    upstream.sendall(data)
                upstream.close_write()  # utils.go:301-309: the engine sees the end of stdin
            except OSError:
                pass

        threading.Thread(target=inbound, daemon=True).start()
        try:
            while data := upstream.recv(65536):
                self.wfile.write(data)
                self.wfile.flush()
        except OSError:
            pass
        finally:
            upstream.close()
        engine.check_connection_err(None)

    # --- lookups (api/utils.go:48-71)
    def container_from_vars(self, name: str | None = None) -> tuple[str, Container]:
        if name is None and "name" in self.vars:
            name = self.vars["name"]
        if name is not None:
            container = self.cluster.container(name)
            if container is None:
                raise ApiError(f"No such container: {name}", 404)
            if not container.engine.is_healthy():
                raise ApiError(f"Container {name} running on unhealthy node {container.engine.name}", 500)
            return name, container
        exec_id = self.vars.get("execid", "")
        for container in self.cluster.containers():
            if exec_id in (container.info.get("ExecIDs") or []):
                return "", container
        raise ApiError(f"Exec {exec_id} not found", 404)

    # --- handlers
    def ping(self) -> None:
        self.send_bytes(200, b"OK", "text/plain; charset=utf-8")

    def not_implemented(self) -> None:
        raise ApiError("Not supported in clustering mode.", 501)  # api/handlers.go:1530-1532

    def not_in_stand_in(self) -> None:
        raise ApiError(NOT_IN_STAND_IN.format(self.command, self.url_path), 501)

    def get_version(self) -> None:
        """api/handlers.go:116-138."""
        document = {"Version": f"swarm/{VERSION}", "ApiVersion": API_VERSION, "GitCommit": GITCOMMIT}
        document |= {"GoVersion": GO_VERSION, "Os": "linux", "Arch": go_arch(), "KernelVersion": os.uname().release}
        self.send_json(200, document)

    def get_info(self) -> None:
        """api/handlers.go:42-113: cluster totals; the status rows in SystemStatus (DriverStatus below API 1.22)."""
        cluster = self.cluster
        status = cluster.status()
        if self.api_version and version_less(self.api_version, "1.22"):
            status = [[key[1:] if key.startswith(" ") else "\b" + key, value] for key, value in status]
        containers = cluster.containers()
        paused = sum(1 for c in containers if c.state.get("Paused"))
        running = sum(1 for c in containers if not c.state.get("Paused") and c.state.get("Running"))
        images = [i for i, _ in cluster.images() if _image_listed(i, Filters({}), False)]
        self.send_json(
            200, info_document(cluster, status, len(containers), running, paused, len(images), self.api_version)
        )

    def get_containers_json(self) -> None:
        """api/handlers.go:389-586."""
        query = self.query
        show_all, before = bool_value(query, "all"), None
        try:
            limit = go_atoi((query.get("limit") or [""])[0])
        except ValueError:
            limit = 0
        if (query.get("before") or [""])[0]:
            before = self.cluster.container(query["before"][0])
            if before is None:
                raise ApiError(f"No such container {query['before'][0]}", 404)
        filters = self._filters(500)
        exited = []
        for value in filters.get("exited"):
            try:
                exited.append(go_atoi(value))
            except ValueError as error:
                raise ApiError(str(error), 500) from None
        show_all = show_all or "exited" in filters.get("status")
        if self.cluster.settings.refresh_on_node_filter:
            for node in filters.get("node"):
                for engine in self.cluster.active_engines():
                    if engine.name == node:
                        engine._quietly(functools.partial(engine.refresh_containers, True))
        if self.cluster.settings.container_name_refresh_filter in filters.get("name"):
            for engine in self.cluster.active_engines():
                engine._quietly(functools.partial(engine.refresh_containers, True))
        every = show_all or before is not None or limit > 0
        candidates = [c for c in self.cluster.containers() if _listed(c, filters, exited, every, show_all)]
        candidates.sort(key=lambda c: str(c.info.get("Created", "")), reverse=True)
        if 0 < limit < len(candidates):
            candidates = candidates[:limit]
        out = []
        for container in candidates:
            if before is not None:
                if container.id == before.id:
                    before = None
                continue
            out.append(ps_entry(container))
        self.send_json(200, out)

    def _filters(self, status: int) -> Filters:
        try:
            return Filters.from_param((self.query.get("filters") or [""])[0])
        except ValueError as error:
            raise ApiError(str(error), status) from None

    def get_container_json(self) -> None:
        """api/handlers.go:589-624: the engine's inspect with the Node object."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        if not container.engine.is_healthy():
            raise ApiError(f"Container {name} running on unhealthy node {container.engine.name}", 500)
        try:
            inspect = container.engine.call("GET", f"/containers/{container.id}/json")
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        for bindings in ((inspect.get("NetworkSettings") or {}).get("Ports") or {}).values():
            for binding in bindings or []:
                if _binds_all({"HostIp": binding.get("HostIp") or ""}) or not _is_ip(binding.get("HostIp")):
                    binding["HostIp"] = container.engine.ip
        document = {}
        for key, value in inspect.items():  # ContainerJSONBase puts Node after LogPath
            document[key] = value
            if key == "LogPath":
                document["Node"] = container.engine.node()
        document.setdefault("Node", container.engine.node())
        self.send_json(200, document)

    def post_containers_create(self) -> None:
        """api/handlers.go:627-687."""
        try:
            body = json.loads(self.read_body() or b"null")
        except ValueError as error:
            raise ApiError(str(error), 400) from None
        config = create_config(body)
        auth = decode_auth(self.headers.get("X-Registry-Auth"))
        try:
            config.validate()
        except ValueError as error:
            raise ApiError(str(error), 500) from None
        name = (self.query.get("name") or [""])[0]
        try:
            container = self.cluster.create_container(config, name, auth)
        except (SchedulingError, EngineError, ExprError) as error:
            raise ApiError(str(error), 409 if str(error).startswith("Conflict") else 500) from None
        self.send_bytes(201, json.dumps({"Id": container.id}, separators=(",", ":")).encode(), "application/json")

    def delete_containers(self) -> None:
        """api/handlers.go:691-710."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"Container {name} not found", 404)
        try:
            container.engine.remove_container(container, bool_value(self.query, "force"), bool_value(self.query, "v"))
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)

    def post_containers_start(self) -> None:
        """api/handlers.go:946-979: an empty body (or null) starts as it was created."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        body = self.read_body()
        host_config = None if len(body) <= 2 or body == b"null" else body
        if host_config is not None:
            try:
                json.loads(host_config)
            except ValueError as error:
                raise ApiError(str(error), 400) from None
        try:
            container.engine.start_container(container, host_config)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)

    def post_containers_exec(self) -> None:
        """api/handlers.go:990-1021: the exec is remembered on the container so its start finds the engine."""
        name = self.vars["name"]
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container {name}", 404)
        try:
            exec_config = json.loads(self.read_body() or b"null")
        except ValueError as error:
            raise ApiError(str(error), 400) from None
        if not isinstance(exec_config, dict) or not exec_config.get("Cmd"):
            raise ApiError("No exec command specified", 400)
        try:
            created = container.engine.call("POST", f"/containers/{container.id}/exec", body=exec_config)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        container.info.setdefault("ExecIDs", [])
        container.info["ExecIDs"] = [*(container.info["ExecIDs"] or []), created["Id"]]
        self.send_json(201, created)

    def post_exec_start(self) -> None:
        """api/handlers.go:982-987: proxied, or hijacked when the client asks for an upgrade. Swarm then also
        hijacks after the proxied answer (a missing return) and closes the client's connection; here the connection
        is closed without sending the request a second time."""
        if self.headers.get("Connection"):
            self.proxy_hijack()
            return
        self.proxy_container()
        self.close_connection = True

    def proxy_container(self) -> None:
        """api/handlers.go:1202-1223: the name in the path becomes the full ID (its first occurrence)."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        self.proxy(container.engine, path)

    def proxy_container_and_force_refresh(self) -> None:
        """api/handlers.go:1226-1252 (and :1556-1558 for wait, whose headers go out at once)."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        refresh = functools.partial(
            container.engine._quietly, functools.partial(container.engine.refresh_container, container.id, True)
        )
        self.proxy(container.engine, path, callback=lambda response: refresh())

    def proxy_hijack(self) -> None:
        """api/handlers.go:1507-1527."""
        name, container = self.container_from_vars()
        path = self.url_path.replace(name, container.id, 1) if name else self.url_path
        self.hijack(container.engine, path)

    def post_build(self) -> None:
        """api/handlers.go:1392-1475: the form read into build options, the build scheduled and run on one engine
        (Cluster.build_image), each engine message sent on with the engine's name as its id, and after a failure
        the error message. A scheduling refusal is a plain-text 500; once the build started the answer is 200."""
        form, error = parse_form(self.command, self.headers.get("Content-Type"), self.raw_query, self.read_body_upto)
        if error:
            raise ApiError(error, 500)
        options = build_options(form, self.headers.get("X-Registry-Config"))
        failure = {"message": ""}

        def callback(engine_name: str, message: dict, error: EngineError | None) -> None:
            message = {**message, "id": engine_name}
            if error is not None:
                failure["message"] = str(error)
                if match := OS_ERROR.search(str(error)):
                    message["status"] = (
                        f"Could not build image: {error}. Consider using --build-arg 'constraint:ostype=={match[1]}'"
                    )
            if not self.began:
                self._begin(200, [("Content-Type", "application/json")], None)
            self._write(go_json(json_message(message)))

        try:
            self.cluster.build_image(self.body_chunks(), options, callback)
        except (SchedulingError, ExprError) as refusal:
            raise ApiError(str(refusal), 500) from None
        if failure["message"]:
            self._write(error_json_message(1, failure["message"]))

    def post_rename_container(self) -> None:
        """api/handlers.go:1478-1504 with cluster/swarm/cluster.go:1031-1040."""
        _, container = self.container_from_vars()
        new_name = (self.query.get("name") or [""])[0]
        if not self.cluster.check_name_uniqueness(new_name):
            raise ApiError(NAME_CONFLICT.format(new_name), 409)
        try:
            container.engine.call("POST", f"/containers/{container.id}/rename", query={"name": new_name})
            container.engine.refresh_container(container.id, True)
        except EngineError as error:
            raise ApiError(str(error), 500) from None
        self.send_bytes(204, b"", None)

    def post_commit(self) -> None:
        """api/handlers.go:1354-1390: to the container's engine, whose images are re-read after a 201."""
        _, container = self.container_from_vars((self.query.get("container") or [""])[0])
        name = (self.query.get("container") or [""])[0]
        raw_query = self.raw_query.replace(name, container.id, 1) if name else self.raw_query
        engine = container.engine

        def refresh(response) -> None:
            if response.status == 201:
                engine._quietly(engine.refresh_images)

        self.proxy(engine, raw_query=raw_query, callback=refresh)

    def post_images_create(self) -> None:
        """api/handlers.go:757-813 with cluster/swarm/cluster.go:659-701: a pull on every validated engine."""
        image = (self.query.get("fromImage") or [""])[0]
        if not image:
            raise ApiError(NOT_IN_STAND_IN.format("POST", "/images/create?fromSrc"), 501)
        image = image_ref(image, (self.query.get("tag") or [""])[0])
        auth = decode_auth(self.headers.get("X-Registry-Auth")) or {}
        self._begin(200, [("Content-Type", "application/json")], None)
        lock, outcome = threading.Lock(), {"error": "", "success": False, "other": False}

        def send(engine: Engine, message: dict, error: str = "", success: bool = False) -> None:
            message = {**message, "id": engine.name}
            status = message.get("status", "")
            message["status"] = f"Pulling {image}... : {status}" if status else f"Pulling {image}..."
            with lock:
                outcome["success"] = outcome["success"] or success
                if error:
                    outcome["error"] = error
                    outcome["other"] = outcome["other"] or "image operating system" not in error
                    message["status"] = f"Pulling {image}... : {error}"
                self._write(go_json(json_message(message)))

        def pull(engine: Engine) -> None:
            send(engine, {})
            try:
                engine.pull(image, auth, lambda message: send(engine, message))
            except EngineError as error:
                send(engine, {}, error=str(error))
                return
            send(engine, {}, success=True)

        threads = [threading.Thread(target=pull, args=(e,), daemon=True) for e in self.cluster.active_engines()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if outcome["error"] and (not outcome["success"] or outcome["other"]):
            self._write(error_json_message(1, outcome["error"]))

    def proxy_image_push(self) -> None:
        """api/handlers.go:1282-1304: to the first engine holding the image (with its tag when one is given)."""
        name, tag = self.vars["name"], (self.query.get("tag") or [""])[0]
        wanted = f"{name}:{tag}" if tag else name
        for image, engine in self.cluster.images():
            if image_matches(image, wanted, bool(tag)):
                self.proxy(engine)
                return
        raise ApiError(f"No such image: {wanted}", 404)

    def proxy_image(self) -> None:
        """api/handlers.go:1255-1264."""
        found = self.cluster.image(self.vars["name"])
        if found is None:
            raise ApiError(f"No such image: {self.vars['name']}", 404)
        self.proxy(found[1])

    def proxy_image_get(self) -> None:
        """api/handlers.go:1267-1279."""
        name = self.vars["name"]
        for image, engine in self.cluster.images():
            if image_matches(image, name, ":" in name):
                self.proxy(engine)
                return
        raise ApiError(f"No such image: {name}", 404)

    def proxy_random(self) -> None:
        """api/handlers.go:1333-1351."""
        try:
            engine = self.cluster.random_engine()
        except SchedulingError as error:
            raise ApiError(str(error), 500) from None
        self.proxy(engine)

    def post_tag_image(self) -> None:
        """api/handlers.go:1307-1330 with cluster/swarm/cluster.go:1113-1137: every engine holding the image."""
        name = self.vars["name"]
        ref = image_ref((self.query.get("repo") or [""])[0], (self.query.get("tag") or [""])[0])
        errors, found = [], False
        for image, engine in self.cluster.images():
            if not image_matches(image, name, True):
                continue
            found = True
            try:
                familiar, tag, _ = parse_normalized_named(ref)
                engine.call("POST", f"/images/{quote(name, safe=':/@')}/tag", query={"repo": familiar, "tag": tag})
                engine.refresh_images()
            except (EngineError, ValueError) as error:
                errors.append(f"{engine.name}: {error}")
        if not found:
            raise ApiError(f"No such image: {name}", 404)
        if errors:
            raise ApiError("\n".join(errors), 500)
        self.send_bytes(201, b"", None)

    def delete_images(self) -> None:
        """api/handlers.go:1024-1044 with cluster/swarm/cluster.go:491-524: every engine holding it."""
        name, force = self.vars["name"], bool_value(self.query, "force")
        out, errors = [], []
        for engine in {id(e): e for image, e in self.cluster.images() if image_matches(image, name, True)}.values():
            try:
                out += engine.remove_image(name, force)
            except EngineError as error:
                errors.append(f"{engine.name}: {error}")
        if errors:
            raise ApiError("\n".join(errors), 500)
        if not out:
            raise ApiError(f"No such image {name}", 404)
        self.send_json(200, out)

    def get_images_json(self) -> None:
        """api/handlers.go:180-269: grouped by ID with their tags merged; `node` picks engines."""
        filters = self._filters(500)
        if self.raw_query and (self.query.get("filter") or [""])[0] and version_less(self.api_version, "1.28"):
            filters.fields.setdefault("reference", {})[self.query["filter"][0]] = True
        dangling = filters.fields.get("dangling")
        if dangling is not None and not (
            filters.exact_match("dangling", "false") or filters.exact_match("dangling", "true")
        ):
            raise ApiError("Invalid filter: 'type'='dangling'", 400)
        nodes, groups = filters.get("node"), {}
        for image, engine in self.cluster.images():
            if not _image_listed(image, filters, bool_value(self.query, "all")):
                continue
            if nodes and engine.name not in nodes and engine.id not in nodes:
                continue
            entry = groups.setdefault(image["Id"], {**image, "RepoTags": [], "RepoDigests": []})
            entry["RepoTags"] += image.get("RepoTags") or []
            entry["RepoDigests"] += image.get("RepoDigests") or []
        images = [
            {**i, "RepoTags": list(dict.fromkeys(i["RepoTags"])), "RepoDigests": list(dict.fromkeys(i["RepoDigests"]))}
            for i in groups.values()
        ]
        images.sort(key=lambda i: i.get("Created", 0), reverse=True)
        self.send_json(200, images)

    def get_networks(self) -> None:
        """api/handlers.go:272-303 with cluster/network.go:50-108: local networks named engine/name."""
        filters = self._filters(400)
        for kind in filters.get("type"):
            if kind not in ("custom", "builtin"):
                raise ApiError(f"Invalid filter: 'type'='{kind}'", 400)
        out = []
        for network in filter_networks(self.cluster.networks(), filters):
            resource = dict(network.resource)
            if resource.get("Scope") == "local":
                resource["Name"] = f"{network.engine.name}/{network.name}"
            out.append(resource)
        self.send_json(200, out)

    def get_network(self) -> None:
        """api/handlers.go:306-317 with cluster/network.go:114-136: endpoints without duplicates."""
        network_id = self.vars["networkid"]
        network = find_network(unique_networks(self.cluster.networks()), network_id)
        if network is None:
            raise ApiError(f"No such network: {network_id}", 404)
        endpoints: dict[str, str] = {}
        for index, endpoint in (network.resource.get("Containers") or {}).items():
            endpoint_id = endpoint.get("EndpointID", "")
            if endpoint_id not in endpoints or endpoint_id not in index:
                endpoints[endpoint_id] = index
        containers = {index: network.resource["Containers"][index] for index in endpoints.values()}
        self.send_json(200, {**network.resource, "Containers": containers})

    def proxy_network_connect(self) -> None:
        """api/handlers.go:1157-1199: to the engine of the container being connected."""
        network_id = self.vars["networkid"]
        network = find_network(unique_networks(self.cluster.networks()), network_id)
        if network is None:
            raise ApiError(f"No such network: {network_id}", 404)
        body = self.read_body()
        try:
            name = json.loads(body).get("Container", "")
        except (ValueError, AttributeError):
            raise ApiError("Container is not specified", 404) from None
        container = self.cluster.container(name)
        if container is None:
            raise ApiError(f"No such container: {name}", 404)
        engine = container.engine

        def refresh(response) -> None:
            engine._quietly(engine.refresh_networks)
            engine._quietly(functools.partial(engine.refresh_container, container.id, True))

        self.proxy(engine, self.url_path.replace(network_id, network.id, 1), callback=refresh, body=body)


def _is_ip(text: str | None) -> bool:
    try:
        ipaddress.ip_address(text or "")
        return True
    except ValueError:
        return False


def go_arch() -> str:
    machine = os.uname().machine
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386"}.get(machine, machine)


def info_document(cluster: Cluster, status, containers: int, running: int, paused: int, images: int, version: str):
    """types.Info as api/handlers.go:43-112 fills it, every field of the struct present."""
    key = "DriverStatus" if version and version_less(version, "1.22") else "SystemStatus"
    document = {"ID": "", "Containers": containers, "ContainersRunning": running, "ContainersPaused": paused}
    document |= {"ContainersStopped": containers - running - paused, "Images": images, "Driver": ""}
    document |= {"DriverStatus": None, "SystemStatus": None, key: status}
    document |= {"Plugins": {"Volume": None, "Network": None, "Authorization": None, "Log": None}}
    for flag in ("MemoryLimit", "SwapLimit", "KernelMemory", "CpuCfsPeriod", "CpuCfsQuota", "CPUShares", "CPUSet"):
        document[flag] = flag != "KernelMemory"
    document |= {"IPv4Forwarding": True, "BridgeNfIptables": True, "BridgeNfIp6tables": True, "Debug": False}
    document |= {"NFd": 0, "OomKillDisable": True, "NGoroutines": 0}
    document |= {"SystemTime": datetime.datetime.now().astimezone().isoformat(timespec="microseconds")}
    document |= {"LoggingDriver": "", "CgroupDriver": "", "NEventsListener": 0, "KernelVersion": os.uname().release}
    document |= {"OperatingSystem": "linux", "OSType": "", "Architecture": go_arch(), "IndexServerAddress": ""}
    document |= {"RegistryConfig": None, "NCPU": cluster.total_cpus(), "MemTotal": cluster.total_memory()}
    document |= {"DockerRootDir": "", "HttpProxy": os.environ.get("http_proxy", "")}
    document |= {"HttpsProxy": os.environ.get("https_proxy", ""), "NoProxy": os.environ.get("no_proxy", "")}
    document |= {"Name": socket.gethostname(), "Labels": None, "ExperimentalBuild": False}
    document |= {"ServerVersion": f"swarm/{VERSION}", "ClusterStore": "", "ClusterAdvertise": "", "Runtimes": None}
    swarm = {"NodeID": "", "NodeAddr": "", "LocalNodeState": "", "ControlAvailable": False, "Error": ""}
    document |= {"DefaultRuntime": "", "Swarm": {**swarm, "RemoteManagers": None}, "LiveRestoreEnabled": False}
    commit = {"ID": "", "Expected": ""}
    document |= {"Isolation": "", "InitBinary": "", "ContainerdCommit": commit, "RuncCommit": commit}
    return document | {"InitCommit": commit, "SecurityOptions": None}


def _listed(container: Container, filters: Filters, exited: list[int], every: bool, show_all: bool) -> bool:
    """api/handlers.go:454-531: which containers ps shows."""
    state = container.state
    if (not state.get("Running") or not container.engine.is_healthy()) and not every:
        return False
    if str(container.summary.get("Image", "")).split(":")[0] == "swarm" and not show_all:
        return False
    names = container.names
    if names and not filters.match("name", names[0].removeprefix("/")):
        return False
    if not names and filters.get("name"):
        return False
    labels = container.config.labels if container.config else {}
    if not filters.match("id", container.id) or not filters.match_kv_list("label", labels):
        return False
    if not filters.match("status", state_string(state)) or not filters.match("node", container.engine.name):
        return False
    if filters.include("volume"):
        mounts = container.info.get("Mounts") or []
        if not any(v in (m.get("Name"), m.get("Destination")) for v in filters.get("volume") for m in mounts):
            return False
    if filters.include("network"):
        networks = (container.summary.get("NetworkSettings") or {}).get("Networks") or {}
        wanted = filters.get("network")
        if not any(
            v in networks or any(str((n or {}).get("NetworkID", "")).startswith(v) for n in networks.values())
            for v in wanted
        ):
            return False
    return not exited or any(code == state.get("ExitCode") and not state.get("Running") for code in exited)


def ps_entry(container: Container) -> dict:
    """api/handlers.go:552-580: Status fresh (or "Host Down"), the config's labels, names under /<node>."""
    entry = dict(container.summary)
    entry["Status"] = full_state_string(container.state) if container.engine.is_healthy() else "Host Down"
    entry["Labels"] = container.config.labels if container.config else entry.get("Labels")
    entry["Names"] = [f"/{container.engine.name}{name}" for name in container.names]
    ports = []
    for port in entry.get("Ports") or []:
        port = dict(port)
        if _is_ip(port.get("IP")) and ipaddress.ip_address(port["IP"]).is_unspecified:
            port["IP"] = container.engine.ip
        ports.append(port)
    entry["Ports"] = ports
    return entry


def _image_listed(image: dict, filters: Filters, show_all: bool) -> bool:
    """cluster/image.go:92-165: tagged images (or all), labels, reference globs, dangling."""
    tags = list(image.get("RepoTags") or [])
    digests = list(image.get("RepoDigests") or [])
    if not (
        show_all
        or (tags and tags[0] != "<none>:<none>")
        or (digests and digests[0] != "<none>@<none>")
        or filters.include("dangling")
    ):
        return False
    if filters.fields and not filters.match_kv_list("label", image.get("Labels")):
        return False
    if filters.include("reference"):
        candidates = {*tags, *digests, *(parse_repository_tag(r)[0] for r in (*tags, *digests))}
        patterns = [re.escape(p).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") for p in filters.get("reference")]
        if not any(re.fullmatch(p, c) for p in patterns for c in candidates):
            return False
    if filters.include("dangling"):
        first = (tags or ["<none>:<none>"])[0]
        if filters.exact_match("dangling", "true") and first != "<none>:<none>":
            return False
        if filters.exact_match("dangling", "false") and first == "<none>:<none>":
            return False
    return True


def filter_networks(networks: list[Network], filters: Filters) -> list[Network]:
    """cluster/network.go:50-108."""

    def included(network: Network) -> bool:
        predefined = network.name in ("none", "host", "bridge")
        for kind in filters.get("type"):
            if (kind == "custom" and predefined) or (kind == "builtin" and not predefined):
                return False
        if filters.include("label") and not filters.match_kv_list("label", network.resource.get("Labels")):
            return False
        if filters.include("driver") and not filters.exact_match("driver", str(network.resource.get("Driver", ""))):
            return False
        return all(network.engine.name == node for node in filters.get("node"))

    wanted = filters.get("name") + filters.get("id")
    if not wanted:
        return [n for n in unique_networks(networks) if included(n)]
    out = [n for n in (find_network(networks, w) for w in wanted) if n is not None and included(n)]
    for _ in wanted:
        out += [n for n in unique_networks([n for n in networks if filters.match("name", n.name)]) if included(n)]
    return unique_networks(out)


def create_config(body: object) -> ContainerConfig:
    """api/handlers.go:632-668 with cluster/config.go:24-60: the top-level Memory, MemorySwap, CpuShares and Cpuset
    of old clients move into HostConfig; MemorySwappiness defaults to -1."""
    if not isinstance(body, dict):
        raise ApiError("json: cannot unmarshal into Go value of type cluster.OldContainerConfig", 400)
    host_config = body.get("HostConfig") or {}
    if not isinstance(host_config, dict):
        raise ApiError("json: cannot unmarshal into Go value of type container.HostConfig", 400)
    host_config = {"MemorySwappiness": -1, **host_config}
    for key in ("Memory", "MemorySwap", "CpuShares"):
        for where in (body, host_config):
            if where.get(key) is not None and (not isinstance(where[key], int) or isinstance(where[key], bool)):
                raise ApiError(f"json: cannot unmarshal {type(where[key]).__name__} into Go value of type int64", 400)
    for old, new in (
        ("Memory", "Memory"),
        ("MemorySwap", "MemorySwap"),
        ("CpuShares", "CpuShares"),
        ("Cpuset", "CpusetCpus"),
    ):
        if body.get(old) and body[old] != host_config.get(new):
            host_config[new] = body[old]
    config = {
        k: v
        for k, v in body.items()
        if k not in ("HostConfig", "NetworkingConfig", "Memory", "MemorySwap", "CpuShares", "Cpuset")
    }
    return ContainerConfig.build(config, host_config, body.get("NetworkingConfig") or {})


# ------------------------------------------------------------------------------------------------ serving
class TcpServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        log("debug", f"connection from {client_address} ended: {sys.exc_info()[1]}")


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        log("debug", f"connection ended: {sys.exc_info()[1]}")


def listen(host: str, handler: type, tls: ssl.SSLContext | None):
    """api/server.go:79-112 and server_unix.go: tcp://[host]:port or unix:///path (mode 0600)."""
    proto, separator, address = host.partition("://")
    if not separator:
        proto, address = "tcp", host
    if proto == "unix":
        if os.path.exists(address):
            os.unlink(address)
        mask = os.umask(0o777)
        try:
            server = UnixServer(address, handler)
        finally:
            os.umask(mask)
        os.chmod(address, 0o600)
    elif proto == "tcp":
        name, port = split_host_port(address)
        family = socket.AF_INET6 if ":" in name else socket.AF_INET
        server_class = type("Server", (TcpServer,), {"address_family": family})
        anywhere = "::" if family == socket.AF_INET6 else "0.0.0.0"  # noqa: S104 - swarm's -H tcp://:port
        server = server_class((name or anywhere, int(port)), handler)
    else:
        raise FatalError(f"unsupported protocol: {go_quote(proto)}")
    server.tls_context = tls
    log("info", "Listening for HTTP", addr=address, proto=proto)
    return server


def app_help() -> str:
    commands = "\n".join(
        f"  {n}, {s}\t{u}"
        for n, s, u in (
            ("create", "c", "Create a cluster"),
            ("list", "l", "List nodes in a cluster"),
            ("manage", "m", "Manage a docker cluster"),
            ("join", "j", "Join a docker cluster"),
            ("help", "h", "Shows a list of commands or help for one command"),
        )
    )
    return (
        f"Usage: swarm [OPTIONS] COMMAND [arg...]\n\nA Docker-native clustering system\n\n"
        f"Version: {VERSION} ({GITCOMMIT})\n\nCommands:\n{commands}\n\n"
        "Run 'swarm COMMAND --help' for more information on a command.\n"
    )


def manage_help() -> str:
    flags = "\n".join("   " + ", ".join(("--" if len(n) > 1 else "-") + n for n in spec.names) for spec in MANAGE_FLAGS)
    return (
        "Usage: swarm manage [OPTIONS] <discovery>\n\nManage a docker cluster\n\nArguments:\n"
        "   <discovery>    discovery service to use [$SWARM_DISCOVERY]\n                   * file://path/to/file\n\n"
        f"Options:\n{flags}\n"
    )


def main(argv: list[str], environ: dict[str, str]) -> int:
    """cli/cli.go:15-70 then cli/manage.go:216-343."""
    app_name = os.path.basename(argv[0]) if argv else "swarm"
    try:
        global_flags = parse_flags(GLOBAL_FLAGS, argv[1:], environ)
    except UsageError as error:
        print(f"Incorrect Usage.\n\n{app_help()}", flush=True)
        log("fatal", str(error))
        return 1
    if global_flags.is_set("help", "h") and global_flags.values["help"]:
        print(app_help(), end="", flush=True)
        return 0
    if global_flags.values["version"]:
        print(f"{app_name} version {VERSION} ({GITCOMMIT})", flush=True)
        return 0
    level = str(global_flags.values["log-level"]).lower()
    if level not in LOG_LEVELS:
        log("fatal", f'not a valid logrus Level: "{global_flags.values["log-level"]}"')
        return 1
    _log["level"] = LOG_LEVELS[level]
    if not global_flags.is_set("log-level", "l") and global_flags.values["debug"]:
        _log["level"] = LOG_LEVELS["debug"]
    command = COMMANDS.get(global_flags.args[0]) if global_flags.args else None
    if command is None or command == "help":
        print(app_help(), end="", flush=True)  # urfave/cli's default action: the help
        return 0
    if command != "manage":
        log("fatal", f"`swarm {command}` is not implemented by this placement stand-in; only `manage` is")
        return 1
    try:
        flags = parse_flags(MANAGE_FLAGS, command_args(global_flags.args[1:]), environ)
    except UsageError as error:
        heading = str(error) if isinstance(error, FlagFormsError) else "Incorrect Usage."
        print(f"{heading}\n\n{manage_help()}", flush=True)
        log("fatal", str(error))
        return 1
    if flags.values["help"]:
        print(manage_help(), end="", flush=True)
        return 0
    try:
        settings = manage_settings(flags, environ, app_name)
        settings.debug = bool(global_flags.values["debug"])
        return serve(settings)
    except FatalError as error:
        log("fatal", str(error))
        return 1
    except GoPanicError as panic:
        print(f"panic: {panic}", file=sys.stderr, flush=True)
        return 2


def serve(settings: Settings) -> int:
    """cli/manage.go:289-342: the cluster watches discovery, then every host listens until SIGTERM."""
    stop = threading.Event()
    cluster = Cluster(Scheduler(settings.strategy, settings.filters), settings)
    handler = type("Handler", (ApiHandler,), {"cluster": cluster})
    servers = [listen(host, handler, settings.tls.server if settings.tls else None) for host in settings.hosts]
    cluster.start(stop)
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def shutdown(signum, _frame) -> None:
        log("info", f"signal {signal.Signals(signum).name}: stopping")
        stop.set()

    signal.signal(signal.SIGTERM, shutdown)  # as PID 1 the process would ignore SIGTERM without a handler
    signal.signal(signal.SIGINT, shutdown)
    stop.wait()
    for server in servers:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv, dict(os.environ)))
