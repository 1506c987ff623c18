#!/usr/bin/env bash
# On the manager: wait until the node is Ready, so a converged site means working nodes. With OWNER, also
# claim the node for that membership resource (a node label): only its delete may remove the node.
set -euo pipefail
# params: NODE_ID NODE_NAME OWNER OWNER_LABEL
state=unknown
for _ in $(seq 1 60); do
  state=$(docker node inspect "$NODE_ID" --format "{{.Status.State}}" 2> /dev/null || echo missing)
  if [ "$state" = ready ]; then
    break
  fi
  sleep 1
done
if [ "$state" != ready ]; then
  echo "node $NODE_NAME ($NODE_ID): not ready after 60 s (state: $state)" >&2
  exit 1
fi
if [ -n "$OWNER" ]; then
  claimed=$(docker node inspect "$NODE_ID" --format "{{with index .Spec.Labels \"$OWNER_LABEL\"}}{{.}}{{end}}")
  if [ "$claimed" != "$OWNER" ]; then
    docker node update --label-add "$OWNER_LABEL=$OWNER" "$NODE_ID" > /dev/null
  fi
fi
echo "node $NODE_NAME ($NODE_ID): ready"
