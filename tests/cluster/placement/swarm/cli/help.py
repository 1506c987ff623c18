"""The help texts urfave/cli prints for swarm and for `swarm manage` (cli/help.go)."""

from __future__ import annotations

from ..version import GITCOMMIT, VERSION
from .flags import MANAGE_FLAGS


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
