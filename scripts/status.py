#!/usr/bin/env python3
"""One site's health: `make status STACK=sim`. Reads the stack's outputs with the Pulumi CLI, asks each host
(over SSH as the program reaches it, or locally) with the read-only probe components/scripts/site_status.sh,
reads the certificates' expiry with openssl, and prints one line per check; exit status 1 on any problem.
The reading of the answers is components/site_status.py, tested there with recorded answers."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.config import ConfigError, HostConfig, SiteConfig
from components.config_loader import load_site_config, stack_file_values
from components.host_access import ssh_argv
from components.script_templates import render_script
from components.site_status import (
    Check,
    certificate_check,
    certificates_in,
    enddate,
    host_checks,
    probe_params,
    render,
)

PROJECT_DIR = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60


def stack_outputs(stack: str) -> dict:
    answer = run(["pulumi", "stack", "output", "--json", "--stack", stack], "")
    return json.loads(answer)


def ask_host(site: SiteConfig, host: HostConfig) -> str:
    """The probe's answer from `host`, or what went wrong (which host_checks reports as no answer)."""
    probe = render_script("site_status", **probe_params(site, host.name))
    argv = ["bash", "-s"] if host.ssh is None else [*ssh_argv(host), host.address, "bash -s"]
    try:
        return run(argv, probe)
    except (OSError, subprocess.SubprocessError) as error:
        return str(error)


def site_cas(bundle: str | None, now: datetime) -> list[Check]:
    """Each CA generation of the site's trust bundle (certificates.trustedCas), with its expiry."""
    pems = certificates_in(bundle or "")
    if not pems:
        return [certificate_check("-", "site CA", None, now, "no registryCaCert in the stack outputs")]
    return [
        certificate_check("-", f"site CA {index}", enddate(run(["openssl", "x509", "-noout", "-enddate"], pem)), now)
        for index, pem in enumerate(pems, start=1)
    ]


def served_certificate(site: SiteConfig, now: datetime) -> Check:
    """The certificate HAProxy serves, as a browser gets it (its chain is not checked here: expiry only)."""
    address = f"{site.master.address}:{site.master.https_port}"
    try:
        chain = run(["openssl", "s_client", "-connect", address, "-servername", site.hostname], "")
        return certificate_check(
            "-", f"served at {address}", enddate(run(["openssl", "x509", "-noout", "-enddate"], chain)), now
        )
    except (OSError, subprocess.SubprocessError) as error:
        return certificate_check("-", f"served at {address}", None, now, f"no answer ({error})")


def run(argv: list[str], stdin: str) -> str:
    done = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0 and not done.stdout:
        raise subprocess.SubprocessError(f"{argv[0]} exited {done.returncode}: {done.stderr.strip()[-200:]}")
    return done.stdout


def main(stack: str) -> int:
    values, secret_keys = stack_file_values(PROJECT_DIR / f"Pulumi.{stack}.yaml", PROJECT_DIR / "Pulumi.yaml")
    try:
        site = load_site_config(values, secret_keys)
        outputs = stack_outputs(stack)
    except ConfigError as error:
        print(f"{error}\n(`make validate STACK={stack}` checks the stack file)", file=sys.stderr)
        return 2
    except (OSError, subprocess.SubprocessError, ValueError) as error:
        print(f"cannot read the outputs of stack {stack} with `pulumi stack output`: {error}", file=sys.stderr)
        return 2
    now = datetime.now(UTC)
    checks = [check for host in site.hosts if not host.lost for check in host_checks(host.name, ask_host(site, host))]
    checks += site_cas(outputs.get("registryCaCert"), now)
    if site.https:
        checks.append(served_certificate(site, now))
    sys.stdout.write(render(outputs, checks))
    return 1 if any(check.ok is False for check in checks) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "dev"))
