#!/usr/bin/env bash
# On the manager: confirm that a host declared lost is not Ready in the swarm (down, or not in it), so its
# resources may be forgotten without contacting it.
set -euo pipefail
# params: NODE_ADDR NODE_NAME
ready=()
for id in $(docker node ls --quiet); do
  read -r addr state <<< "$(docker node inspect "$id" --format "{{.Status.Addr}} {{.Status.State}}")"
  if [ "$addr" = "$NODE_ADDR" ] && [ "$state" = ready ]; then
    ready+=("$id")
  fi
done
if [ "${#ready[@]}" -gt 0 ]; then
  echo "node $NODE_NAME ($NODE_ADDR) is Ready in the swarm (${ready[*]}): it is not lost; unset nodes[].lost" >&2
  exit 1
fi
echo "node $NODE_NAME ($NODE_ADDR): not Ready in the swarm; its resources are forgotten without contacting it"
