"""What the program's Commands do under the real engine and pulumi-command 1.2.1, not only under mocks: the firewall
persists into the ruleset the host's nftables service loads at boot, and leaves it when removed."""

from __future__ import annotations

from tests.harness import script_of, script_parameters
from tests.unit.real_engine.commands.fake_host import FakeHost, firewall_on, run, shipped


def test_firewall_is_included_from_the_ruleset_the_hosts_nftables_service_loads_at_boot(host):
    create, _ = firewall_on(host, shipped("sim"), "node2")
    result = host.run(create)
    assert result.returncode == 0, result.stderr
    rules = (host.root / "etc-codenvy" / "firewall.nft").read_text()
    boot = (host.root / "nftables.conf").read_text().splitlines()
    assert f'include "{host.root / "etc-codenvy" / "firewall.nft"}"' in boot
    assert rules == (host.root / "loaded.nft").read_text(), "the boot file includes the rules that are loaded"


def test_a_second_firewall_run_on_a_persisted_host_changes_nothing(host):
    create, _ = firewall_on(host, shipped("sim"), "node2")
    host.run(create)
    before = (host.root / "nftables.conf").read_text()
    again = host.run(create)
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert (host.root / "nftables.conf").read_text() == before


def firewall_removed(host: FakeHost) -> None:
    create, delete = firewall_on(host, shipped("sim"), "node2")
    host.run(create)
    result = host.run(delete)
    assert result.returncode == 0, result.stderr


def test_removing_the_firewall_takes_it_out_of_the_boot_ruleset(host):
    firewall_removed(host)
    assert "include" not in (host.root / "nftables.conf").read_text()


def test_removing_the_firewall_unloads_it(host):
    firewall_removed(host)
    assert not (host.root / "loaded.nft").exists()


def test_firewall_persists_into_the_file_named_in_config():
    sim = run("sim", {"codenvy-infra:firewall": {"persistFile": "/etc/sysconfig/nftables.conf"}})
    params = script_parameters(script_of(sim.named("codenvy-ws-node2-firewall")))
    assert params["NFTABLES_CONF"] == "/etc/sysconfig/nftables.conf"
