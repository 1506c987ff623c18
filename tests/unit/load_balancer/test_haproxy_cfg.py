"""The haproxy.cfg the program renders: what it says follows from the config, and the timeouts are upstream's
(codenvy/codenvy haproxy.cfg.erb)."""

from __future__ import annotations

import re

import pytest

from components.load_balancer import AGENTS_PATH, HAPROXY_CERT_PATH, render_haproxy_cfg
from components.master_layout import AGENTS_ALIAS, AGENTS_PORT, SERVER_ALIAS, SERVER_PORT


def frontend(cfg: str, name: str) -> list[str]:
    """The lines of one frontend section, stripped."""
    section = cfg.split(f"frontend {name}\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in section.splitlines()]


def test_haproxy_redirects_http_to_https_when_tls_is_on():
    assert any(
        line.startswith("http-request redirect scheme https") for line in frontend(render_haproxy_cfg(True), "http")
    )


def test_haproxy_serves_agents_over_plain_http_without_the_redirect():
    """Upstream's haproxy.cfg.erb: workspaces fetch agents over HTTP even on an HTTPS site."""
    lines = frontend(render_haproxy_cfg(https=True), "http")
    assert f"acl agent_binaries path_beg {AGENTS_PATH}" in lines
    assert "http-request redirect scheme https code 301 unless agent_binaries" in lines


@pytest.mark.parametrize(("https", "name"), [(True, "https"), (False, "http")])
def test_haproxy_sends_agent_binaries_to_the_agents_service(https, name):
    assert "use_backend agents if agent_binaries" in frontend(render_haproxy_cfg(https), name)


def test_haproxy_serves_tls_with_the_uploaded_certificate():
    assert f"    bind :443 ssl crt {HAPROXY_CERT_PATH}" in render_haproxy_cfg(https=True).splitlines()


def backend_servers(cfg: str) -> dict[str, list[str]]:
    """Backend name -> its `server NAME ADDRESS` pairs."""
    servers: dict[str, list[str]] = {}
    for section in cfg.split("\n\n"):
        lines = section.splitlines()
        if lines and lines[0].startswith("backend "):
            servers[lines[0].split()[1]] = [
                " ".join(line.split()[1:3]) for line in lines if line.startswith("    server")
            ]
    return servers


def test_haproxy_sends_requests_to_the_server():
    assert backend_servers(render_haproxy_cfg(https=True))["codenvy"] == [
        f"{SERVER_ALIAS} {SERVER_ALIAS}:{SERVER_PORT}"
    ]


def test_haproxy_finds_the_agents_service_by_its_alias():
    servers = backend_servers(render_haproxy_cfg(https=True))
    assert servers["agents"] == [f"{AGENTS_ALIAS} {AGENTS_ALIAS}:{AGENTS_PORT}"]


def test_haproxy_serves_plain_http_when_tls_is_off():
    cfg = render_haproxy_cfg(https=False)
    assert "redirect" not in cfg and "ssl" not in cfg and "frontend https" not in cfg


# HAProxy's time units (configuration.txt, "2.5. Time format"); a bare number is milliseconds.
HAPROXY_UNITS_MS = {"us": 0.001, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def defaults_timeouts_ms(cfg: str) -> dict[str, float]:
    """The `defaults` section's timeouts, by name, in milliseconds."""
    section = cfg.split("\ndefaults\n", 1)[1].split("\n\n", 1)[0]
    timeouts = {}
    for words in (line.split() for line in section.splitlines()):
        if words[:1] == ["timeout"]:
            number, unit = re.fullmatch(r"(\d+)([a-z]*)", words[2]).groups()
            timeouts[words[1]] = int(number) * HAPROXY_UNITS_MS[unit or "ms"]
    return timeouts


@pytest.mark.parametrize("https", [True, False])
def test_haproxy_keeps_an_idle_ide_websocket_open_for_an_hour(https):
    """Upstream's haproxy.cfg.erb gives websockets, which send no ping frames, an hour idle. Once a connection
    is a tunnel, HAProxy applies `timeout tunnel` instead of the client and server timeouts, and the client or
    the server one, whichever ends first, when it is not set (configuration.txt, "timeout tunnel")."""
    timeouts = defaults_timeouts_ms(render_haproxy_cfg(https))
    idle = timeouts.get("tunnel", min(timeouts["client"], timeouts["server"]))
    assert idle >= HAPROXY_UNITS_MS["h"]
