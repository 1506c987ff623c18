"""`after`: the one name, in every component's args and every helper, for the resources something waits for."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeAlias

import pulumi

# What must be created (or updated) first. A component or helper passes its `after` on as the engine's
# ResourceOptions(depends_on=...) to each of its resources that must wait, and only to those (an image pull
# need not wait for the database its container needs): the docstring of the args that take it says which.
After: TypeAlias = Sequence[pulumi.Resource]
