#!/usr/bin/env bash
# On the standby master: fetch the primary's newest backup over SSH, then restore it (hot standby) or
# keep it staged for a promotion (cold standby). Fetching and restoring the same archive again is a no-op.
set -euo pipefail
# params: INCOMING_DIR KEY_FILE MODE PRIMARY_ADDR PRIMARY_BACKUP_DIR PRIMARY_HOST_KEY PRIMARY_PORT PRIMARY_SITE PRIMARY_USER RESTORE_TOOL
# Fetched archives hold the primary's database dump: readable by root only.
umask 077
# The primary's archives only (see backup: the stamp's T and Z never occur in a site name).
stamp_glob='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'
if [ -n "$PRIMARY_HOST_KEY" ]; then
  # The pinned key only: a host that answers with another key gets nothing.
  known_hosts=$(mktemp)
  trap 'rm -f "$known_hosts"' EXIT
  # ssh looks a host on port 22 up by its bare address, on any other port as [address]:port.
  printf '%s %s\n[%s]:%s %s\n' "$PRIMARY_ADDR" "$PRIMARY_HOST_KEY" "$PRIMARY_ADDR" "$PRIMARY_PORT" \
    "$PRIMARY_HOST_KEY" > "$known_hosts"
  host_key_options=(-o StrictHostKeyChecking=yes -o UserKnownHostsFile="$known_hosts")
else
  host_key_options=(-o StrictHostKeyChecking=accept-new)
fi
ssh_options=(-i "$KEY_FILE" -o BatchMode=yes -o ConnectTimeout=10 "${host_key_options[@]}")
# The remote shell reads this line again: every value in it is quoted for that shell.
remote_glob="$(printf '%q' "$PRIMARY_BACKUP_DIR/codenvy-$PRIMARY_SITE-")$stamp_glob-*.tar"
latest=$(ssh "${ssh_options[@]}" -p "$PRIMARY_PORT" -l "$PRIMARY_USER" -- "$PRIMARY_ADDR" \
  "ls -1t -- $remote_glob 2> /dev/null | head -n 1") ||
  { echo "transfer: cannot reach the primary at $PRIMARY_ADDR over SSH" >&2; exit 1; }
if [ -n "$latest" ] && { [[ $latest != "$PRIMARY_BACKUP_DIR/codenvy-$PRIMARY_SITE-"*.tar ]] ||
  [[ ! $latest =~ ^[A-Za-z0-9._/+-]+$ ]]; }; then
  echo "transfer: the primary answered an unexpected archive name; nothing fetched" >&2
  exit 1
fi
if [ -z "$latest" ]; then
  echo "transfer: the primary at $PRIMARY_ADDR has no backup of $PRIMARY_SITE yet" >&2
  exit 1
fi
mkdir -p -- "$INCOMING_DIR"
chmod go-rwx -- "$INCOMING_DIR"
local_copy="$INCOMING_DIR/$(basename "$latest")"
if [ -f "$local_copy" ]; then
  echo "transfer: $(basename "$latest") already fetched"
else
  scp -q -P "$PRIMARY_PORT" "${ssh_options[@]}" -o User="$PRIMARY_USER" -- \
    "$PRIMARY_ADDR:$latest" "$local_copy.partial"
  mv "$local_copy.partial" "$local_copy"
  echo "transfer: fetched $(basename "$latest")"
fi
if [ "$MODE" = hot ]; then
  "$RESTORE_TOOL" "$local_copy"
else
  echo "transfer: $(basename "$latest") staged; a cold standby restores it when promoted"
fi
