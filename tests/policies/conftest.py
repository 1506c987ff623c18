"""The policy pack as the engine would call it, on resources the real program registers under mocks."""

from __future__ import annotations

import sys

from tests.harness import PROJECT_DIR

sys.path.insert(0, str(PROJECT_DIR / "policies"))
