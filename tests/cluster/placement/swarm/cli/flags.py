"""The command line as urfave/cli and Go's flag package read it, with swarm's flags (cli/flags.go,
cli/commands.go, vendor/github.com/urfave/cli)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from ..golang import go_parse_bool, go_parse_int0, go_quote
from ..scheduler.filter.filter import FILTERS
from ..scheduler.strategy import STRATEGIES


@dataclass(frozen=True)
class FlagSpec:
    names: tuple[str, ...]
    kind: str  # bool, string, int or slice
    default: object
    env: str = ""


HELP_FLAG = FlagSpec(("help", "h"), "bool", False)  # vendor/github.com/urfave/cli/flag.go:26-29
MANAGE_FLAGS = (  # cli/commands.go:24-32 with the definitions of cli/flags.go
    FlagSpec(("strategy",), "string", STRATEGIES[0]),  # flags.go:113-117
    FlagSpec(("filter", "f"), "slice", FILTERS),  # flags.go:119-128
    FlagSpec(("host", "H"), "slice", ("tcp://127.0.0.1:2375",), "SWARM_HOST"),  # flags.go:46-53
    FlagSpec(("replication",), "bool", False),  # flags.go:145-148
    FlagSpec(("replication-ttl",), "string", "20s"),  # flags.go:149-153
    FlagSpec(("advertise", "addr"), "string", "", "SWARM_ADVERTISE"),  # flags.go:40-44
    FlagSpec(("tls",), "bool", False),  # flags.go:93-96
    FlagSpec(("tlscacert",), "string", ""),  # flags.go:97-100
    FlagSpec(("tlscert",), "string", ""),  # flags.go:101-104
    FlagSpec(("tlskey",), "string", ""),  # flags.go:105-108
    FlagSpec(("tlsverify",), "bool", False),  # flags.go:109-112
    FlagSpec(("engine-refresh-min-interval",), "string", "30s"),  # flags.go:69-73
    FlagSpec(("engine-refresh-max-interval",), "string", "60s"),  # flags.go:74-78
    FlagSpec(("engine-failure-retry",), "int", 3),  # flags.go:84-88
    FlagSpec(("engine-refresh-retry",), "int", 3),  # flags.go:79-83
    FlagSpec(("heartbeat",), "string", "60s"),  # flags.go:54-58
    FlagSpec(("api-enable-cors", "cors"), "bool", False),  # flags.go:89-92
    FlagSpec(("cluster-driver", "c"), "string", "swarm"),  # flags.go:130-134
    FlagSpec(("discovery-opt",), "slice", ()),  # flags.go:140-144
    FlagSpec(("cluster-opt",), "slice", ()),  # flags.go:135-139
    FlagSpec(("refresh-on-node-filter",), "bool", False),  # flags.go:155-158
    FlagSpec(("container-name-refresh-filter",), "string", ""),  # flags.go:159-162
    HELP_FLAG,
)
GLOBAL_FLAGS = (  # cli/cli.go:26-43, plus urfave/cli's own help and version flags
    FlagSpec(("debug",), "bool", False, "DEBUG"),
    FlagSpec(("log-level", "l"), "string", "info"),
    FlagSpec(("experimental",), "bool", False),
    HELP_FLAG,
    FlagSpec(("version", "v"), "bool", False),
)
COMMANDS = {"manage": "manage", "m": "manage", "create": "create", "c": "create", "list": "list", "l": "list"}
COMMANDS |= {"join": "join", "j": "join", "help": "help", "h": "help"}  # cli/commands.go:5-43


class UsageError(Exception):
    """A flag error: urfave/cli prints "Incorrect Usage." and the help, then swarm exits through log.Fatal."""


class FlagFormsError(UsageError):
    """Two names of one flag (urfave/cli context.go normalizeFlags): the message replaces "Incorrect Usage."."""


@dataclass
class Flags:
    values: dict[str, object]
    visited: set[str]
    args: list[str]

    def is_set(self, *names: str) -> bool:
        return any(name in self.visited for name in names)


def parse_flags(specs: tuple[FlagSpec, ...], args: list[str], environ: dict[str, str]) -> Flags:
    """Go's flag.FlagSet.Parse as urfave/cli sets it up (vendor/github.com/urfave/cli/flag.go:138-160, context.go
    normalizeFlags): defaults (or the environment), then -name, --name, -name=value or -name value up to the first
    argument that is not a flag, or up to "--"."""
    by_name = {name: spec for spec in specs for name in spec.names}
    values: dict[str, object] = {}
    for spec in specs:
        value: object = list(spec.default) if spec.kind == "slice" else spec.default
        env_value = environ.get(spec.env, "") if spec.env else ""
        if env_value and spec.kind == "slice":
            value = [part.strip() for part in env_value.split(",")]
        elif env_value and spec.kind in ("bool", "int"):
            with contextlib.suppress(ValueError):  # urfave/cli flag.go: an unreadable variable is ignored
                value = go_parse_bool(env_value) if spec.kind == "bool" else go_parse_int0(env_value)
        elif env_value:
            value = env_value
        values[spec.names[0]] = value
    visited: set[str] = set()
    rest = list(args)
    while rest:
        arg = rest[0]
        if len(arg) < 2 or arg[0] != "-":
            break
        dashes = 2 if arg[1] == "-" else 1
        if arg == "--":
            rest.pop(0)
            break
        name = arg[dashes:]
        if not name or name[0] in "-=":
            raise UsageError(f"bad flag syntax: {arg}")
        rest.pop(0)
        name, has_value, value_text = name.partition("=")
        spec = by_name.get(name)
        if spec is None:
            raise UsageError(f"flag provided but not defined: -{name}")
        key = spec.names[0]
        if spec.kind == "bool":
            try:
                values[key] = go_parse_bool(value_text) if has_value else True
            except ValueError as error:
                raise UsageError(f"invalid boolean value {go_quote(value_text)} for -{name}: {error}") from None
        else:
            if not has_value:
                if not rest:
                    raise UsageError(f"flag needs an argument: -{name}")
                value_text = rest.pop(0)
            if spec.kind == "int":
                try:
                    values[key] = go_parse_int0(value_text)
                except ValueError as error:
                    raise UsageError(f"invalid value {go_quote(value_text)} for flag -{name}: {error}") from None
            elif spec.kind == "slice":
                values[key].append(value_text)
            else:
                values[key] = value_text
        visited.add(name)
    for spec in specs:  # urfave/cli context.go normalizeFlags: one name per flag
        used = [name for name in spec.names if name in visited]
        if len(used) > 1:
            raise FlagFormsError(f"Cannot use two forms of the same flag: {used[1]} {used[0]}")
    return Flags(values, visited, rest)


def command_args(args: list[str]) -> list[str]:
    """vendor/github.com/urfave/cli/command.go:78-106: arguments before the first flag move behind the flags."""
    first_flag, terminator = -1, -1
    for index, arg in enumerate(args):
        if arg == "--":
            terminator = index
            break
        if arg.startswith("-") and first_flag == -1:
            first_flag = index
    if first_flag == -1:
        return list(args)
    regular = list(args[:first_flag])
    if terminator > -1:
        return args[first_flag:terminator] + regular + args[terminator:]
    return args[first_flag:] + regular
