#!/usr/bin/env bash
# The standby's transfers from its primary, over SSH with the primary's pinned host key, as PRIMARY_USER: an
# account whose key may only read the primary's fs/ and archives/ through rsync (the primary's mirror tool):
set -euo pipefail
# params: DATABASE_USER FS_VOLUME INCOMING_DIR KEY_FILE MODE POSTGRES PRIMARY_ADDR PRIMARY_HOST_KEY PRIMARY_PORT PRIMARY_SITE PRIMARY_USER RESTORE_TOOL STATE_FILE
# include: archive_names
# include: volume_mountpoint
# include: refused_entries
#   transfer archive   fetch the primary's newest backup (rsync: only what differs from the archive fetched
#                      before crosses the network), then restore it (MODE restore) or keep it staged (stage)
#   transfer files     make the project data (fs/) a copy of the primary's: changes only, deletions too,
#                      and record the run in STATE_FILE (the replication status tool reads the file sync lag)
# Fetching and restoring the same archive again, and syncing an unchanged tree, change nothing.
umask 077
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
if [ -n "$PRIMARY_HOST_KEY" ]; then
  # The pinned key only: a host that answers with another key gets nothing.
  known_hosts=$scratch/known_hosts
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

fetch_archive() {
  local listing latest
  # This site's archives only (see backup: the stamp's T and Z never occur in a site name), as the primary lists
  # them; the stamp in the name orders them.
  if ! listing=$(rsync --list-only --timeout=60 -e "$ssh_command" -- \
    "$PRIMARY_ADDR:archives/codenvy-$PRIMARY_SITE-$ARCHIVE_STAMP_GLOB-*.tar" 2> "$scratch/errors"); then
    if grep -q 'No such file or directory' "$scratch/errors"; then
      echo "transfer: the primary at $PRIMARY_ADDR has no backup of $PRIMARY_SITE yet" >&2
    else
      echo "transfer: cannot read the primary's archives at $PRIMARY_ADDR over SSH: $(head -c 300 "$scratch/errors")" >&2
    fi
    exit 1
  fi
  # rsync lists mode, size, date and time (none holds a blank), then the name.
  latest=$(awk '{ sub(/^[^ ]+ +[^ ]+ [^ ]+ [^ ]+ /, ""); print }' <<< "$listing" | LC_ALL=C sort | tail -n 1)
  if [[ ! $latest =~ ^codenvy-$PRIMARY_SITE-$ARCHIVE_STAMP_RE-[A-Za-z0-9._+-]+\.tar$ ]]; then
    echo "transfer: the primary answered an unexpected archive name; nothing fetched" >&2
    exit 1
  fi
  mkdir -p -- "$INCOMING_DIR"
  chmod go-rwx -- "$INCOMING_DIR"
  local_copy="$INCOMING_DIR/$latest"
  if [ -f "$local_copy" ]; then
    echo "transfer: $latest already fetched"
  else
    # --fuzzy: the archive fetched last night is the basis, so an unchanged site moves little.
    rsync -t --fuzzy --stats --timeout=60 -e "$ssh_command" -- "$PRIMARY_ADDR:archives/$latest" "$local_copy.partial" |
      sed -n 's/^Total bytes received: /transfer: bytes received: /p'
    mv "$local_copy.partial" "$local_copy"
    echo "transfer: fetched $latest"
  fi
  if [ "$MODE" = restore ]; then
    "$RESTORE_TOOL" "$local_copy"
  else
    echo "transfer: $latest staged; a promotion or an operator restores it"
  fi
}

sync_files() {
  mkdir -p -- "$(dirname "$STATE_FILE")"
  exec 9> "$STATE_FILE.lock"
  flock -n 9 || { echo "file sync: a run is in progress"; return 0; }
  local started target listing refused output unsafe
  # Only a follower's files follow: once this site's database is promoted (the crontab line goes at the end
  # of the promoting run), a sync with --delete would remove what its users write.
  if [ "$(docker exec "$POSTGRES" psql -X -At -U "$DATABASE_USER" -d postgres -c 'SELECT pg_is_in_recovery()' \
    2> /dev/null)" != t ]; then
    echo "file sync: the database here is not a replica of the primary; nothing synced" >&2
    exit 1
  fi
  started=$(date +%s)
  # Never into `/` or anywhere but this site's volume (the primary checks its own end the same way).
  target=$(volume_mountpoint "$FS_VOLUME" 2>&1) || failed "$started" "$target"
  # What the sync must not take, by name: it is listed first, since rsync skips devices and specials itself
  # (--no-devices --no-specials) but copies a setuid file, only without its bit (--chmod, should one appear
  # between the two runs).
  listing=$(rsync --list-only -r --timeout=60 -e "$ssh_command" -- "$PRIMARY_ADDR:fs/" 2> "$scratch/errors") ||
    failed "$started" "$(head -c 300 "$scratch/errors")"
  refused=$(refused_in_rsync_listing <<< "$listing")
  # Anchored, with rsync's wildcard characters escaped: each pattern is that one name.
  cut -f2- <<< "$refused" | sed -e 's/[][\\*?]/\\&/g' -e 's|^|/|' > "$scratch/excludes"
  if ! output=$(rsync -rlptgo --numeric-ids --delete --delete-excluded --exclude-from="$scratch/excludes" --no-devices \
    --no-specials --safe-links --chmod=Fug-s --verbose --stats --timeout=60 -e "$ssh_command" -- \
    "$PRIMARY_ADDR:fs/" "$target/" 2>&1); then
    failed "$started" "${output:-cannot reach the primary at $PRIMARY_ADDR}"
  fi
  # rsync names the links that leave the tree as it ignores them (--safe-links).
  unsafe=$(sed -n 's/^ignoring unsafe symlink "\(.*\)" -> ".*"$/a link out of fs\/\t\1/p' <<< "$output")
  refused=$(printf '%s\n%s\n' "$refused" "$unsafe" | sed '/^$/d' | sed 's/\t/\tfs\//')
  if [ -n "$refused" ]; then
    # The rest is synced: the files are as of this run, and the status tool shows what was left out.
    record "$started" "refused from the primary: $(named_refusals <<< "$refused")" synced
    echo "file sync: refused from the primary: $(named_refusals <<< "$refused")" >&2
  else
    record "$started" ""
  fi
  sed -n 's/^Number of regular files transferred: /file sync: files transferred: /p' <<< "$output"
}

failed() {
  record "$1" "failed: $2"
  echo "file sync: failed: $2" >&2
  exit 1
}

# STATE_FILE: the last successful run's start (what the standby's files are as of) and the last error. A run
# that synced but left something out passes `synced` after its message.
record() {
  local last_success=$1
  if [ -n "$2" ] && [ "${3:-}" != synced ] && [ -f "$STATE_FILE" ]; then
    last_success=$(sed -n 's/^last_success=//p' "$STATE_FILE")
  elif [ -n "$2" ] && [ "${3:-}" != synced ]; then
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
