#!/usr/bin/env bash
# Write /etc/docker/daemon.json; reload Docker when only what a reload applies changed, else restart it.
set -euo pipefail
# params: DAEMON_JSON NODE_NAME RELOAD_COMMAND RESTART_COMMAND RESTART_FINGERPRINT
# The restart stops every container; the daemon brings back the site's own (restart always), not workspace
# machines, whose server gives them no restart policy: every container that ran is started again. A reload
# (SIGHUP) stops nothing. RESTART_FINGERPRINT names what a reload cannot apply; it is kept beside daemon.json, which
# dockerd alone reads.
target=/etc/docker/daemon.json
fingerprint_file=/etc/docker/daemon.json.restart-fingerprint
if [ -f "$target" ] && [ "$(cat "$target")" = "$(printf '%s' "$DAEMON_JSON")" ]; then
  echo "daemon.json on $NODE_NAME: unchanged"
  exit 0
fi
reload_enough=false
if [ -f "$target" ] && [ -f "$fingerprint_file" ] && [ "$(cat "$fingerprint_file")" = "$RESTART_FINGERPRINT" ]; then
  reload_enough=true
fi
running=$(docker ps --quiet --no-trunc 2> /dev/null || true)
mkdir -p /etc/docker
staged=$(mktemp /etc/docker/.daemon.json.XXXXXX)
printf '%s\n' "$DAEMON_JSON" > "$staged"
chmod 0644 "$staged"
mv "$staged" "$target"
if [ "$reload_enough" = true ]; then
  if ! sh -c "$RELOAD_COMMAND" >&2; then
    echo "daemon.json on $NODE_NAME: written, but the reload command failed: $RELOAD_COMMAND" >&2
    exit 1
  fi
  echo "daemon.json on $NODE_NAME: updated; Docker reloaded it (labels), nothing restarted"
  exit 0
fi
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
printf '%s\n' "$RESTART_FINGERPRINT" > "$fingerprint_file"
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
