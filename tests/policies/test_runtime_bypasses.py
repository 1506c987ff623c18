"""Confinement, devices and published ports reached through structured properties."""

from __future__ import annotations

import pytest

from tests.policies.pack import of, service, tripped, violations

# --- SELinux types ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "option",
    ["label=type:unconfined_t", "label:type:unconfined_t", "label=type:spc_t", "LABEL=TYPE:Unconfined_T"],
)
def test_unconfined_selinux_type_is_caught(postgres, option):
    (message,) = tripped(of(postgres, securityOpts=[option]), "container-confined")
    assert option in message


@pytest.mark.parametrize("selinux_type", ["spc_t", "unconfined_t", " SPC_T "])
def test_service_unconfined_selinux_type_is_caught(selinux_type):
    privileges = {"seLinuxContext": {"type": selinux_type}}
    (message,) = tripped(service(spec={"privileges": privileges}), "container-confined")
    assert "label=type:" in message


@pytest.mark.parametrize("option", ["label=type:container_t", "label=level:s0:c100,c200"])
def test_confined_selinux_label_passes(postgres, option):
    assert violations(of(postgres, securityOpts=[option])) == {}


def test_service_confined_selinux_type_passes():
    privileges = {"seLinuxContext": {"type": "container_t", "level": "s0:c1,c2"}}
    assert violations(service(spec={"privileges": privileges})) == {}


# --- GPUs and device requests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"gpus": "all"},
        {"gpus": "device=0"},
        {"deviceRequests": [{"driver": "nvidia", "count": -1, "capabilities": [["gpu"]]}]},
        {"deviceRequests": [{"deviceIds": ["0"], "capabilities": [["gpu", "utility"]]}]},
    ],
)
def test_gpu_or_device_request_is_caught(postgres, changes):
    (message,) = tripped(of(postgres, **changes), "container-no-host-devices")
    assert next(iter(changes)) in message


def test_empty_gpus_and_device_requests_pass(postgres):
    assert violations(of(postgres, gpus="", deviceRequests=[])) == {}


# --- internal ports on public addresses -------------------------------------------------------------------


@pytest.mark.parametrize("ip", ["203.0.114.7", "8.8.8.8", "2001:4860::8888", "::ffff:8.8.8.8", "100.64.0.1"])
def test_internal_port_published_on_a_public_address_is_caught(postgres, ip):
    (message,) = tripped(
        of(postgres, ports=[{"internal": 5432, "external": 5432, "ip": ip}]), "no-internal-port-published"
    )
    assert ip in message


@pytest.mark.parametrize("ip", ["10.9.0.1", "172.16.0.4", "192.168.1.5", "127.0.0.1", "fd00::5", "::1"])
def test_internal_port_on_a_private_address_passes(postgres, ip):
    assert violations(of(postgres, ports=[{"internal": 5432, "external": 5432, "ip": ip}])) == {}


def test_public_port_on_a_public_address_passes(postgres):
    assert violations(of(postgres, ports=[{"internal": 443, "external": 443, "ip": "8.8.8.8"}])) == {}
