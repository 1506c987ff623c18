"""What the file sync refuses (an empty mountpoint, devices, setuid files, outward links), and the converged pair:
healthy, with empty previews and scripts that change nothing when run again."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from tests.cluster.dr_pair import STANDBY_SITE
from tests.cluster.host_state import changes_when_run_again
from tests.cluster.site_driver import SITE
from tests.cluster.streaming_dr.steps import pair_state, tool

# In front of the standby's docker and rsync: a `volume inspect` that prints nothing (a daemon's empty answer),
# and, should the transfer not refuse that, an rsync that never writes outside the standby's volume.
EMPTY_ANSWER = """#!/bin/sh
[ "$1" = volume ] && exit 0
exec /usr/bin/docker "$@"
"""
RSYNC_GUARD = f"""#!/bin/bash
case "${{@: -1}}" in
  *:* | */volumes/{STANDBY_SITE}-fs/_data/) exec /usr/bin/rsync "$@" ;;
esac
echo "lane guard: rsync into ${{@: -1}} refused" >&2
exit 99
"""


def test_the_file_sync_refuses_an_empty_mountpoint(standby, pair):
    """About 1 s: the nodes share this machine's /tmp."""
    with tempfile.TemporaryDirectory() as shadow:
        for name, text in (("docker", EMPTY_ANSWER), ("rsync", RSYNC_GUARD)):
            (Path(shadow) / name).write_text(text)
            (Path(shadow) / name).chmod(0o755)
        command = f"{SITE.backup.tools_directory}/codenvy-transfer-{standby.name} files"
        result = standby.master.ssh(f"PATH={shadow}:$PATH {command}", check=False)
    assert result.returncode == 1 and f"the volume {STANDBY_SITE}-fs has no usable mountpoint here" in result.stderr


@pytest.mark.parametrize("named", ["fs/hostile-null (a device node)", "fs/hostile-suid (setuid)",
                                   "fs/hostile-root (a link out of fs/)"])  # fmt: skip
def test_the_file_sync_refuses_device_setuid_and_outward_link_entries_by_name(hostile_sync, named):
    assert named in hostile_sync[0].stderr


def test_the_file_sync_leaves_refused_entries_on_the_primary(hostile_sync):
    assert not [name for name in hostile_sync[1] if name.startswith("hostile-")]


def test_the_status_tool_reports_a_healthy_replica(standby, pair):
    assert tool(standby, "replication").stdout.strip().endswith(f"replication of {STANDBY_SITE}: healthy")


def test_the_standbys_second_preview_is_empty(standby, pair):
    assert standby.preview().diff() == []


def test_the_primarys_second_preview_is_empty(primary, pair):
    assert primary.preview().diff() == []


def test_every_script_run_again_on_the_converged_pair_changes_nothing(primary, standby, pair):
    changed, printed = changes_when_run_again(lambda: pair_state(primary, standby), primary.engine, standby.engine)
    assert changed == [], printed
