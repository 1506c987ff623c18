#!/usr/bin/env bash
# On the manager: drain the node so its tasks move away, then remove it from the swarm.
set -euo pipefail
# params: NODE_ID NODE_NAME
if ! docker node inspect "$NODE_ID" > /dev/null 2>&1; then
  echo "node $NODE_NAME ($NODE_ID): not in the swarm"
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
