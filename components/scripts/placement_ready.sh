#!/usr/bin/env bash
# Wait until the placement manager reports every engine of its node list Healthy, so that `up` ends with a
# site that can place workspaces (swarm validates a listed engine only after its next read of the list).
set -euo pipefail
# params: CONTAINER ENGINES SITE_NAME TLS_DIR WAIT_SECONDS
# ENGINES: the node list's engines, separated by spaces. Swarm's /info lists each engine's rows, its Status among
# them (Pending, Healthy, Unhealthy, Disconnected; docker/swarm cluster/swarm/cluster.go Info).
wanted=$(wc -w <<< "$ENGINES")
statuses() {
  docker exec "$CONTAINER" wget -q -O - --ca-certificate="$TLS_DIR/ca.pem" --certificate="$TLS_DIR/cert.pem" \
    --private-key="$TLS_DIR/key.pem" https://127.0.0.1:2376/info 2> /dev/null |
    grep -o 'Status","[A-Za-z]*"' | cut -d'"' -f3 || true
}
seen=""
for waited in $(seq 1 "$WAIT_SECONDS"); do
  seen=$(statuses)
  healthy=$(grep -c '^Healthy$' <<< "$seen" || true)
  if [ "$healthy" -ge "$wanted" ]; then
    echo "placement of $SITE_NAME: $wanted engine(s) healthy: $ENGINES"
    exit 0
  fi
  [ $((waited % 10)) -ne 0 ] || echo "placement of $SITE_NAME: $healthy of $wanted engine(s) healthy; waited $waited of $WAIT_SECONDS s" >&2
  sleep 1
done
echo "placement of $SITE_NAME: not all of $ENGINES healthy within $WAIT_SECONDS s; the manager reports:" \
  "$(sort <<< "$seen" | uniq -c | tr -s ' \n' ' ')" >&2
exit 1
