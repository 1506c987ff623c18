"""`make status`, its pure part: a site's stack outputs and its hosts' answers to the status probe
(components/scripts/site_status.sh) read into one report. No I/O here; scripts/status.py asks and prints."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from components.backups import BackupSettings
from components.config import ReplicationMode, SiteConfig
from components.containers import SITE_LABEL
from components.master_layout import ENGINE_TLS_PORT
from components.placement import TLS_DIR
from components.stack_outputs import StackOutputs

# An age past which a backup or a transfer is reported as stale: a nightly job missed one night.
STALE_AFTER_S = 26 * 3600
# A certificate is reported this long before it expires: time to rotate it (certificates.caGenerations).
EXPIRY_WARNING_DAYS = 30
# What the probe prints before each answer.
SECTION = "== "


@dataclass(frozen=True)
class Check:
    """One line of the report: `ok` None means it could not be told."""

    host: str
    subject: str
    ok: bool | None
    detail: str


def probe_params(site: SiteConfig, host_name: str) -> dict[str, object]:
    """The probe's parameters for one host: the master is asked about backups, transfers, replication and
    placement too, the same paths and names the program gave them."""
    on_master = host_name == site.master.name
    backups = BackupSettings.of(site)
    streams = on_master and site.replication_mode is ReplicationMode.STREAMING
    return {
        "backup_dir": backups.config.directory if on_master else "",
        "engine_port": ENGINE_TLS_PORT,
        "incoming_dir": backups.config.incoming_directory if on_master and site.dr is not None else "",
        "manager": f"{site.site_name}-swarm" if on_master else "",
        "replication_tool": backups.toolbox.path("replication") if streams else "",
        "site_label": f"{SITE_LABEL}={site.site_name}",
        "tls_dir": TLS_DIR,
    }


def sections(answer: str) -> dict[str, list[str]]:
    """The probe's answer split at its `== NAME` lines."""
    found: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in answer.splitlines():
        if line.startswith(SECTION):
            current = found.setdefault(line.removeprefix(SECTION).strip(), [])
        elif current is not None and line.strip():
            current.append(line)
    return found


def host_checks(host: str, answer: str) -> list[Check]:
    """Every check one host's answer holds; a host that did not answer is one failed check."""
    found = sections(answer)
    if "now" not in found:
        return [Check(host, "host", False, f"no answer from the status probe: {answer.strip()[-200:] or '(empty)'}")]
    now = float(found["now"][0])
    checks = container_checks(host, found["containers"])
    if "backup" in found:
        checks.append(archive_check(host, "last backup", found["backup"], now))
    if "transfer" in found:
        checks.append(archive_check(host, "last transfer", found["transfer"], now))
    if "replication" in found:
        checks.append(replication_check(host, found["replication"]))
    if "placement" in found:
        checks.append(placement_check(host, "\n".join(found["placement"])))
    return checks


def container_checks(host: str, lines: list[str]) -> list[Check]:
    """`docker ps` rows (name, state, status): running, and healthy where the container has a healthcheck."""
    rows = [line.split("\t") for line in lines]
    if not rows or len(rows[0]) != 3:
        return [Check(host, "containers", False, "; ".join(lines) or "none of this site's containers here")]
    return [
        Check(host, name, state == "running" and "(unhealthy)" not in status, status) for name, state, status in rows
    ]


def archive_check(host: str, subject: str, lines: list[str], now: float) -> Check:
    """The newest archive (`<mtime> <name>`) and its age."""
    if not lines:
        return Check(host, subject, False, "none yet")
    stamp, _, name = lines[-1].partition(" ")
    age = now - float(stamp)
    return Check(host, subject, age <= STALE_AFTER_S, f"{duration(age)} ago: {name}")


def replication_check(host: str, lines: list[str]) -> Check:
    """The replication status tool's own verdict, its last line (components/scripts/replication_status.sh)."""
    verdict = lines[-1] if lines else "no answer"
    known = verdict.endswith(": healthy") or ": broken" in verdict
    return Check(host, "replication", verdict.endswith(": healthy") if known else None, "; ".join(lines))


def placement_check(host: str, info: str) -> Check:
    """The placement manager's engines and their status, from its /info."""
    try:
        rows = json.loads(info)["SystemStatus"] or []
    except (ValueError, KeyError, TypeError):
        return Check(host, "placement", False, f"the manager did not answer /info ({info.strip()[:80] or 'empty'})")
    engines = dict(swarm_engines(rows))
    healthy = [name for name, status in engines.items() if status == "Healthy"]
    detail = ", ".join(f"{name} {status}" for name, status in engines.items()) or "no engines"
    return Check(host, "placement", bool(engines) and len(healthy) == len(engines), detail)


def swarm_engines(rows: list[list[str]]) -> Iterator[tuple[str, str]]:
    """(address, status) per engine. Standalone Swarm's SystemStatus lists, after ("Nodes", n), a row (name,
    address) for each engine followed by its " └ Status" and other " └ " rows (docker/swarm
    cluster/swarm/cluster.go, Info); names may carry control characters."""
    address = None
    listing = False
    for key, value in rows:
        key = "".join(ch for ch in key if ch.isprintable()).strip()
        if key == "Nodes":
            listing = True
        elif listing and not key.startswith("└"):
            address = value
        elif listing and key == "└ Status" and address is not None:
            yield address, value


def certificate_check(host: str, subject: str, not_after: datetime | None, now: datetime, error: str = "") -> Check:
    if not_after is None:
        return Check(host, subject, None, error or "not read")
    left = not_after - now
    detail = f"expires {not_after:%Y-%m-%d}, in {duration(left.total_seconds())}"
    return Check(host, subject, left.days >= EXPIRY_WARNING_DAYS, detail if left.total_seconds() > 0 else "expired")


def certificates_in(bundle: str) -> list[str]:
    """Each PEM certificate of a bundle: registryCaCert holds every CA generation the site trusts."""
    end = "-----END CERTIFICATE-----"
    return [f"{part.strip()}\n{end}\n" for part in bundle.split(end) if "-----BEGIN CERTIFICATE-----" in part]


def enddate(openssl_answer: str) -> datetime | None:
    """`openssl x509 -noout -enddate`: notAfter=Mar  4 12:00:00 2027 GMT."""
    for line in openssl_answer.splitlines():
        if line.startswith("notAfter="):
            text = " ".join(line.removeprefix("notAfter=").split())
            return datetime.strptime(text, "%b %d %H:%M:%S %Y %Z").replace(tzinfo=UTC)
    return None


def site_line(outputs: Mapping[str, Any]) -> str:
    """Who the report is about, from the stack outputs (StackOutputs; the report runs with any of them missing)."""
    name = StackOutputs.name_of
    role = "standby" if outputs.get(name("standby")) else outputs.get(name("role"), "primary")
    active = "active" if outputs.get(name("active"), True) else "inactive"
    site, version, url = (outputs.get(name(field)) for field in ("site_name", "version", "url"))
    return f"site {site} ({role}, {active}), version {version}, {url}"


def render(outputs: Mapping[str, Any], checks: list[Check]) -> str:
    mark = {True: "ok", False: "FAIL", None: "?"}
    width = max((len(check.subject) for check in checks), default=0)
    lines = [site_line(outputs)]
    lines += [f"{mark[check.ok]:<4} {check.host:<8} {check.subject:<{width}}  {check.detail}" for check in checks]
    failed = sum(check.ok is False for check in checks)
    lines.append(f"{failed} problem(s)" if failed else "healthy")
    return "\n".join(lines) + "\n"


def duration(seconds: float) -> str:
    seconds = int(abs(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
