"""The `swarm` application: global flags, log level, the command (cli/cli.go)."""

from __future__ import annotations

import os
import sys

from ..golang import GoPanicError
from ..logrus import LOG_LEVELS, FatalError, log, set_level
from ..version import GITCOMMIT, VERSION
from .flags import COMMANDS, GLOBAL_FLAGS, MANAGE_FLAGS, FlagFormsError, UsageError, command_args, parse_flags
from .help import app_help, manage_help
from .manage import manage_settings, serve


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
    set_level(level)
    if not global_flags.is_set("log-level", "l") and global_flags.values["debug"]:
        set_level("debug")
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
