"""What swarm takes from its vendored packages: API versions, go-units, stringid, naturalsort, image
references, the `filters` parameter and AuthConfig (vendor/github.com/...)."""

from __future__ import annotations

import json
import re
import secrets

from .golang import go_atoi


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


AUTH_FIELDS = ("username", "password", "auth", "email", "serveraddress", "identitytoken", "registrytoken")


def auth_fields(auth: dict) -> dict:
    """types.AuthConfig as Go re-encodes it: known keys (matched without case), email always present."""
    lowered = {str(key).lower(): value for key, value in auth.items()}
    encoded = {key: str(lowered[key]) for key in AUTH_FIELDS if lowered.get(key)}
    return {**encoded, "email": str(lowered.get("email") or "")}
