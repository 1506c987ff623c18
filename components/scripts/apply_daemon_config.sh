#!/usr/bin/env bash
# Write /etc/docker/daemon.json and restart Docker only when its content changed.
set -euo pipefail
# params: DAEMON_JSON NODE_NAME RESTART_COMMAND
target=/etc/docker/daemon.json
if [ -f "$target" ] && [ "$(cat "$target")" = "$(printf '%s' "$DAEMON_JSON")" ]; then
  echo "daemon.json on $NODE_NAME: unchanged"
  exit 0
fi
mkdir -p /etc/docker
staged=$(mktemp /etc/docker/.daemon.json.XXXXXX)
printf '%s\n' "$DAEMON_JSON" > "$staged"
chmod 0644 "$staged"
mv "$staged" "$target"
if ! sh -c "$RESTART_COMMAND" >&2; then
  echo "daemon.json on $NODE_NAME: written, but the restart command failed: $RESTART_COMMAND" >&2
  exit 1
fi
for _ in $(seq 1 60); do
  if docker info > /dev/null 2>&1; then
    echo "daemon.json on $NODE_NAME: updated; Docker restarted"
    exit 0
  fi
  sleep 1
done
echo "daemon.json on $NODE_NAME: Docker did not answer within 60 s of its restart" >&2
exit 1
