#!/usr/bin/env python3
"""Check a stack file and its gates as `pulumi preview` would, without the Pulumi CLI: `make validate STACK=dr`.

python scripts/validate.py STACK [--file PATH] [--outputs ORG/PROJECT/STACK=FILE ...]

The stack file goes through the program's own seam (components/config_loader.py) with the project's declared
defaults and its encrypted keys as the CLI hands them over, then through its gates (components/deploy_gates.py).
The gates compare against stack outputs (this stack's last deployment; a standby's primary), which only a
backend holds: give them as files saved with `pulumi stack output --json --show-secrets --stack S > FILE`;
a gate whose outputs are not given is skipped, with a line saying so. Exit status 1 on any problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from components.config import PROJECT, ConfigError, SiteConfig, config_key
from components.config_loader import foreign_keys, load_site_config, stack_file_values
from components.deploy_gates import PRIMARY_STACK_KEY, OutputsUnavailableError, establish

PROJECT_DIR = Path(__file__).resolve().parents[1]


def stack_name(stack: str) -> str:
    """The stack as the gates name it; the file backend's organization is "organization"."""
    return f"organization/{PROJECT}/{stack}"


class SavedOutputs:
    """Stack outputs from files; a stack without one is recorded as skipped (this stack: checked as if never
    deployed, which is all a reader without a backend can say; another stack: OutputsUnavailableError)."""

    def __init__(self, own_stack: str, files: Mapping[str, Path]) -> None:
        self.own_stack = own_stack
        self.files = files
        self.skipped: list[str] = []

    def __call__(self, stack: str) -> Mapping[str, Any]:
        if stack in self.files:
            return json.loads(self.files[stack].read_text())
        if stack == self.own_stack:
            self.skipped.append(
                f"{config_key('version')}, {config_key('siteName')}: not compared with this stack's last "
                f"deployment (give its outputs: --outputs {stack}=FILE)"
            )
            return {}
        self.skipped.append(
            f"{config_key(*PRIMARY_STACK_KEY)}: the standby's gates (parity, streaming) need the outputs of "
            f"{stack}, which no backend was asked for (give them: --outputs {stack}=FILE)"
        )
        raise OutputsUnavailableError(stack)

    def superseded(self, site: SiteConfig) -> None:
        """The fence gate asks the site's master, which a check without the engine does not reach."""
        self.skipped.append(
            f"{config_key('role')}: whether a standby was promoted past this site is asked of the fence on its "
            "master by every preview and up"
        )


def validate(stack_file: Path, stack: str, outputs: Mapping[str, Path]) -> tuple[list[str], list[str]]:
    """(problems, notes): each problem `KEY: message`; notes are warnings and skipped gates."""
    values, secret_keys = stack_file_values(stack_file, PROJECT_DIR / "Pulumi.yaml")
    notes = [f"warning: {key} is not read by this program" for key in foreign_keys(values)]
    reader = SavedOutputs(stack_name(stack), outputs)
    problems: list[str] = []
    try:
        establish(load_site_config(values, secret_keys), reader, stack=reader.own_stack, superseded=reader.superseded)
    except ConfigError as error:
        problems = [f"{config_key(*key)}: {message}" for key, message in error.problems]
    except OutputsUnavailableError:
        pass
    return problems, notes + [f"skipped: {line}" for line in reader.skipped]


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="the stack: its file is Pulumi.<stack>.yaml in the project")
    parser.add_argument("--file", type=Path, help="check this stack file instead of Pulumi.<stack>.yaml")
    parser.add_argument("--outputs", action="append", default=[], metavar="ORG/PROJECT/STACK=FILE")
    arguments = parser.parse_args(argv)
    stack_file = arguments.file or PROJECT_DIR / f"Pulumi.{arguments.stack}.yaml"
    outputs = {name: Path(file) for name, _, file in (item.partition("=") for item in arguments.outputs)}
    problems, notes = validate(stack_file, arguments.stack, outputs)
    for line in notes:
        print(line)
    for problem in problems:
        print(f"error: {problem}")
    skipped = sum(line.startswith("skipped: ") for line in notes)
    verdict = f"{len(problems)} problem(s)" if problems else "valid" + (f", {skipped} gate(s) skipped" * bool(skipped))
    print(f"{stack_file.name}: {verdict}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
