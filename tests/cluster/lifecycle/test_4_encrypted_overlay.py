"""The workspace overlay switched to encrypted: its ESP traffic passes the firewall from members only."""

from __future__ import annotations

import json
import socket
import subprocess

from scripts.sim.node import GATEWAY
from tests.cluster.sim import Node
from tests.cluster.site_driver import SITE, healthy, wait_for


def test_encrypted_overlay_is_created_encrypted(primary, encrypted):
    networks = primary.master.docker("network", "ls", "--filter", "driver=overlay", "--format", "{{.Name}}").stdout
    (name,) = [n for n in networks.split() if n.startswith(SITE.site_name)]
    options = json.loads(primary.master.docker("network", "inspect", name, "--format", "{{json .Options}}").stdout)
    assert options.get("encrypted") == "true"


def test_encrypted_overlay_second_preview_is_empty(primary, encrypted):
    wait_for("healthy on the encrypted overlay", lambda: healthy(primary))
    assert primary.preview().diff() == []


# IP protocol 50. A raw socket hears a packet after the input hook (ip_local_deliver), so it hears what the
# firewall admits whether or not the kernel decrypts ESP (this machine's has no CONFIG_INET_ESP, so no
# encrypted overlay carries traffic here at all; the firewall is what the program owns).
ESP = 50
# Prints "ready", then every source it heard ESP from, once it has heard `wanted` three times or 30 s passed.
ESP_LISTENER = """
import socket, sys, time
wanted, heard, deadline = sys.argv[1], [], time.monotonic() + 30
listener = socket.socket(socket.AF_INET, socket.SOCK_RAW, 50)
print("ready", flush=True)
while heard.count(wanted) < 3 and time.monotonic() < deadline:
    listener.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        heard.append(listener.recvfrom(65535)[1][0])
    except TimeoutError:
        break
print(" ".join(sorted(set(heard))), flush=True)
"""
ESP_SENDER = "import socket, sys; socket.socket(socket.AF_INET, socket.SOCK_RAW, 50).sendto(b'esp', (sys.argv[1], 0))"


def esp_heard_by(target: Node, member: Node, outsider_sends) -> set[str]:
    """The sources `target` hears ESP from while the outsider and then the member send, round after round."""
    listen = [*target.enter_argv(), "python3", "-u", "-c", ESP_LISTENER, member.address]
    with subprocess.Popen(listen, stdout=subprocess.PIPE, text=True) as listener:
        assert listener.stdout.readline().strip() == "ready"
        while listener.poll() is None:
            outsider_sends()
            subprocess.run([*member.enter_argv(), "python3", "-c", ESP_SENDER, target.address], check=True)
        return set(listener.stdout.read().split())


def test_encrypted_overlay_esp_passes_the_firewall_from_members_only(primary, encrypted):
    """Docker's overlay documentation and moby#27541: an encrypted overlay's VXLAN travels in IPsec ESP."""
    target, member = primary.nodes["node3"], primary.nodes["node2"]
    outsider = socket.socket(socket.AF_INET, socket.SOCK_RAW, ESP)  # this machine, at the cluster's gateway
    with outsider:
        heard = esp_heard_by(target, member, lambda: outsider.sendto(b"esp" * 8, (target.address, 0)))
    # Where the kernel has ESP, the overlay's own traffic from other members may be heard too.
    assert member.address in heard and GATEWAY not in heard, heard
