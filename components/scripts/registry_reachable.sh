#!/usr/bin/env bash
# Check that a registry answers over TLS from this host (200, or 401 asking for credentials).
set -euo pipefail
# params: NODE_NAME REGISTRY
code=$(curl -sk -o /dev/null -w '%{http_code}' --max-time 10 "https://$REGISTRY/v2/" || true)
case "$code" in
  200 | 401) echo "registry $REGISTRY reachable from $NODE_NAME (HTTP $code)" ;;
  *)
    echo "registry $REGISTRY is not reachable from $NODE_NAME (HTTP ${code:-none}); the standby needs it" >&2
    exit 1
    ;;
esac
