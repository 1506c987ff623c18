#!/usr/bin/env bash
# On the standby master: fetch the primary's newest backup over SSH, then restore it (hot standby) or
# keep it staged for a promotion (cold standby). Fetching and restoring the same archive again is a no-op.
set -euo pipefail
# params: INCOMING_DIR KEY_FILE MODE PRIMARY_ADDR PRIMARY_BACKUP_DIR PRIMARY_PORT PRIMARY_SITE PRIMARY_USER RESTORE_TOOL
ssh_options=(-i "$KEY_FILE" -p "$PRIMARY_PORT" -o BatchMode=yes -o ConnectTimeout=10 -o StrictHostKeyChecking=accept-new)
latest=$(ssh "${ssh_options[@]}" "$PRIMARY_USER@$PRIMARY_ADDR" \
  "ls -1t $PRIMARY_BACKUP_DIR/codenvy-$PRIMARY_SITE-*.tar 2> /dev/null | head -n 1") ||
  { echo "transfer: cannot reach the primary at $PRIMARY_ADDR over SSH" >&2; exit 1; }
if [ -z "$latest" ]; then
  echo "transfer: the primary at $PRIMARY_ADDR has no backup of $PRIMARY_SITE yet" >&2
  exit 1
fi
mkdir -p "$INCOMING_DIR"
local_copy="$INCOMING_DIR/$(basename "$latest")"
if [ -f "$local_copy" ]; then
  echo "transfer: $(basename "$latest") already fetched"
else
  scp -q -P "$PRIMARY_PORT" -i "$KEY_FILE" -o BatchMode=yes -o StrictHostKeyChecking=accept-new \
    "$PRIMARY_USER@$PRIMARY_ADDR:$latest" "$local_copy.partial"
  mv "$local_copy.partial" "$local_copy"
  echo "transfer: fetched $(basename "$latest")"
fi
if [ "$MODE" = hot ]; then
  "$RESTORE_TOOL" "$local_copy"
else
  echo "transfer: $(basename "$latest") staged; a cold standby restores it when promoted"
fi
