"""A standby reads its primary's stack outputs as input: each one of the wrong shape is refused by the gate,
naming dr.primaryStack and the output, before any resource exists."""

from __future__ import annotations

import pytest

from components.config_loader import load_site_config
from components.deploy_gates import GateError, PrimarySite, establish

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ==\n-----END CERTIFICATE-----\n"
STANDBY_MASTER = "10.9.1.1"


def deployed_primary(**changes) -> dict:
    """The outputs of a primary that streams to the standby below, with `changes` applied."""
    outputs = {
        "siteName": "codenvy",
        "version": "5.22.0",
        "managerAddress": "10.9.0.1",
        "registry": "10.9.0.1:5000",
        "backupDirectory": "/var/backups/codenvy",
        "nodes": [{"name": "master", "address": "10.9.0.1", "ramGb": 4.0, "cpus": 2.0}],
        "licensePresent": False,
        "replicationStandbys": [STANDBY_MASTER],
        "postgresPort": 5432.0,
        "replicationPassword": "repl-pw",
        "databasePassword": "db-pw",
        "adminPassword": "admin-pw",
        "registryCaCert": CERT,
    }
    outputs.update(changes)
    return outputs


def standby_site():
    return load_site_config(
        {
            "codenvy-infra:role": "standby",
            "codenvy-infra:siteName": "codenvy-dr",
            "codenvy-infra:master": f'{{"address": "{STANDBY_MASTER}"}}',
            "codenvy-infra:dr": '{"primaryStack": "o/p/primary"}',
        }
    )


def gate(outputs: dict):
    return establish(standby_site(), lambda stack: outputs if stack == "o/p/primary" else {})


def test_the_outputs_of_a_deployed_primary_pass_the_gate():
    assert gate(deployed_primary()).primary.replication_password == "repl-pw"  # noqa: S105 - a test value


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("nodes", "three"),
        ("nodes", [{"ramGb": 4.0}]),
        ("nodes", [{"ramGb": "lots", "cpus": 2}]),
        ("nodes", [{"ramGb": 4.0, "cpus": 2.5}]),
        ("nodes", [7]),
        ("nodes", None),
        ("replicationStandbys", 10),
        ("replicationStandbys", "10.9.1.1"),
        ("replicationStandbys", [["10.9.1.1"]]),
        ("databasePassword", 12345),
        ("databasePassword", {"secret": "x"}),
        ("replicationPassword", "pw\nline"),
        ("adminPassword", ""),
        ("registryCaCert", ["pem"]),
        ("registryCaCert", "not a certificate"),
        ("registry", 5000),
        ("registry", "10.9.0.1:5000; rm -rf /"),
        ("licensePresent", "yes"),
    ],
)
def test_a_malformed_primary_output_is_refused_by_name(name, value):
    with pytest.raises(GateError) as caught:
        gate(deployed_primary(**{name: value}))
    ((key, message),) = caught.value.problems
    assert key == ("dr", "primaryStack")
    assert f"output {name} " in message


def test_a_password_with_pgpass_separators_is_taken_as_written():
    primary = PrimarySite.from_outputs("o/p/primary", deployed_primary(replicationPassword="a:b\\c"))
    assert primary.replication_password == "a:b\\c"  # noqa: S105 - a test value
