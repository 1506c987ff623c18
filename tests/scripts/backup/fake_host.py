"""The backup tools run for real with docker, ssh and rsync stubbed on PATH, and the sites and archives they are run
on."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from components.config_loader import load_site_config
from tests.stack_values import raw


def fake_bin(tmp_path: Path) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls.log"
    tools = {
        # `docker cp CONTAINER:/instance/codenvy.ver -` gives a tar with the version; other copies a small tar.
        "docker": f"""#!/usr/bin/env bash
echo "docker $*" >> {log}
scratch=$(mktemp -d)
case "$1 $2" in
  "cp "*codenvy.ver) printf '5.22.0\\n' > "$scratch/codenvy.ver"; tar -C "$scratch" -cf - codenvy.ver ;;
  "cp "*) printf 'data\\n' > "$scratch/file"; tar -C "$scratch" -cf - file ;;
  "exec "*) printf 'dump\\n' ;;
esac
rm -rf "$scratch"
""",
        # The remote command runs here; the known_hosts file it was given is logged.
        "ssh": f"""#!/usr/bin/env bash
echo "ssh $*" >> {log}
for arg in "$@"; do
  case "$arg" in UserKnownHostsFile=*) cat "${{arg#UserKnownHostsFile=}}" >> {log} ;; esac
done
bash -c "${{@: -1}}"
""",
        # A remote source (ADDRESS:path) is this machine's path; what rsync prints of its transfer, a line.
        "rsync": f"""#!/usr/bin/env bash
echo "rsync $*" >> {log}
source="${{@: -2:1}}"
cp "${{source#*:}}" "${{@: -1}}"
echo "Total bytes received: 7"
""",
    }
    for name, text in tools.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    log.touch()
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"}


def run(script: str, env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", "-c", script, "script", *args],
        env=env,
        cwd=cwd,
        text=True,
        capture_output=True,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )


def backup_site(directory: Path, keep: int = 1):
    return load_site_config(raw(backup={"directory": str(directory), "keep": keep, "schedule": None}))
