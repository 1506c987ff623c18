#!/usr/bin/env python3
"""Benchmark (not a test): a fault drill on the simulated cluster. The sim stack's site (master node1, workers
node2 and node3) takes a steady stream of writes through its API while one fault at a time is injected; after
each, the drill waits for the site to answer again, counts the acknowledged writes it no longer has, and asks
for a preview, which must be empty: a fault is survived when the site came back, lost nothing it had
acknowledged and needs no change. One line a fault, then the last line:

    faults=<n> survived=<n> lost_writes=<n> max_recovery_s=<seconds>

The primary lost during a nightly transfer is drilled on a DR pair of one-host sites on node4 and node5, its
link slowed to a WAN's rate so that the cut falls inside the transfer.

    sudo .venv/bin/python bench/fault_drill.py [--only reboot-master,pg-killed]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.failover_drill import give_the_site_data
from components.certificate_authority import SERVER_EARLY_RENEWAL_HOURS, SERVER_VALIDITY_HOURS
from scripts.sim.node import DOCKER_PIDFILE, Node
from tests.cluster.conftest import UPGRADE_VERSIONS, missing_prerequisite
from tests.cluster.dr_pair import dr_pair
from tests.cluster.sim import SshAgent, benchmark_cluster, lane_engine, set_link
from tests.cluster.site_driver import (
    ADMIN_PASSWORD,
    SITE,
    Site,
    all_users,
    api,
    config_keys,
    healthy,
    wait_for,
)
from tests.engine.engine import Backend, EngineError

WRITE_EVERY = 0.5
RECOVERY_WAIT = 600
# The WAN the DR pair's transfer crosses, slow enough for the cut to land inside a transfer.
WAN_RATE = "4mbit"
TOOLS = SITE.backup.tools_directory


@dataclass
class Writer:
    """Users created through the site's API at a steady rate; what it acknowledged is what must survive."""

    site: Site
    acknowledged: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    rounds: int = 0

    def run(self) -> None:
        while not self.stop.is_set():
            self.rounds += 1
            email = f"drill-{self.rounds}@example.com"
            body = {"name": f"drill-{self.rounds}", "email": email, "password": f"drill-{self.rounds}-pw-1"}
            try:
                if api(self.site, "POST", "/user", body)[0] == 201:
                    self.acknowledged.append(email)
            except (OSError, AssertionError, KeyError):
                pass  # the site is down or destroyed (no outputs): nothing acknowledged, nothing owed
            self.stop.wait(WRITE_EVERY)

    def acknowledged_since(self, mark: int) -> bool:
        return len(self.acknowledged) > mark


@dataclass
class Outcome:
    fault: str
    recovery: str
    seconds: float
    lost: int
    converged: bool
    note: str = ""

    @property
    def survived(self) -> bool:
        return self.lost == 0 and self.converged and not self.note

    def line(self) -> str:
        verdict = "survived" if self.survived else f"NOT survived: {self.note or 'see figures'}"
        return (f"{self.fault}: recovery={self.recovery!r} seconds={self.seconds:.1f} lost_writes={self.lost} "
                f"converged={self.converged} {verdict}")  # fmt: skip


@dataclass
class Fault:
    name: str
    recovery: str
    inject: Callable[[], None]
    recover: Callable[[], None] = lambda: None
    # Besides the master's services healthy and a write taken: what else must be back.
    back: Callable[[], bool] = lambda: True


def lost_writes(site: Site, writer: Writer) -> int:
    users = {user["email"] for user in all_users(site)}
    return sum(1 for email in writer.acknowledged if email not in users)


def converged(site: Site) -> bool:
    return site.preview().diff() == []


def drill_one(site: Site, writer: Writer, fault: Fault) -> Outcome:
    """Inject, recover, and time from the fault to the site taking writes again with every service healthy."""
    started = time.monotonic()
    note = ""
    try:
        fault.inject()
        fault.recover()
        mark = len(writer.acknowledged)
        wait_for(f"{site.name} healthy after {fault.name}", lambda: healthy(site), timeout=RECOVERY_WAIT)
        wait_for(f"a write acknowledged after {fault.name}", lambda: writer.acknowledged_since(mark),
                 timeout=RECOVERY_WAIT)  # fmt: skip
        wait_for(f"what {fault.name} took back", fault.back, timeout=RECOVERY_WAIT)
    except Exception as error:  # a drill reports what broke and goes on to the next fault
        note = f"{type(error).__name__}: {error}"[:300]
    seconds = time.monotonic() - started
    return Outcome(fault.name, fault.recovery, seconds, lost_writes(site, writer), converged(site), note)


def worker_back(site: Site, worker: Node) -> bool:
    """The worker's swarm node Ready and its engine relay, placement's way in, running."""
    listing = site.master.docker("node", "ls", "--format", "{{.Hostname}} {{.Status}}").stdout
    ready = dict(line.split() for line in listing.splitlines()).get(worker.name) == "Ready"
    return ready and worker.inspect(f"{site.name}-socat")["State"]["Running"]


def kill_dockerd(node: Node) -> None:
    """SIGKILL, then what an init system's Restart=always does: start it again."""
    pid = node.ssh(f"cat {DOCKER_PIDFILE}").stdout.strip()
    subprocess.run(["kill", "-KILL", pid], check=True)
    wait_for(f"dockerd gone on {node.name}", lambda: not Path(f"/proc/{pid}").exists())
    node.ssh(SITE.master.docker_restart_command)


def kill_postgres(site: Site) -> None:
    """The database's own process killed, not `docker kill` (which counts as stopped by hand)."""
    pid = site.container("postgres")["State"]["Pid"]
    subprocess.run(["kill", "-KILL", str(pid)], check=True)


def partition_during_up(site: Site, worker: Node) -> None:
    """A worker cut off while an `up` has something to do on every host (one more peer in the firewall)."""
    firewall = site.config.get("codenvy-infra:firewall") or SITE.firewall.model_dump(
        mode="json", by_alias=True, exclude_none=True
    )
    site.remember(firewall={**firewall, "peerCidrs": [*firewall.get("peerCidrs", []), "192.0.2.0/24"]})
    set_link(worker, "down")
    try:
        site.up()
    except EngineError as error:
        print(f"  the up while {worker.name} is cut off: {str(error).splitlines()[0][:160]}")
    finally:
        set_link(worker, "up")


def full_backup_disk(site: Site) -> None:
    """The backup directory on a filesystem with no room: the backup must fail loudly, leave nothing behind
    and touch nothing else; with room again, it must succeed."""
    directory = SITE.backup.directory
    master = site.master
    master.ssh(f"mkdir -p {directory} && mount -t tmpfs -o size=1m tmpfs {directory}")
    try:
        master.ssh(f"dd if=/dev/zero of={directory}/filler bs=64k 2> /dev/null || true")
        failed = master.ssh(f"{TOOLS}/codenvy-backup-{site.name}", check=False)
        left = [name for name in master.ssh(f"ls -A {directory}").stdout.split() if name != "filler"]
        if failed.returncode == 0 or left:
            raise AssertionError(f"backup on a full disk: exit {failed.returncode}, left behind {left}")
    finally:
        master.ssh(f"umount {directory}")
    master.ssh(f"{TOOLS}/codenvy-backup-{site.name}")


def failed_start(site: Site) -> None:
    """The registry's container gone while another process holds its port: the `up` that makes it again
    cannot start it (the provider records the container it created); the port is then freed."""
    master, port = site.master, SITE.registry.port
    master.docker("rm", "--force", f"{site.name}-registry")
    hold = (
        "import socket, time; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
        f"s.bind(('0.0.0.0', {port})); s.listen(); print('held', flush=True); time.sleep(600)"
    )
    holder = subprocess.Popen([*master.enter_argv(), "python3", "-c", hold], stdout=subprocess.PIPE, text=True)
    try:
        if holder.stdout is None or holder.stdout.readline().strip() != "held":
            raise AssertionError(f"port {port} could not be held")
        try:
            site.up()
        except EngineError as error:
            print(f"  the up with port {port} taken: {str(error).splitlines()[0][:160]}")
        else:
            raise AssertionError(f"the up with port {port} taken did not fail")
    finally:
        holder.kill()
        holder.wait(timeout=30)


def past_renewal(site: Site) -> None:
    """The tls provider's clock in the leaf certificates' renewal window (the CA has years left): the `up` that
    renews them replaces what serves with them while the site stays up for what it can."""
    window = site.engine.now() + timedelta(hours=SERVER_VALIDITY_HOURS - SERVER_EARLY_RENEWAL_HOURS)
    site.engine.now = lambda: window


def destroy_and_up(site: Site) -> None:
    site.engine.destroy()
    site.up()


def site_faults(site: Site) -> list[Fault]:
    master, worker = site.master, site.nodes["node2"]
    restart = SITE.master.docker_restart_command
    return [
        Fault("reboot-master", "none: containers restart always", lambda: master.ssh(restart)),
        Fault(
            "reboot-worker",
            "none: the worker's daemon rejoins",
            lambda: worker.ssh(restart),
            back=lambda: worker_back(site, worker),
        ),
        Fault("dockerd-sigkill", "init system restarts dockerd", lambda: kill_dockerd(master)),
        Fault("pg-killed", "none: restart policy", lambda: kill_postgres(site)),
        Fault(
            "partition-during-up", "heal, then `up`", lambda: partition_during_up(site, site.nodes["node3"]), site.up
        ),
        Fault("full-backup-disk", "free the disk; the next backup runs", lambda: full_backup_disk(site)),
        Fault("failed-start", "free the port, then `up`", lambda: failed_start(site), site.up),
        Fault("certificates-past-renewal", "`up`", lambda: past_renewal(site), site.up),
        Fault("destroy-then-up", "`up` (volumes kept)", lambda: destroy_and_up(site)),
    ]


def transfer_cut(nodes: list[Node], agent: SshAgent) -> Outcome:
    """The standby's nightly archive transfer with the primary lost half-way: it must fail within a bound,
    keep the standby serving, and the next night's run after the primary returns must fetch and restore."""
    primary, standby = dr_pair(nodes, Backend(), agent, replication="archive")
    primary.up()
    standby.up()
    wait_for("the DR pair healthy", lambda: healthy(primary) and healthy(standby))
    give_the_site_data(primary)
    primary.master.ssh(f"{TOOLS}/codenvy-backup-{primary.name}")
    transfer = f"{TOOLS}/codenvy-transfer-{standby.name} archive"
    # What the standby receives leaves the bridge through its own link: shaping that egress slows the fetch.
    subprocess.run(["tc", "qdisc", "add", "dev", nodes[1].host_link, "root", "tbf", "rate", WAN_RATE,
                    "burst", "32kbit", "latency", "400ms"], check=True)  # fmt: skip
    started = time.monotonic()
    running = subprocess.Popen(standby.master.ssh_argv(transfer), stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    note = ""
    try:
        wait_for("the transfer under way", lambda: standby.master.ssh("pgrep -x rsync", check=False).returncode == 0,
                 every=0.2)  # fmt: skip
        set_link(nodes[0], "down")
        try:
            running.wait(timeout=RECOVERY_WAIT)
        except subprocess.TimeoutExpired:
            note = f"the cut transfer still hung after {RECOVERY_WAIT} s"
            running.kill()
        if running.returncode == 0:
            note = "the cut transfer reported success"
        if not healthy(standby):
            note = note or f"the standby unhealthy after the cut: {healthy(standby)!r}"
    finally:
        set_link(nodes[0], "up")
        subprocess.run(["tc", "qdisc", "del", "dev", nodes[1].host_link, "root"], check=False)
    # The primary is back: the next night's run fetches (an rsync-damaged copy would fail its sums) and restores.
    outcome = standby.master.ssh(transfer, check=False)
    if outcome.returncode != 0:
        note = note or f"the transfer after the primary returned failed: {outcome.stdout[-200:]}{outcome.stderr}"
    seconds = time.monotonic() - started
    return Outcome("primary-lost-during-transfer", "next night's transfer", seconds, 0, converged(standby), note)


def sim_site(nodes: list[Node], agent: SshAgent) -> Site:
    config = config_keys({"adminPassword": ADMIN_PASSWORD})
    return Site(lane_engine("sim", nodes[:3], Backend(), agent), {node.name: node for node in nodes[:3]}, config)


def drill(only: set[str] | None) -> list[Outcome]:
    outcomes: list[Outcome] = []
    with benchmark_cluster(5, *UPGRADE_VERSIONS) as (nodes, agent):
        site = sim_site(nodes, agent)
        site.up()
        wait_for("the site healthy", lambda: healthy(site))
        writer = Writer(site)
        thread = threading.Thread(target=writer.run, daemon=True)
        thread.start()
        for fault in site_faults(site):
            if only is None or fault.name in only:
                outcomes.append(drill_one(site, writer, fault))
                print(outcomes[-1].line(), flush=True)
        writer.stop.set()
        thread.join(timeout=60)
        if only is None or "primary-lost-during-transfer" in only:
            outcomes.append(transfer_cut(nodes[3:], agent))
            print(outcomes[-1].line(), flush=True)
    return outcomes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated fault names")
    args = parser.parse_args()
    reason = missing_prerequisite()
    if reason:
        print(f"fault_drill: {reason}", file=sys.stderr)
        return 1
    outcomes = drill(set(args.only.split(",")) if args.only else None)
    survived = sum(outcome.survived for outcome in outcomes)
    lost = sum(outcome.lost for outcome in outcomes)
    slowest = max((outcome.seconds for outcome in outcomes), default=0.0)
    print(f"faults={len(outcomes)} survived={survived} lost_writes={lost} max_recovery_s={slowest:.1f}")
    return 0 if survived == len(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
