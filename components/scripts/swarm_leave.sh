#!/usr/bin/env bash
# Take this host out of its swarm, only while the join being deleted (OWNER) owns the membership: after a
# rename the new resource owns it and this delete leaves the host in the swarm.
set -euo pipefail
# params: NODE_NAME OWNER STATE_DIR
owner=$(cat "$STATE_DIR/swarm.owner" 2> /dev/null || true)
if [ "$owner" != "$OWNER" ]; then
  echo "swarm on $NODE_NAME: membership owned by ${owner:-nothing the program made}, not $OWNER; left as it is"
  exit 0
fi
state=$(docker info --format "{{.Swarm.LocalNodeState}}")
if [ "$state" = inactive ]; then
  echo "swarm on $NODE_NAME: not a member"
else
  docker swarm leave --force > /dev/null
  echo "swarm on $NODE_NAME: left"
fi
rm -f "$STATE_DIR/swarm.owner"
