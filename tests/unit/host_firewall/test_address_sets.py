"""The firewall's address sets: a stack file's networks are refused by key where nftables would refuse the set,
and what is accepted renders a ruleset that `nft -c` takes."""

from __future__ import annotations

import os
import shutil
import subprocess
from ipaddress import IPv4Network

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import ConfigError
from components.config_loader import load_site_config
from components.host_firewall import FirewallSettings, render_nftables
from tests.harness import pulumi_values


def firewall(**sets) -> dict[str, str]:
    return pulumi_values({"firewall": sets})


@pytest.mark.parametrize("key", ["publicCidrs", "sshCidrs"])
def test_an_empty_set_of_sources_is_refused(key):
    with pytest.raises(ConfigError) as caught:
        load_site_config(firewall(**{key: []}))
    assert caught.value.problems[0][0] == ("firewall", key)


@pytest.mark.parametrize(
    "networks", [["10.0.0.0/8", "10.1.0.0/16"], ["0.0.0.0/0", "192.168.1.0/24"], ["10.0.0.0/8", "10.0.0.0/8"]]
)
@pytest.mark.parametrize("key", ["publicCidrs", "sshCidrs", "peerCidrs"])
def test_overlapping_networks_in_one_set_are_refused(key, networks):
    with pytest.raises(ConfigError) as caught:
        load_site_config(firewall(**{key: networks}))
    ((where, message),) = caught.value.problems
    assert where == ("firewall", key)
    assert "overlap" in message


def test_no_peers_is_allowed():
    assert load_site_config(firewall(peerCidrs=[])).firewall.peer_cidrs == ()


NFT = shutil.which("nft")
needs_nft = pytest.mark.skipif(
    NFT is None or os.geteuid() != 0, reason="nft -c needs nftables and root (CAP_NET_ADMIN) on this machine"
)
# Networks from a few small address ranges, so generated sets often overlap, nest or repeat.
NETWORKS = st.builds(
    lambda base, prefix: str(IPv4Network(f"10.{base}.0.0/{prefix}", strict=False)),
    st.integers(0, 3),
    st.sampled_from([8, 15, 16, 24, 32]),
)


@needs_nft
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NETWORKS, max_size=3), st.lists(NETWORKS, max_size=3), st.lists(NETWORKS, max_size=3))
def test_every_accepted_set_of_networks_is_a_ruleset_nft_takes(public, ssh, peers):
    try:
        site = load_site_config(firewall(publicCidrs=public, sshCidrs=ssh, peerCidrs=peers))
    except ConfigError as error:
        assert all(key[0] == "firewall" for key, _ in error.problems), error
        return
    ruleset = render_nftables(FirewallSettings.of(site), site.master, is_master=True, runs_workspaces=True)
    checked = subprocess.run([NFT, "-c", "-f", "-"], input=ruleset, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
