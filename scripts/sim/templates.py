"""The simulated cluster's bash programs: the `*.sh` templates beside this module, rendered by the program's
own template engine (components/script_templates.py)."""

from __future__ import annotations

from pathlib import Path

from components.script_templates import ScriptTemplates

SIM_SCRIPTS = ScriptTemplates(Path(__file__).parent)
