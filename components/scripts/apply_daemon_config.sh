#!/usr/bin/env bash
# Write /etc/docker/daemon.json and restart Docker only when its content changed; the containers that
# ran before the restart run again after it.
set -euo pipefail
# params: DAEMON_JSON NODE_NAME RESTART_COMMAND
# The restart stops every container, and the daemon brings an on-failure one back only if it exited
# non-zero: PostgreSQL exits 0 on SIGTERM and would stay stopped, taking the site with it.
target=/etc/docker/daemon.json
if [ -f "$target" ] && [ "$(cat "$target")" = "$(printf '%s' "$DAEMON_JSON")" ]; then
  echo "daemon.json on $NODE_NAME: unchanged"
  exit 0
fi
running=$(docker ps --quiet --no-trunc 2> /dev/null || true)
mkdir -p /etc/docker
staged=$(mktemp /etc/docker/.daemon.json.XXXXXX)
printf '%s\n' "$DAEMON_JSON" > "$staged"
chmod 0644 "$staged"
mv "$staged" "$target"
if ! sh -c "$RESTART_COMMAND" >&2; then
  echo "daemon.json on $NODE_NAME: written, but the restart command failed: $RESTART_COMMAND" >&2
  exit 1
fi
answered=false
for _ in $(seq 1 60); do
  if docker info > /dev/null 2>&1; then
    answered=true
    break
  fi
  sleep 1
done
if [ "$answered" != true ]; then
  echo "daemon.json on $NODE_NAME: Docker did not answer within 60 s of its restart" >&2
  exit 1
fi
failed=()
# Oldest first (docker ps lists newest first): a site's database before the server that needs it.
for id in $(tac <<< "$running"); do
  # "false" for a stopped container; gone ones (--rm) are skipped, and swarm restarts its own tasks.
  state=$(docker inspect --format '{{.State.Running}}{{index .Config.Labels "com.docker.swarm.task.id"}}' "$id" \
    2> /dev/null || echo gone)
  if [ "$state" = false ] && ! docker start "$id" > /dev/null; then
    failed+=("$id")
  fi
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "daemon.json on $NODE_NAME: updated; Docker restarted, but these containers did not start again: ${failed[*]}" >&2
  exit 1
fi
echo "daemon.json on $NODE_NAME: updated; Docker restarted with $(wc -w <<< "$running") container(s) running again"
