#!/usr/bin/env bash
# Load the host's nftables table for its role, replacing the previous one atomically, and persist it for
# the host's boot; a no-op when the same rules are loaded, persisted and owned by OWNER.
set -euo pipefail
# params: NFTABLES_CONF NODE_NAME OWNER RULESET STATE_DIR
# Persisted: the rules file is included from the ruleset the host's nftables service loads at boot
# (NFTABLES_CONF), and that service is enabled where systemd runs.
target="$STATE_DIR/firewall.nft"
owner_file="$STATE_DIR/firewall.owner"
include_line="include \"$target\""
persisted() { [ -f "$NFTABLES_CONF" ] && grep -qxF "$include_line" "$NFTABLES_CONF"; }
if ! command -v nft > /dev/null; then
  echo "firewall on $NODE_NAME: nft is missing; install nftables there" >&2
  exit 1
fi
# Command substitution drops trailing newlines on both sides, so the comparison is of the rules alone.
if [ -f "$target" ] && [ "$(cat "$target")" = "$(printf '%s' "$RULESET")" ] &&
  nft list table inet codenvy > /dev/null 2>&1 && persisted &&
  [ "$(cat "$owner_file" 2> /dev/null)" = "$OWNER" ]; then
  echo "firewall on $NODE_NAME: unchanged"
  exit 0
fi
mkdir -p "$STATE_DIR"
printf '%s\n' "$RULESET" > "$target.new"
if ! nft -c -f "$target.new"; then
  echo "firewall on $NODE_NAME: nft rejected the rules; nothing was loaded" >&2
  exit 1
fi
nft -f "$target.new"
mv "$target.new" "$target"
# The delete of this resource unloads the table only while this file still names it (a renamed node's
# new resource claims the table before the old one is deleted).
printf '%s\n' "$OWNER" > "$owner_file"
if ! persisted; then
  mkdir -p "$(dirname "$NFTABLES_CONF")"
  [ -s "$NFTABLES_CONF" ] || printf '#!/usr/sbin/nft -f\n' > "$NFTABLES_CONF"
  printf '%s\n' "$include_line" >> "$NFTABLES_CONF"
fi
if [ -d /run/systemd/system ] && command -v systemctl > /dev/null; then
  if ! systemctl enable --quiet nftables.service 2> /dev/null; then
    echo "firewall on $NODE_NAME: loaded, but nftables.service could not be enabled; the rules are lost at boot" >&2
    exit 1
  fi
  echo "firewall on $NODE_NAME: loaded; persisted in $NFTABLES_CONF (nftables.service enabled)"
else
  echo "firewall on $NODE_NAME: loaded; persisted in $NFTABLES_CONF (no systemd here: its init must load that file)"
fi
