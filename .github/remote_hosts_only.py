#!/usr/bin/env python3
"""Refuse to converge a stack from CI when one of its hosts is "this machine" (a host without `ssh`): on a CI
runner that would configure the runner's own Docker engine, not the environment the stack describes.

    python .github/remote_hosts_only.py STACK...   exit 1, naming each such host, if any
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
PROJECT = "codenvy-infra"


def local_hosts(stack: str) -> list[str]:
    """The stack-file keys of the hosts the program would reach as this machine (no ssh, or a unix:// socket)."""
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text()) or {}
    config = document.get("config") or {}
    hosts = [("master", config.get(f"{PROJECT}:master") or {})]
    hosts += [(f"nodes[{i}]", node) for i, node in enumerate(config.get(f"{PROJECT}:nodes") or [])]
    return [
        f"{PROJECT}:{key}"
        for key, host in hosts
        if not host.get("ssh") or str(host.get("dockerHost", "")).startswith("unix://")
    ]


def main(stacks: list[str]) -> int:
    refused = {stack: local_hosts(stack) for stack in stacks}
    for stack, keys in refused.items():
        if keys:
            print(
                f"{stack}: {', '.join(keys)} would be this runner (no ssh); CI converges only stacks whose hosts "
                "are all reached over SSH",
                file=sys.stderr,
            )
    return 1 if any(refused.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
