#!/usr/bin/env bash
# Restart the Docker daemon of the simulated node this runs on (nodes have no systemd); starts it when none runs.
set -euo pipefail
# params: DOCKER_PIDFILE NODES_DIR START_DOCKERD STOP_TIMEOUT
if [ -f "$DOCKER_PIDFILE" ]; then
  pid=$(cat "$DOCKER_PIDFILE")
  kill "$pid" 2> /dev/null || true
  for _ in $(seq 1 "$STOP_TIMEOUT"); do
    kill -0 "$pid" 2> /dev/null || break
    sleep 1
  done
fi
# One helper serves every node: each node's hostname names its directory.
"$NODES_DIR/$(hostname)/$START_DOCKERD"
