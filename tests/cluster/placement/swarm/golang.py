"""Go's standard library where swarm's behaviour depends on it: strconv, encoding/json, time, net, net/url,
mime, and the panics Go raises."""

from __future__ import annotations

import base64
import datetime
import json
import re

GO_SPACE = " \t\n\v\f\r\x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"


class GoPanicError(Exception):
    """Where swarm's Go code would panic (an index out of range): the process, or the request, dies."""


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


def open_error(error: OSError, path: str) -> str:
    reason = (error.strerror or str(error)).lower()
    return f"open {path}: {reason}"


def go_int64(value: object) -> int | None:
    """A JSON number as encoding/json stores it into an int64: integer syntax within range, else a type error."""
    if isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63:
        return value
    return None


def go_keys(value: dict, names) -> dict:
    """encoding/json decode.go object(): each key names a field exactly, else without case; the last one wins; a
    null changes nothing."""
    found = {}
    for key, item in value.items():
        name = next((n for n in names if n == key), None) or next((n for n in names if n.lower() == key.lower()), None)
        if name is not None and item is not None:
            found[name] = item
    return found


def go_struct(value: object, fields: dict[str, str]) -> dict:
    """A JSON value decoded into a struct of string and int64 fields, the decoding error ignored: a value of the
    wrong type leaves its field zero."""
    decoded = {name: "" if kind == "string" else 0 for name, kind in fields.items()}
    for name, item in (go_keys(value, fields) if isinstance(value, dict) else {}).items():
        if fields[name] == "string":
            decoded[name] = item if isinstance(item, str) else ""
        else:
            decoded[name] = go_int64(item) or 0
    return decoded


def go_base64_url_decode(text: str) -> bytes | None:
    """base64.URLEncoding.DecodeString (Go 1.7): the URL alphabet with padding, CR and LF skipped; None on error.
    Standard base64 with + or / in it does not decode."""
    text = text.replace("\r", "").replace("\n", "")
    if len(text) % 4 or not re.fullmatch(r"[A-Za-z0-9_-]*={0,2}", text):
        return None
    if text.endswith("=") and (len(text.rstrip("=")) % 4) not in (2, 3):
        return None
    return base64.urlsafe_b64decode(text)
