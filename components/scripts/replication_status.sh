#!/usr/bin/env bash
# How far a streaming standby is behind its primary: its database, and its project files.
set -euo pipefail
# params: CONTAINER DATABASE_USER FILES_STALE_S PRIMARY_CONNINFO SITE_NAME SLOT STATE_FILE
# Database: is its WAL receiver streaming, how many bytes are received but not replayed, how long since the
# primary was heard, and (when not streaming) does the primary still keep its slot. Files: how long since
# the last successful sync. Prints one line each, then "replication of SITE: healthy" or "...: broken: why";
# exits 0 either way with --check (for the program, which reports it), 1 when broken otherwise (monitoring).
problems=()
database=$(docker exec "$CONTAINER" psql -X -At -F ' ' -U "$DATABASE_USER" -d postgres -c "
  SELECT coalesce(w.status, 'none'),
         coalesce(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn()), 0),
         coalesce(round(extract(epoch FROM now() - w.last_msg_receipt_time))::text, '-')
  FROM (SELECT 1) one LEFT JOIN pg_stat_wal_receiver w ON true" 2> /dev/null) || database="unreachable 0 -"
read -r receiver unreplayed since <<< "$database"
echo "database: receiver $receiver, $unreplayed bytes not yet replayed, primary last heard ${since} s ago"
if [ "$receiver" != streaming ]; then
  # A receiver that is not streaming, with the slot gone, means the primary dropped what this replica needs;
  # a primary that cannot be asked is only that (a reseed would wipe the replica for nothing).
  if answer=$(docker exec "$CONTAINER" psql -X -At -d "$PRIMARY_CONNINFO replication=true dbname=replication" \
    -c "READ_REPLICATION_SLOT $SLOT" 2> /dev/null); then
    if [ -z "$(cut -d'|' -f2 <<< "$answer")" ]; then
      problems+=("the database is not streaming and the primary no longer keeps slot $SLOT: raise dr.reseed")
    else
      problems+=("the database is not streaming ($receiver)")
    fi
  else
    problems+=("the database is not streaming ($receiver) and the primary's PostgreSQL does not answer")
  fi
fi
now=$(date +%s)
last_success=$(sed -n 's/^last_success=//p' "$STATE_FILE" 2> /dev/null || true)
last_error=$(sed -n 's/^last_error=//p' "$STATE_FILE" 2> /dev/null || true)
if [ -z "$last_success" ] || [ "$last_success" = 0 ]; then
  echo "files: never synced${last_error:+ ($last_error)}"
  problems+=("the project files were never synced")
else
  age=$((now - last_success))
  echo "files: as of $age s ago${last_error:+, last run $last_error}"
  if [ "$age" -gt "$FILES_STALE_S" ]; then
    problems+=("the project files are $age s old")
  fi
fi
if [ ${#problems[@]} -eq 0 ]; then
  echo "replication of $SITE_NAME: healthy"
  exit 0
fi
echo "replication of $SITE_NAME: broken: $(IFS=';'; echo "${problems[*]}")"
[ "${1:-}" = --check ] && exit 0
exit 1
