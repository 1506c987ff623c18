"""The passwords the program generates: letters and digits only, so every place they cross reads them as written."""

from __future__ import annotations

import pytest

from tests.harness import STACKS, evaluate

GENERATOR_TYPE = "random:index/randomPassword:RandomPassword"


# terraform-provider-random draws from "!@#$%&*()-_=+[]{}<>:?" too unless `special` is false
# (internal/provider/resource_password.go). The passwords cross psql's \set (database_password.sh), where
# ":name" is a variable, htpasswd files and libpq conninfo strings, none of which quote them.
@pytest.mark.parametrize("stack", STACKS)
def test_every_generated_password_is_drawn_from_letters_and_digits(stack):
    passwords = evaluate(stack).of_type(GENERATOR_TYPE)
    special = sorted(p.name for p in passwords if p.inputs.get("special", True))
    assert (bool(passwords), special) == (True, [])
