#!/usr/bin/env bash
# On a site that streams to standbys: once one of them has been promoted past this database (a failover while
# this site was cut off or down), this database refuses every write, for good, before anyone acts.
set -euo pipefail
# params: CONTAINER DATABASE_USER DATA_DIR NODE_NAME PASSFILE PORT REASON_FILE ROLE SERVING SITE_NAME STANDBYS STOP_GRACE SUPERSEDED
# include: postgres_ready
# A promoted standby writes a later timeline of the same database system. Each standby is asked with
# IDENTIFY_SYSTEM, as the replication role (the only login a standby takes from this master); one on a later
# timeline fences this database: standby.signal in its data directory, then a restart. A server in recovery
# refuses every write, the superuser's too, and stays in recovery across restarts and reboots; failback (this
# site made the promoted site's standby) archives its data and seeds it afresh. The reason is kept beside
# standby.signal: a database fenced already is only reported (the guard). With --check nothing is changed (the
# program's gate asks so before every preview and up). The last line is the verdict: "fence of SITE: SERVING…",
# "fence of SITE: SUPERSEDED: why", or "fence of SITE: not checked: why".
check=no
if [ "${1:-}" = --check ]; then
  check=yes
fi
verdict() { echo "fence of $SITE_NAME: $*"; }
sql() { docker exec "$CONTAINER" psql -X -At -v ON_ERROR_STOP=1 -U "$DATABASE_USER" -d postgres -c "$1"; }
if ! postgres_ready "$CONTAINER"; then
  verdict "not checked: $CONTAINER does not answer on $NODE_NAME"
  exit 0
fi
if [ "$(sql 'SELECT pg_is_in_recovery()')" = t ]; then
  reason=$(docker exec "$CONTAINER" cat "$REASON_FILE" 2> /dev/null || true)
  if [ -n "$reason" ]; then
    verdict "$SUPERSEDED: $reason"
  else
    verdict "not checked: the database on $NODE_NAME is a replica"
  fi
  exit 0
fi
system=$(sql 'SELECT system_identifier FROM pg_control_system()')
# The timeline this primary writes: the first 8 hex digits of its current WAL file's name.
timeline=$((16#$(sql 'SELECT pg_walfile_name(pg_current_wal_lsn())' | cut -c1-8)))
reason=
silent=()
for standby in $STANDBYS; do
  # sslmode=require, not verify-full: this site does not hold the standby's CA. A forged answer can only fence
  # this site, which whoever sits on the path can take down anyway; the password is never sent (SCRAM).
  conninfo="host=$standby port=$PORT user=$ROLE sslmode=require passfile=$PASSFILE connect_timeout=5"
  if ! answer=$(docker exec "$CONTAINER" psql -X -At -d "$conninfo replication=true dbname=replication" \
    -c IDENTIFY_SYSTEM 2> /dev/null); then
    silent+=("$standby")
    continue
  fi
  IFS='|' read -r their_system their_timeline _ <<< "$answer"
  if [ "$their_system" = "$system" ] && [[ $their_timeline =~ ^[0-9]+$ ]] && [ "$their_timeline" -gt "$timeline" ]; then
    reason="the standby $standby was promoted: its timeline $their_timeline is past this database's $timeline"
    break
  fi
done
if [ -z "$reason" ]; then
  verdict "$SERVING${silent[*]:+ (no answer from ${silent[*]})}"
  exit 0
fi
if [ "$check" = yes ]; then
  verdict "$SUPERSEDED: $reason; the next run of this tool (every minute) fences this database"
  exit 0
fi
reason="$reason; this database refuses writes since $(date -u +%Y-%m-%dT%H:%M:%SZ)"
# shellcheck disable=SC2016 # expanded by the container's shell
docker exec -u postgres "$CONTAINER" sh -c 'printf "%s\n" "$1" > "$2" && touch "$3/standby.signal"' \
  sh "$reason" "$REASON_FILE" "$DATA_DIR"
docker restart -t "$STOP_GRACE" "$CONTAINER" > /dev/null
verdict "$SUPERSEDED: $reason"
