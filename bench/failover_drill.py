#!/usr/bin/env python3
"""Benchmark (not a test): a failover drill on the simulated cluster. A primary on node1 and a hot standby
on node2; a writer creates users, workspaces, limits and project files through the primary's API at a
steady rate; the primary's host is cut off the network; the promoting `up` runs on the standby; then the
drill counts what the standby has. The last line:

    rpo_s=<seconds of acknowledged writes lost> rto_s=<cut-off to the standby answering its API over HTTPS
    after promotion> nightly_mb=<a night's transfer of an unchanged site> full_mb=<a full archive>

What it had is counted after: every acknowledged user, workspace and limit is looked up on the standby.

    sudo .venv/bin/python bench/failover_drill.py [--replication streaming|archive] [--write-seconds 90]

`streaming` is continuous DR (the default for a hot standby); `archive` is the nightly archive restored on
the standby, the only way before it, with the night's transfer run when the writer starts. cron does not
run on the simulated hosts: the drill runs the file sync itself, on its schedule (every minute).
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.cluster.conftest import UPGRADE_VERSIONS, missing_prerequisite
from tests.cluster.dr_pair import dr_pair
from tests.cluster.sim import benchmark_cluster, set_link
from tests.cluster.site_driver import (
    SITE,
    STACK_IMAGE,
    Site,
    all_users,
    api,
    create_workspace,
    healthy,
    wait_for,
    workspace_config,
)
from tests.engine.engine import Backend

FILE_SYNC_EVERY = 60.0
WRITE_EVERY = 0.5
DATA_FILES, DATA_FILE_BYTES = 64, 256 * 1024


@dataclass
class Writes:
    """What the primary acknowledged, in order: (monotonic time, kind, key)."""

    acknowledged: list[tuple[float, str, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def write_steadily(primary: Site, writes: Writes) -> None:
    """One user, a workspace (the admin's), the user's limit and a project file per round, until stopped or cut
    off."""
    round_number = 0
    while not writes.stop.is_set():
        round_number += 1
        name = f"drill-{round_number}"
        try:
            body = {"name": name, "email": f"{name}@example.com", "password": f"{name}-pw-1"}
            status, user = api(primary, "POST", "/user", body)
            if status != 201:
                writes.stop.wait(WRITE_EVERY)
                continue
            writes.acknowledged.append((time.monotonic(), "user", body["email"]))
            status, workspace = api(
                primary, "POST", "/workspace?namespace=admin", workspace_config(f"ws-{name}", STACK_IMAGE)
            )
            if status == 201:
                writes.acknowledged.append((time.monotonic(), "workspace", workspace["id"]))
                path = f"{workspace['id']}/{round_number}.txt"
                if api(primary, "PUT", f"/project/{path}", str(round_number).encode())[0] == 201:
                    writes.acknowledged.append((time.monotonic(), "file", path))
            limits = {"accountId": user["id"], "resources": [{"type": "workspace", "amount": 3}]}
            if api(primary, "POST", "/resource/free", limits)[0] == 201:
                writes.acknowledged.append((time.monotonic(), "limit", user["id"]))
        except OSError:
            return  # cut off
        writes.stop.wait(WRITE_EVERY)


def what_the_standby_has(standby: Site) -> dict[str, set[str]]:
    return {
        "user": {user["email"] for user in all_users(standby)},
        "workspace": {workspace["id"] for workspace in api(standby, "GET", "/workspace")[1]},
        "limit": {entry["accountId"] for entry in api(standby, "GET", "/resource/free?maxItems=100000")[1]},
    }


def lost_seconds(writes: Writes, has: dict[str, set[str]], kinds: tuple[str, ...], cut: float, standby: Site) -> float:
    """Seconds before the cut-off since which some acknowledged write of `kinds` is missing on the standby."""
    missing = [at for at, kind, key in writes.acknowledged if kind in kinds and not present(standby, has, kind, key)]
    return max(0.0, cut - min(missing)) if missing else 0.0


def present(standby: Site, has: dict[str, set[str]], kind: str, key: str) -> bool:
    if kind == "file":
        return api(standby, "GET", f"/project/{key}")[0] == 200
    return key in has[kind]


def transfer(standby: Site, job: str) -> str:
    tool = f"{SITE.backup.tools_directory}/codenvy-transfer-{standby.name}"
    return standby.master.ssh(f"{tool} {job}").stdout


def backup_megabytes(primary: Site) -> float:
    """A fresh archive of the primary, its size in MB."""
    archive = primary.master.ssh(f"{SITE.backup.tools_directory}/codenvy-backup-{primary.name}").stdout.split()[-1]
    return int(primary.master.ssh(f"stat -c %s {archive}").stdout) / 1e6


def nightly_megabytes(primary: Site, standby: Site) -> tuple[float, float]:
    """Two nights of an unchanged site: the second night's transfer, in MB received, and a full archive."""
    full = backup_megabytes(primary)
    transfer(standby, "archive")
    time.sleep(1.1)  # the archive's name has a one-second stamp
    backup_megabytes(primary)
    received = [line for line in transfer(standby, "archive").splitlines() if "bytes received" in line]
    return int(received[-1].split()[-1].replace(",", "")) / 1e6, full


def give_the_site_data(primary: Site) -> None:
    """Project files that do not compress (DATA_FILES of DATA_FILE_BYTES), so an archive weighs what its data
    does and a night's transfer is measured against a site with something in it; and no limit on the admin's
    workspaces, which the writer makes one a round (-1: unlimited, che's AbstractExhaustibleResource)."""
    unlimited = {"accountId": "admin", "resources": [{"type": "workspace", "amount": -1}]}
    assert api(primary, "POST", "/resource/free", unlimited)[0] == 201
    workspace = create_workspace(primary, None, "data")
    for number in range(DATA_FILES):
        api(primary, "PUT", f"/project/{workspace}/data/{number}.bin", os.urandom(DATA_FILE_BYTES))


def write_and_sync(standby: Site, replication: str, write_seconds: float) -> None:
    """The writer's day: when streaming, the file sync runs every FILE_SYNC_EVERY seconds from the start, as
    cron would, whatever the phase the cut-off falls in."""
    started = time.monotonic()
    next_sync, end = started + FILE_SYNC_EVERY, started + write_seconds
    while (now := time.monotonic()) < end:
        time.sleep(max(0.0, min(next_sync, end) - now))
        if replication == "streaming" and time.monotonic() >= next_sync:
            transfer(standby, "files")
            next_sync += FILE_SYNC_EVERY


def drill(replication: str, write_seconds: float) -> dict[str, float]:
    figures: dict[str, float] = {}
    with benchmark_cluster(2, *UPGRADE_VERSIONS) as (nodes, agent):
        primary, standby = dr_pair(nodes, Backend(), agent, replication=replication)
        primary.up()
        wait_for("the primary healthy", lambda: healthy(primary))
        standby.up()
        wait_for("the standby healthy", lambda: healthy(standby))
        give_the_site_data(primary)
        if replication == "streaming":
            transfer(standby, "files")
        # Two nights with nothing written between; the second night's transfer (and, archive, its restore)
        # is also where the day before the failure starts from.
        figures["nightly_mb"], figures["full_mb"] = nightly_megabytes(primary, standby)

        writes = Writes()
        writer = threading.Thread(target=write_steadily, args=(primary, writes), daemon=True)
        writer.start()
        write_and_sync(standby, replication, write_seconds)

        # The primary's host loses its only link: nothing reaches it or leaves it any more.
        set_link(nodes[0], "down")
        cut = time.monotonic()
        writes.stop.set()
        writer.join(timeout=30)
        standby.remember(dr={**standby.config["codenvy-infra:dr"], "promote": True})
        standby.up()
        wait_for("the promoted standby answering", lambda: api(standby, "GET", "/stats")[0] == 200, every=0.5)
        figures["rto_s"] = time.monotonic() - cut

        has = what_the_standby_has(standby)
        figures["writes"] = len(writes.acknowledged)
        figures["rpo_s"] = lost_seconds(writes, has, ("user", "workspace", "limit"), cut, standby)
        figures["rpo_files_s"] = lost_seconds(writes, has, ("file",), cut, standby)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replication", choices=("streaming", "archive"), default="streaming")
    parser.add_argument("--write-seconds", type=float, default=90.0)
    args = parser.parse_args()
    reason = missing_prerequisite()
    if reason:
        print(f"failover_drill: {reason}", file=sys.stderr)
        return 1
    figures = drill(args.replication, args.write_seconds)
    print(
        f"replication={args.replication} writes={figures['writes']:.0f} "
        f"rpo_files_s={figures['rpo_files_s']:.1f} (acknowledged writes, {args.write_seconds:.0f} s of writing)"
    )
    print(
        f"rpo_s={figures['rpo_s']:.1f} rto_s={figures['rto_s']:.1f} "
        f"nightly_mb={figures['nightly_mb']:.3f} full_mb={figures['full_mb']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
