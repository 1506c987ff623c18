#!/usr/bin/env bash
# Make this host's Docker daemon trust the site registry's CA; Docker reads certs.d per pull, no restart.
set -euo pipefail
# params: CA_PEM NODE_NAME REGISTRY
target="/etc/docker/certs.d/$REGISTRY/ca.crt"
if [ -f "$target" ] && [ "$(cat "$target")" = "$CA_PEM" ]; then
  echo "registry CA on $NODE_NAME: unchanged"
  exit 0
fi
mkdir -p "$(dirname "$target")"
printf '%s\n' "$CA_PEM" > "$target.new"
mv "$target.new" "$target"
echo "registry CA on $NODE_NAME: installed for $REGISTRY"
