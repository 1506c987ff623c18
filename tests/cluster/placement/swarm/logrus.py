"""Swarm's log lines: logrus' text format on stdout, the level from the command line (cli/cli.go:46-58)."""

from __future__ import annotations

import datetime
import json
import re
import threading

# cli/cli.go:46-58: logrus to stdout, level from --log-level (debug with --debug when no level was given).
LOG_LEVELS = {"panic": 0, "fatal": 1, "error": 2, "warn": 3, "warning": 3, "info": 4, "debug": 5}
_log = {"level": 4, "lock": threading.Lock()}
_PLAIN = re.compile(r"[A-Za-z0-9\-._/@^+]+")


def _logfmt(value: object) -> str:
    text = str(value)
    return text if _PLAIN.fullmatch(text) else json.dumps(text, ensure_ascii=False)


def set_level(name: str) -> None:
    """The level from --log-level (or --debug), one of LOG_LEVELS."""
    _log["level"] = LOG_LEVELS[name]


def log(level: str, message: str, **fields: object) -> None:
    """One line in logrus' text format: time, level, msg, then the fields sorted by name."""
    if LOG_LEVELS[level] > _log["level"]:
        return
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    words = [f'time="{stamp}"', f"level={'warning' if level == 'warn' else level}", f"msg={_logfmt(message)}"]
    words += [f"{key}={_logfmt(fields[key])}" for key in sorted(fields)]
    with _log["lock"]:
        print(" ".join(words), flush=True)


class FatalError(Exception):
    """log.Fatal: the message is logged at level fatal and swarm exits 1."""
