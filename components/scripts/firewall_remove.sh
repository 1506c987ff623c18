#!/usr/bin/env bash
# Remove the site's nftables table; a no-op when it is not loaded.
set -euo pipefail
# params: NODE_NAME
if command -v nft > /dev/null && nft list table inet codenvy > /dev/null 2>&1; then
  nft delete table inet codenvy
  echo "firewall on $NODE_NAME: removed"
else
  echo "firewall on $NODE_NAME: not loaded"
fi
rm -f /etc/codenvy/firewall.nft
