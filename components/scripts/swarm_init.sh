#!/usr/bin/env bash
# Make this host a Swarm manager (once) and print the swarm's cluster ID, never the join token; a swarm
# OWNER initialised, or an earlier resource of this stack owns, is marked as its own (its delete leaves it).
set -euo pipefail
# params: ADVERTISE_ADDR NODE_NAME OWNER STATE_DIR SWARM_ROLE
# Claiming from an earlier resource of the stack matters after a move or rename: the engine deletes that one
# after this create, and its delete must find it no longer owns the swarm. Another stack's swarm, or one made
# by hand, is left alone.
# SWARM_ROLE ("manager" here) is the marker the policy pack counts managers by (swarm-managers-odd); the
# messages below name it.
state=$(docker info --format "{{.Swarm.LocalNodeState}}")
case "$state" in
  active)
    if [ "$(docker info --format "{{.Swarm.ControlAvailable}}")" != true ]; then
      echo "swarm on $NODE_NAME: this host is in a swarm but is not a manager; leave it first" >&2
      exit 1
    fi
    owner=$(cat "$STATE_DIR/swarm.owner" 2> /dev/null || true)
    if [ -n "$owner" ] && [ "$owner" != "$OWNER" ] && [ "${owner%/*}" = "${OWNER%/*}" ]; then
      printf '%s\n' "$OWNER" > "$STATE_DIR/swarm.owner"
      echo "swarm on $NODE_NAME: already initialised; now owned by $OWNER, not $owner" >&2
    else
      echo "swarm on $NODE_NAME: already initialised" >&2
    fi
    ;;
  inactive)
    docker swarm init --advertise-addr "$ADVERTISE_ADDR" > /dev/null
    mkdir -p "$STATE_DIR"
    printf '%s\n' "$OWNER" > "$STATE_DIR/swarm.owner"
    echo "swarm on $NODE_NAME: initialised, a $SWARM_ROLE advertising $ADVERTISE_ADDR" >&2
    ;;
  *)
    echo "swarm on $NODE_NAME: node state is '$state'; fix the daemon, then run again" >&2
    exit 1
    ;;
esac
docker info --format "{{.Swarm.Cluster.ID}}"
