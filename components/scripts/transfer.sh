#!/usr/bin/env bash
# The standby's transfers from its primary, over SSH with the primary's pinned host key:
set -euo pipefail
# params: DATABASE_USER FS_VOLUME INCOMING_DIR KEY_FILE MODE POSTGRES PRIMARY_ADDR PRIMARY_BACKUP_DIR PRIMARY_FS_VOLUME PRIMARY_HOST_KEY PRIMARY_PORT PRIMARY_SITE PRIMARY_USER RESTORE_TOOL STATE_FILE
#   transfer archive   fetch the primary's newest backup (rsync: only what differs from the archive fetched
#                      before crosses the network), then restore it (MODE restore) or keep it staged (stage)
#   transfer files     make the project data (fs/) a copy of the primary's: changes only, deletions too,
#                      and record the run in STATE_FILE (the replication status tool reads the file sync lag)
# Fetching and restoring the same archive again, and syncing an unchanged tree, change nothing.
umask 077
if [ -n "$PRIMARY_HOST_KEY" ]; then
  # The pinned key only: a host that answers with another key gets nothing.
  known_hosts=$(mktemp)
  trap 'rm -f "$known_hosts"' EXIT
  # ssh looks a host on port 22 up by its bare address, on any other port as [address]:port.
  printf '%s %s\n[%s]:%s %s\n' "$PRIMARY_ADDR" "$PRIMARY_HOST_KEY" "$PRIMARY_ADDR" "$PRIMARY_PORT" \
    "$PRIMARY_HOST_KEY" > "$known_hosts"
  host_key_options="-o StrictHostKeyChecking=yes -o UserKnownHostsFile=$known_hosts"
else
  host_key_options="-o StrictHostKeyChecking=accept-new"
fi
# One line, as rsync's -e takes it; every word is a validated path, address, port or user name. A primary
# lost mid-transfer sends nothing more, and TCP alone would wait hours: ssh gives up after a minute of silence.
ssh_command="ssh -i $KEY_FILE -o BatchMode=yes -o ConnectTimeout=10 -o ServerAliveInterval=15 \
-o ServerAliveCountMax=4 $host_key_options -p $PRIMARY_PORT -l $PRIMARY_USER"
on_primary() { $ssh_command -- "$PRIMARY_ADDR" "$@"; }

fetch_archive() {
  # The primary's archives only (see backup: the stamp's T and Z never occur in a site name).
  local stamp_glob='[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z' remote_glob latest
  # The remote shell reads this line again: every value in it is quoted for that shell.
  remote_glob="$(printf '%q' "$PRIMARY_BACKUP_DIR/codenvy-$PRIMARY_SITE-")$stamp_glob-*.tar"
  latest=$(on_primary "ls -1t -- $remote_glob 2> /dev/null | head -n 1") ||
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
    # --fuzzy: the archive fetched last night is the basis, so an unchanged site moves little.
    rsync -t --fuzzy --stats --timeout=60 -e "$ssh_command" -- "$PRIMARY_ADDR:$latest" "$local_copy.partial" |
      sed -n 's/^Total bytes received: /transfer: bytes received: /p'
    mv "$local_copy.partial" "$local_copy"
    echo "transfer: fetched $(basename "$latest")"
  fi
  if [ "$MODE" = restore ]; then
    "$RESTORE_TOOL" "$local_copy"
  else
    echo "transfer: $(basename "$latest") staged; a promotion or an operator restores it"
  fi
}

sync_files() {
  mkdir -p -- "$(dirname "$STATE_FILE")"
  exec 9> "$STATE_FILE.lock"
  flock -n 9 || { echo "file sync: a run is in progress"; return 0; }
  local started source target output
  # Only a follower's files follow: once this site's database is promoted (the crontab line goes at the end
  # of the promoting run), a sync with --delete would remove what its users write.
  if [ "$(docker exec "$POSTGRES" psql -X -At -U "$DATABASE_USER" -d postgres -c 'SELECT pg_is_in_recovery()' \
    2> /dev/null)" != t ]; then
    echo "file sync: the database here is not a replica of the primary; nothing synced" >&2
    exit 1
  fi
  started=$(date +%s)
  if ! source=$(on_primary docker volume inspect -f '{{.Mountpoint}}' "$PRIMARY_FS_VOLUME") ||
    ! target=$(docker volume inspect -f '{{.Mountpoint}}' "$FS_VOLUME") ||
    ! output=$(rsync -a --delete --numeric-ids --stats --timeout=60 -e "$ssh_command" -- \
      "$PRIMARY_ADDR:$source/" "$target/" 2>&1); then
    record "$started" "failed: ${output:-cannot reach the primary at $PRIMARY_ADDR}"
    echo "file sync: failed: ${output:-cannot reach the primary}" >&2
    exit 1
  fi
  record "$started" ""
  sed -n 's/^Number of regular files transferred: /file sync: files transferred: /p' <<< "$output"
}

# STATE_FILE: the last successful run's start (what the standby's files are as of) and the last error.
record() {
  local last_success=$1
  if [ -n "$2" ] && [ -f "$STATE_FILE" ]; then
    last_success=$(sed -n 's/^last_success=//p' "$STATE_FILE")
  elif [ -n "$2" ]; then
    last_success=0
  fi
  printf 'last_success=%s\nlast_attempt=%s\nlast_error=%s\n' "$last_success" "$1" "$(tr '\n' ' ' <<< "$2")" \
    > "$STATE_FILE.partial"
  mv "$STATE_FILE.partial" "$STATE_FILE"
}

case "${1:-archive}" in
  archive) fetch_archive ;;
  files) sync_files ;;
  *)
    echo "usage: $0 [archive|files]" >&2
    exit 2
    ;;
esac
