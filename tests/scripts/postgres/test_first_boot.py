"""Scripts that reach PostgreSQL wait for its real server, not the one the official entrypoint runs on its
socket alone during a first boot and stops again: run against a `docker` whose container goes through
exactly those phases."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.script_templates import render_script
from tests.harness import script_of
from tests.harness.dr_evaluations import streaming_primary

# The container a script execs into is in its first boot for the first call (its socket answers, TCP does
# not), then has no server at all for three calls (the entrypoint stopped it), then runs the real server.
FIRST_BOOT_DOCKER = r"""#!/usr/bin/env bash
if [ "$1" != exec ]; then
  cat > /dev/null
  exit 0
fi
calls=$(( $(cat "$STATE" 2> /dev/null || echo 0) + 1 ))
echo "$calls" > "$STATE"
[ "$2" = -i ] && cat > /dev/null
over_tcp=false
case " $* " in *" -h 127.0.0.1 "*) over_tcp=true ;; esac
if [ "$calls" -eq 1 ] && ! "$over_tcp"; then
  exit 0
fi
if [ "$calls" -le 4 ]; then
  echo "psql: error: connection to server on socket \"/var/run/postgresql/.s.PGSQL.5432\" failed" >&2
  exit 2
fi
exit 0
"""


@pytest.fixture
def first_boot(tmp_path: Path) -> dict[str, str]:
    """The environment of a script on a host whose PostgreSQL container is in its first boot."""
    for name, text in {"docker": FIRST_BOOT_DOCKER, "sleep": "#!/bin/sh\n"}.items():
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o755)
    return {"PATH": f"{tmp_path}:/usr/bin:/bin", "STATE": str(tmp_path / "calls")}


def run(script: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "-c", script], input=stdin, env=env, capture_output=True, text=True)


def test_the_replication_role_is_set_on_the_real_server(first_boot):
    role = streaming_primary().named("codenvy-master-replication-role")
    result = run(script_of(role), first_boot, stdin="s3cret")
    assert result.returncode == 0, result.stderr


def test_the_config_is_not_reloaded_into_a_first_boot_server(first_boot):
    config = streaming_primary().named("codenvy-master-replication-config")
    result = run(script_of(config), first_boot, stdin=config.inputs["stdin"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": written"), "reloaded into a server about to stop"


def test_the_config_is_reloaded_into_a_running_server(first_boot):
    Path(first_boot["STATE"]).write_text("10")  # long past its first boot
    config = streaming_primary().named("codenvy-master-replication-config")
    result = run(script_of(config), first_boot, stdin=config.inputs["stdin"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith(": written and reloaded")


def test_a_promotion_restores_into_the_real_server(first_boot, tmp_path):
    (tmp_path / "incoming").mkdir()
    (tmp_path / "incoming" / "codenvy-backup.tar").write_text("")
    restore_tool = tmp_path / "restore"
    restore_tool.write_text('#!/usr/bin/env bash\nexec docker exec codenvy-postgres psql -c "SELECT 1"\n')
    restore_tool.chmod(0o755)
    script = render_script(
        "promotion_restore",
        incoming_dir=tmp_path / "incoming",
        postgres="codenvy-postgres",
        restore_tool=restore_tool,
        site_name="codenvy-dr",
    )
    result = run(script, first_boot)
    assert result.returncode == 0, result.stderr


def test_a_server_that_never_answers_fails_the_wait_by_name(first_boot, tmp_path):
    (tmp_path / "docker").write_text("#!/bin/sh\nexit 2\n")
    role = streaming_primary().named("codenvy-master-replication-role")
    result = run(script_of(role), first_boot, stdin="s3cret")
    assert result.returncode != 0 and "codenvy-postgres did not accept connections: 90 tries" in result.stderr
