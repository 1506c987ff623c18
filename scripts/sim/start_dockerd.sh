#!/usr/bin/env bash
# Start this node's dockerd inside the node's namespaces and wait until it answers; a no-op when it already does.
set -euo pipefail
# params: CGROUP_PARENT DOCKER_PIDFILE DOCKER_SOCKET LOG_FILE NODE_NAME START_TIMEOUT
if docker info > /dev/null 2>&1; then
  exit 0
fi
# The node's default socket for `docker` run inside it, and DOCKER_SOCKET for the host; setsid so the daemon
# outlives this script and the Command that ran it.
setsid dockerd --host unix:///var/run/docker.sock --host "unix://$DOCKER_SOCKET" \
  --pidfile "$DOCKER_PIDFILE" --cgroup-parent "$CGROUP_PARENT" \
  >> "$LOG_FILE" 2>&1 < /dev/null &
for _ in $(seq 1 "$START_TIMEOUT"); do
  if docker info > /dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "$NODE_NAME: dockerd did not answer within $START_TIMEOUT s; see $LOG_FILE" >&2
exit 1
