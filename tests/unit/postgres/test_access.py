"""Who reaches a PostgreSQL published at the master's address: pg_hba.conf as PostgreSQL reads it, the firewall
in front of it, and the stack files refused for leaving it open."""

from __future__ import annotations

import json
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network

import pytest

from components.config_loader import ConfigError, load_site_config
from components.deploy_gates import PrimarySite
from components.host_firewall import FirewallSettings
from tests.harness.dr_evaluations import (
    PRIMARY_MASTER,
    STANDBY_MASTER,
    config_files,
    following_standby,
    master,
    streaming_primary,
)

# The networks the database's container is on, as its server sees them: loopback, and the site's internal
# network (the only one it is attached to). Docker picks the latter's subnet; any private one will do here.
CONTAINER_NETWORKS = (IPv4Network("127.0.0.0/8"), IPv4Network("172.18.0.0/16"))
SERVER = IPv4Address("172.18.0.3")
OUTSIDER = IPv4Address("192.0.2.7")


@dataclass(frozen=True)
class Login:
    """A connection as pg_hba.conf sees it: over TCP from `address` (None: the unix socket), with TLS or not,
    as `user`, to `database`; a physical replication connection names no database."""

    user: str
    address: IPv4Address | None
    database: str | None = "codenvy"
    tls: bool = True


def _address_matches(field: str, address: IPv4Address) -> bool:
    if field == "all":
        return True
    if field == "samenet":
        return any(address in network for network in CONTAINER_NETWORKS)
    return address in IPv4Network(field)


def authentication(hba: str, login: Login) -> str | None:
    """The method of the first line that matches, None when none does (the server refuses: "no pg_hba.conf
    entry"). PostgreSQL docs, "The pg_hba.conf File": lines are read in order and the first match decides; host
    matches TCP with or without TLS, hostssl with TLS only; `replication` matches a physical replication
    connection and `all` never does; samenet is any address in a subnet the server is directly connected to."""
    for line in hba.splitlines():
        kind, database, user, *rest = line.split()
        if (kind == "local") != (login.address is None) or (kind == "hostssl" and not login.tls):
            continue
        if login.database is None and database != "replication":
            continue
        if login.database is not None and database not in ("all", login.database):
            continue
        if user not in ("all", login.user):
            continue
        if login.address is not None and not _address_matches(rest[0], login.address):
            continue
        return rest[-1]
    return None


def primary_hba() -> str:
    return config_files(streaming_primary(), "codenvy")["pg_hba.conf"]


def test_the_superuser_cannot_log_in_from_the_standbys_master():
    assert authentication(primary_hba(), Login("codenvy", IPv4Address(STANDBY_MASTER))) is None


def test_the_replication_role_cannot_reach_a_database_from_the_standbys_master():
    assert authentication(primary_hba(), Login("replicator", IPv4Address(STANDBY_MASTER))) in (None, "reject")


def test_the_standbys_master_replicates_with_a_password_over_tls():
    login = Login("replicator", IPv4Address(STANDBY_MASTER), database=None)
    assert authentication(primary_hba(), login) == "scram-sha-256"


def test_the_standbys_master_cannot_replicate_without_tls():
    login = Login("replicator", IPv4Address(STANDBY_MASTER), database=None, tls=False)
    assert authentication(primary_hba(), login) is None


def test_no_other_address_may_replicate():
    assert authentication(primary_hba(), Login("replicator", OUTSIDER, database=None)) is None


def test_no_login_from_outside_the_site_is_admitted():
    assert authentication(primary_hba(), Login("codenvy", OUTSIDER, tls=False)) is None


def test_the_sites_server_logs_in_with_its_password_over_the_container_network():
    assert authentication(primary_hba(), Login("codenvy", SERVER, tls=False)) == "scram-sha-256"


def test_the_replication_role_cannot_reach_a_database_from_the_container_network():
    assert authentication(primary_hba(), Login("replicator", SERVER)) == "reject"


def test_the_standby_admits_its_primarys_master_for_replication_only():
    """What the primary's fence asks it, and what streams from it after a failback."""
    hba = config_files(following_standby(), "codenvy-dr")["pg_hba.conf"]
    primary = IPv4Address(PRIMARY_MASTER)
    verdicts = authentication(hba, Login("replicator", primary, None)), authentication(hba, Login("codenvy", primary))
    assert verdicts == ("scram-sha-256", None)


# --- the firewall in front of it ----------------------------------------------------------------------------


def standby_site():
    return load_site_config(
        {
            "codenvy-infra:role": "standby",
            "codenvy-infra:master": json.dumps(master(STANDBY_MASTER)),
            "codenvy-infra:dr": json.dumps({"primaryStack": "o/p/primary", "standby": "hot"}),
        }
    )


PRIMARY = PrimarySite(
    "o/p/primary", "codenvy", "5.22.0", PRIMARY_MASTER, f"{PRIMARY_MASTER}:5000", "/b", ((8, 2),), False
)


def test_a_streaming_standbys_firewall_lets_its_primarys_master_reach_postgresql():
    assert FirewallSettings.of(standby_site(), PRIMARY).database_peers == (PRIMARY_MASTER,)


def test_a_streaming_standbys_firewall_gives_its_primary_no_ssh():
    assert FirewallSettings.of(standby_site(), PRIMARY).replication_peers == ()


# --- refused stack files ------------------------------------------------------------------------------------

STREAMING_PRIMARY = {"codenvy-infra:replication": json.dumps({"standbyAddresses": [STANDBY_MASTER]})}
STREAMING_STANDBY = {
    "codenvy-infra:role": "standby",
    "codenvy-infra:dr": json.dumps({"primaryStack": "o/p/s", "standby": "hot", "replication": "streaming"}),
}


def outside_dev(firewall: dict, **keys: str) -> dict[str, str]:
    """A stack file of the sim environment (outside dev; no pinned host keys needed) with `firewall`."""
    return {
        "codenvy-infra:environment": "sim",
        "codenvy-infra:master": json.dumps(master(PRIMARY_MASTER)),
        "codenvy-infra:firewall": json.dumps(firewall),
        **keys,
    }


@pytest.mark.parametrize("streaming", [STREAMING_PRIMARY, STREAMING_STANDBY], ids=["primary", "standby"])
def test_a_published_database_without_the_firewall_is_refused_outside_dev(streaming):
    with pytest.raises(ConfigError, match=r"codenvy-infra:firewall\.enabled: must be true outside environment dev"):
        load_site_config(outside_dev({"enabled": False}, **streaming))


def test_a_published_database_without_the_firewall_is_allowed_in_dev():
    raw = {"codenvy-infra:master": json.dumps(master(PRIMARY_MASTER)), **STREAMING_PRIMARY}
    assert not load_site_config({**raw, "codenvy-infra:firewall": json.dumps({"enabled": False})}).firewall_enabled


def test_a_site_that_publishes_no_database_may_run_without_the_firewall():
    assert not load_site_config(outside_dev({"enabled": False})).firewall_enabled
