#!/usr/bin/env bash
# Load the host's nftables table for its role, replacing the previous one atomically; a no-op when the
# same rules are already loaded.
set -euo pipefail
# params: NODE_NAME RULESET
target=/etc/codenvy/firewall.nft
if ! command -v nft > /dev/null; then
  echo "firewall on $NODE_NAME: nft is missing; install nftables there" >&2
  exit 1
fi
# Command substitution drops trailing newlines on both sides, so the comparison is of the rules alone.
if [ -f "$target" ] && [ "$(cat "$target")" = "$(printf '%s' "$RULESET")" ] &&
  nft list table inet codenvy > /dev/null 2>&1; then
  echo "firewall on $NODE_NAME: unchanged"
  exit 0
fi
mkdir -p "$(dirname "$target")"
printf '%s\n' "$RULESET" > "$target.new"
if ! nft -c -f "$target.new"; then
  echo "firewall on $NODE_NAME: nft rejected the rules; nothing was loaded" >&2
  exit 1
fi
nft -f "$target.new"
mv "$target.new" "$target"
echo "firewall on $NODE_NAME: loaded"
