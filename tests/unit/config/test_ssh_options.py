"""ssh options the Commands would not follow, refused however ssh(1) lets them be spelled."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from components.config.hosts import SshAccess


# ssh(1) reads a flag's value from the same word as the flag (getopt): `-p2222` is `-p 2222`.
@pytest.mark.parametrize(("option", "key"), [("-p2222", "port"), ("-i/root/.ssh/id", "keyFile"), ("-ladmin", "user")])
def test_a_flag_with_its_value_attached_is_refused_by_the_key_to_set(option, key):
    with pytest.raises(ValidationError, match=f"set ssh.{key} instead"):
        SshAccess(options=(option,))
