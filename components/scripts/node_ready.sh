#!/usr/bin/env bash
# On the manager: wait until the node is Ready, so a converged site means working nodes.
set -euo pipefail
# params: NODE_ID NODE_NAME
state=unknown
for _ in $(seq 1 60); do
  state=$(docker node inspect "$NODE_ID" --format "{{.Status.State}}" 2> /dev/null || echo missing)
  if [ "$state" = ready ]; then
    echo "node $NODE_NAME ($NODE_ID): ready"
    exit 0
  fi
  sleep 1
done
echo "node $NODE_NAME ($NODE_ID): not ready after 60 s (state: $state)" >&2
exit 1
