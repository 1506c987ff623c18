#!/usr/bin/env bash
# Read-only: what `make status` asks one host of a site. Each answer follows a "== NAME" line; a part that
# does not apply to this host (an empty parameter) is left out. Changes nothing, so it is idempotent.
set -euo pipefail
# params: BACKUP_DIR ENGINE_PORT INCOMING_DIR MANAGER REPLICATION_TOOL SITE_LABEL TLS_DIR
echo "== now"
date +%s
echo "== containers"
docker ps -a --filter "label=$SITE_LABEL" --format '{{.Names}}	{{.State}}	{{.Status}}' || echo "docker did not answer"
archives() {
  find "$1" -maxdepth 1 -type f -name 'codenvy-*.tar' -printf '%T@ %f\n' 2> /dev/null | sort -n | tail -n 1 || true
}
if [ -n "$BACKUP_DIR" ]; then
  echo "== backup"
  archives "$BACKUP_DIR"
fi
if [ -n "$INCOMING_DIR" ]; then
  echo "== transfer"
  archives "$INCOMING_DIR"
fi
if [ -n "$REPLICATION_TOOL" ]; then
  echo "== replication"
  if [ -x "$REPLICATION_TOOL" ]; then "$REPLICATION_TOOL" --check 2>&1 || true; else echo "not installed"; fi
fi
if [ -n "$MANAGER" ]; then
  # The placement manager's own view of its engines (docker/swarm cluster/swarm/cluster.go Info), asked as
  # placement_ready.sh asks it.
  echo "== placement"
  docker exec "$MANAGER" wget -q -O - --ca-certificate="$TLS_DIR/ca.pem" --certificate="$TLS_DIR/cert.pem" \
    --private-key="$TLS_DIR/key.pem" "https://127.0.0.1:$ENGINE_PORT/info" 2> /dev/null || echo "no answer"
fi
