"""Configuration errors that carry the stack-file key they are about as data, never inside their text."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi

PROJECT = "codenvy-infra"

# A key inside the stack file's config, as parts: ("limits", "users", 2, "resources").
KeyPath = tuple[str | int, ...]


def config_key(*parts: str | int) -> str:
    """The key as a stack file and `pulumi config` name it: codenvy-infra:limits.users[2].resources."""
    path = PROJECT
    for index, part in enumerate(parts):
        path += f"[{part}]" if isinstance(part, int) else (":" if index == 0 else ".") + part
    return path


class ConfigKeyError(ValueError):
    """A validator's finding about `key`, relative to the model that raises it. Pydantic keeps the exception
    in its error's context, so the seam reads the key from here."""

    def __init__(self, key: KeyPath, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


class ConfigError(pulumi.RunError):
    """Stack configuration that cannot describe or change a site; `problems` holds (key, message) pairs.

    A RunError, because the language host prints only the text of one (as an error diagnostic, each problem
    on its own line) where any other exception gets the program's traceback: the `except pulumi.RunError`
    branch of pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec."""

    def __init__(self, problems: Sequence[tuple[KeyPath, str]]) -> None:
        self.problems = tuple(problems)
        super().__init__(self._text())

    def _text(self) -> str:
        lines = [f"invalid stack configuration ({len(self.problems)} problem(s)):"]
        lines += [f"  {config_key(*key)}: {message}" for key, message in self.problems]
        return "\n".join(lines)


class GateError(ConfigError):
    """A deployment gate refused the change: one problem, about the key to look at."""

    def __init__(self, key: KeyPath, message: str) -> None:
        super().__init__([(key, message)])

    def _text(self) -> str:
        ((key, message),) = self.problems
        return f"{config_key(*key)}: {message}"
