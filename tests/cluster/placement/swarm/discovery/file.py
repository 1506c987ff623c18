"""File discovery: the node list read at start and every heartbeat
(vendor/github.com/docker/docker/pkg/discovery/file/file.go, generator.go, entry.go)."""

from __future__ import annotations

import re
import threading

from ..golang import go_atoi, go_trim_space, open_error, split_host_port


class DiscoveryError(Exception):
    pass


RANGE = re.compile(r"\[(.+):(.+)\]")  # vendor/github.com/docker/docker/pkg/discovery/generator.go:11


def generate(pattern: str) -> list[str]:
    """generator.go:10-35: one inclusive integer range per line, `10.0.0.[1:3]:2375`; anything else is kept."""
    match = RANGE.search(pattern)
    if not match:
        return [pattern]
    try:
        start, end = go_atoi(match[1]), go_atoi(match[2])
    except ValueError:
        return [pattern]
    return [f"{pattern[: match.start()]}{value}{pattern[match.end() :]}" for value in range(start, end + 1)]


def parse_file_content(content: str) -> list[str]:
    """vendor/github.com/docker/docker/pkg/discovery/file/file.go:34-51."""
    result = []
    for raw in go_trim_space(content).split("\n"):
        line = go_trim_space(raw)
        if line.startswith("#"):  # :39-41
            continue
        if "#" in line:  # :43-47, an inline comment
            line = go_trim_space(line[: line.index("#")])
        result.extend(generate(line))
    return result


def create_entries(addresses: list[str]) -> list[tuple[str, str]]:
    """vendor/.../pkg/discovery/entry.go:77-94: empty lines are skipped; one bad address fails the whole read."""
    entries = []
    for address in addresses:
        if not address:
            continue
        try:
            entries.append(split_host_port(address))
        except ValueError as error:
            raise DiscoveryError(str(error)) from None
    return entries


class FileDiscovery:
    """file/file.go:53-102: read at start, then every heartbeat; an unchanged or unreadable file changes nothing."""

    def __init__(self, path: str, heartbeat: float) -> None:
        self.path, self.heartbeat = path, heartbeat

    def fetch(self) -> list[tuple[str, str]]:
        try:
            with open(self.path, encoding="utf-8", errors="replace") as handle:
                content = handle.read()
        except OSError as error:
            raise DiscoveryError(f"failed to read '{self.path}': {open_error(error, self.path)}") from None
        return create_entries(parse_file_content(content))

    def watch(self, on_entries, on_error, stop: threading.Event) -> None:
        current: list[tuple[str, str]] = []
        try:
            current = self.fetch()
            on_entries(current)
        except DiscoveryError as error:
            on_error(error)
        while not stop.wait(self.heartbeat):
            try:
                entries = self.fetch()
            except DiscoveryError as error:
                on_error(error)
                continue
            if entries != current:  # entry.go:33-45 compares the ordered lists
                on_entries(entries)
            current = entries
