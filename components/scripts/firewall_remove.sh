#!/usr/bin/env bash
# Unload and unpersist the site's nftables table, only while the firewall being deleted (OWNER) owns it:
# after a rename the new resource owns the table and this delete leaves it alone.
set -euo pipefail
# params: NFTABLES_CONF NODE_NAME OWNER STATE_DIR
target="$STATE_DIR/firewall.nft"
owner_file="$STATE_DIR/firewall.owner"
owner=$(cat "$owner_file" 2> /dev/null || true)
if [ "$owner" != "$OWNER" ]; then
  echo "firewall on $NODE_NAME: owned by ${owner:-nothing the program made}, not $OWNER; left as it is"
  exit 0
fi
if command -v nft > /dev/null && nft list table inet codenvy > /dev/null 2>&1; then
  nft delete table inet codenvy
  echo "firewall on $NODE_NAME: removed"
else
  echo "firewall on $NODE_NAME: not loaded"
fi
if [ -f "$NFTABLES_CONF" ] && grep -qxF "include \"$target\"" "$NFTABLES_CONF"; then
  kept=$(grep -vxF "include \"$target\"" "$NFTABLES_CONF" || true)
  # Rewritten in place, so the file keeps its owner and mode.
  printf '%s\n' "$kept" > "$NFTABLES_CONF"
  echo "firewall on $NODE_NAME: no longer loaded at boot"
fi
rm -f "$target" "$owner_file"
