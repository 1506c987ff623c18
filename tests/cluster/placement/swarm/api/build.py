"""postBuild's reading of the request: the form, the build options (api/handlers.go:1392-1447)."""

from __future__ import annotations

import re

from ..golang import (
    go_base64_url_decode,
    go_json_loads,
    go_media_type,
    go_parse_int64,
    go_parse_query,
    go_struct,
    go_trim_space,
)
from ..vendored import AUTH_FIELDS

ULIMIT_FIELDS = {"Name": "string", "Hard": "int64", "Soft": "int64"}  # vendor/github.com/docker/go-units/ulimit.go
OS_ERROR = re.compile(r'image operating system "(.+)" cannot be used on this platform')  # api/utils.go:20
FORM_LIMIT = 10 << 20  # net/http parsePostForm (Go 1.7): "10 MB is a lot of text."


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
        return {k: go_struct(v, dict.fromkeys(AUTH_FIELDS, "string")) for k, v in value.items()}
    if not isinstance(value, list):
        return None
    if shape == "strings":
        return [v if isinstance(v, str) else "" for v in value]
    return [None if v is None else go_struct(v, ULIMIT_FIELDS) for v in value]


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
