"""Stack values as Pulumi hands them to the program, and fixed inputs the tests give them."""

from __future__ import annotations

import json

# A public key of the form sshd takes, for scripts that write it into authorized_keys or known_hosts.
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH8T3Fq1n7S8q0mZ0n0v6iJH1w6b3Zbq2yq8wq8wq8wq"
# An archive stamp no test's own run gives.
STAMP_OTHER = "20300101T000000Z"


def raw(**values) -> dict[str, str]:
    """Stack values as Pulumi hands them over: objects and lists as JSON, scalars as text."""
    return {
        f"codenvy-infra:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in values.items()
    }
