#!/usr/bin/env bash
# Take this host out of its swarm; a no-op when it is not in one.
set -euo pipefail
# params: NODE_NAME
state=$(docker info --format "{{.Swarm.LocalNodeState}}")
if [ "$state" = inactive ]; then
  echo "swarm on $NODE_NAME: not a member"
  exit 0
fi
docker swarm leave --force > /dev/null
echo "swarm on $NODE_NAME: left"
