#!/usr/bin/env bash
# Make this host a Swarm manager (once) and print the worker join token on stdout, nothing else.
set -euo pipefail
# params: ADVERTISE_ADDR NODE_NAME
# swarm role: manager
state=$(docker info --format "{{.Swarm.LocalNodeState}}")
case "$state" in
  active)
    if [ "$(docker info --format "{{.Swarm.ControlAvailable}}")" != true ]; then
      echo "swarm on $NODE_NAME: this host is in a swarm but is not a manager; leave it first" >&2
      exit 1
    fi
    echo "swarm on $NODE_NAME: already initialised" >&2
    ;;
  inactive)
    docker swarm init --advertise-addr "$ADVERTISE_ADDR" > /dev/null
    echo "swarm on $NODE_NAME: initialised, advertising $ADVERTISE_ADDR" >&2
    ;;
  *)
    echo "swarm on $NODE_NAME: node state is '$state'; fix the daemon, then run again" >&2
    exit 1
    ;;
esac
docker swarm join-token --quiet worker
