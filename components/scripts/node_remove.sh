#!/usr/bin/env bash
# On the manager: drain the node and remove it from the swarm, only while the membership being deleted
# (OWNER) has claimed it (after a rename the new one has). A node that is down is removed all the same.
set -euo pipefail
# params: NODE_ID NODE_NAME OWNER OWNER_LABEL
if ! docker node inspect "$NODE_ID" > /dev/null 2>&1; then
  echo "node $NODE_NAME ($NODE_ID): not in the swarm"
  exit 0
fi
claimed=$(docker node inspect "$NODE_ID" --format "{{with index .Spec.Labels \"$OWNER_LABEL\"}}{{.}}{{end}}")
if [ "$claimed" != "$OWNER" ]; then
  echo "node $NODE_NAME ($NODE_ID): claimed by ${claimed:-nothing the program made}, not $OWNER; left in the swarm"
  exit 0
fi
docker node update --availability drain "$NODE_ID" > /dev/null
for _ in $(seq 1 60); do
  if [ -z "$(docker node ps "$NODE_ID" --filter desired-state=running --quiet)" ]; then
    break
  fi
  sleep 1
done
docker node rm --force "$NODE_ID" > /dev/null
echo "node $NODE_NAME ($NODE_ID): drained and removed"
