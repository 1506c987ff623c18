"""A DR pair of one-host sites on the lane's first two nodes: the primary on node1, its hot standby on node2,
the standby streaming (or restoring nightly archives). Shared by tests/cluster/streaming_dr/ and
bench/failover_drill.py."""

from __future__ import annotations

import subprocess
from typing import Any

from tests.cluster.sim import Node, SshAgent, lane_engine
from tests.cluster.site_driver import ADMIN_PASSWORD, SITE, Site, config_keys
from tests.engine.engine import Backend
from tests.harness import full_stack_name

PRIMARY_STACK, STANDBY_STACK = "stream", "stream-dr"
STANDBY_SITE = "codenvy-dr"
# A standby master's key of its own for the transfer (dr.sshKeyFile), inside the node: not the lane's key, which is
# root on every node, but one its primary lists in replication.standbyKeys.
MIRROR_KEY_FILE = "/root/.ssh/codenvy-mirror"


def master_of(node: Node) -> dict[str, Any]:
    """The sim stack's master settings (SSH, restart helper) on `node`, running workspaces too."""
    template = SITE.master.model_dump(by_alias=True, exclude_none=True)
    return {**template, "name": node.name, "address": node.address, "hostWorkspaces": True}


def one_host_site(node: Node, peer: Node, **changes: Any) -> dict[str, Any]:
    """A site of one host whose firewall lets `peer` (the other site's master) pull from its registry."""
    firewall = {
        **SITE.firewall.model_dump(mode="json", by_alias=True, exclude_none=True),
        "peerCidrs": [f"{peer.address}/32"],
    }
    site = {"hostname": node.address, "network": {"mode": "bridge"}, "nodes": [], "master": master_of(node)}
    # The admin's password on both: a streaming standby's database is the primary's, its admin included.
    return config_keys({**site, "firewall": firewall, "adminPassword": ADMIN_PASSWORD, **changes})


def mirror_key(node: Node) -> str:
    """The public half of `node`'s transfer key (MIRROR_KEY_FILE there), made in the node's own /root/.ssh once."""
    private = node.directory / "root-ssh" / MIRROR_KEY_FILE.rsplit("/", 1)[-1]
    if not private.exists():
        command = [
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            f"codenvy-mirror@{node.name}",
            "-f",
            str(private),
        ]
        subprocess.run(command, check=True, capture_output=True)
    return private.with_suffix(".pub").read_text().strip()


def standby_of(stack: str, master: Node, **dr: Any) -> dict[str, Any]:
    """A hot standby's dr settings: it follows `stack`, reaching its primary with `master`'s transfer key."""
    mirror_key(master)
    return {"primaryStack": full_stack_name(stack), "standby": "hot", "sshKeyFile": MIRROR_KEY_FILE, **dr}


def dr_pair(nodes: list[Node], backend: Backend, agent: SshAgent, replication: str = "streaming", **primary: Any):
    """The primary (listing node2 as its standby when streaming) and the standby; neither is up yet."""
    everyone = {node.name: node for node in nodes}
    addresses = {"standbyAddresses": [nodes[1].address]} if replication == "streaming" else {}
    streams = {"replication": {**addresses, "standbyKeys": [mirror_key(nodes[1])], **primary}}
    primary_site = Site(
        lane_engine(PRIMARY_STACK, nodes, backend, agent), everyone, one_host_site(nodes[0], nodes[1], **streams)
    )
    dr = standby_of(PRIMARY_STACK, nodes[1], replication=replication, transferSchedule=None)
    standby_config = one_host_site(nodes[1], nodes[0], siteName=STANDBY_SITE, role="standby", dr=dr)
    standby_site = Site(lane_engine(STANDBY_STACK, nodes, backend, agent), everyone, standby_config)
    return primary_site, standby_site
