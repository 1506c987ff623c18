#!/usr/bin/env bash
# On the manager: print the current worker join token on stdout, nothing else. Read when each node is
# added, so a rotated token is picked up; the Command keeps stdout secret and out of the logs.
set -euo pipefail
# params: NODE_NAME
if [ "$(docker info --format "{{.Swarm.ControlAvailable}}" 2> /dev/null)" != true ]; then
  echo "join token on $NODE_NAME: this host is not a swarm manager; initialise the swarm first" >&2
  exit 1
fi
docker swarm join-token --quiet worker
