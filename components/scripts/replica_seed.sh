#!/usr/bin/env bash
# On a streaming standby's master: make its PostgreSQL data a replica of the primary's, unless it is one.
set -euo pipefail
# params: BACKUP_DIR CONF_DIR CONF_VOLUME CONTAINER DATA_DIR DATA_VOLUME IMAGE NODE_NAME PRIMARY_CONNINFO RESEED_LOST_SLOT SLOT
# "Is one": the same database system as the primary's, following it, with a slot the primary still keeps.
# Seeding copies the primary's data with pg_basebackup (TLS verified against the primary's CA, the password
# from a file, never an argument) and creates the slot. Data that was there (a former primary's, after a
# failback) is archived into the backup directory first. The server is stopped while its data is replaced
# and started again after. With RESEED_LOST_SLOT=no (the run after an unrelated change to this script), a
# replica of the primary whose slot the primary dropped is only reported: seeding again stops the database,
# and is asked for by raising dr.reseed.
# What it keeps of former data holds every role's password hash: readable by root only, whatever the umask.
umask 077
data=$DATA_DIR
conninfo="$PRIMARY_CONNINFO application_name=$SLOT"
# A throw-away container of the server's image, on the host's network so the primary sees this master's address.
postgres_tool() {
  docker run --rm -i --network host --user postgres -v "$DATA_VOLUME:$data" -v "$CONF_VOLUME:$CONF_DIR:ro" \
    --entrypoint "$1" "$IMAGE" "${@:2}"
}
replication_sql() { postgres_tool psql -X -At -d "$conninfo replication=true dbname=replication" -c "$1"; }
primary_id=$(replication_sql IDENTIFY_SYSTEM | cut -d'|' -f1) || {
  echo "replica seed on $NODE_NAME: the primary's PostgreSQL does not answer ($PRIMARY_CONNINFO)" >&2
  exit 1
}
slot_lsn=$(replication_sql "READ_REPLICATION_SLOT $SLOT" | cut -d'|' -f2) || {
  echo "replica seed on $NODE_NAME: the primary does not say whether it keeps slot $SLOT" >&2
  exit 1
}
# shellcheck disable=SC2016 # expanded by the throw-away container's shell
local_id=$(postgres_tool sh -c 'test -f "$1/standby.signal" && pg_controldata "$1" | sed -n "s/^Database system identifier: *//p"' \
  sh "$data" 2> /dev/null || true)
if [ "$local_id" = "$primary_id" ] && [ -n "$slot_lsn" ]; then
  echo "replica seed on $NODE_NAME: already a replica of the primary with slot $SLOT"
  exit 0
fi
if [ "$local_id" = "$primary_id" ] && [ "$RESEED_LOST_SLOT" != yes ]; then
  echo "replica seed on $NODE_NAME: a replica of the primary, which no longer keeps slot $SLOT; not seeded" \
    "again by this change: raise dr.reseed to copy the primary's data afresh"
  exit 0
fi
running=$(docker inspect -f '{{.State.Running}}' "$CONTAINER" 2> /dev/null) || running=absent
if [ "$running" = true ]; then
  docker stop -t 120 "$CONTAINER" > /dev/null
fi
# shellcheck disable=SC2016 # expanded by the container's shell
if postgres_tool sh -c 'test -s "$1/PG_VERSION"' sh "$data" 2> /dev/null; then
  mkdir -p -- "$BACKUP_DIR"
  chmod go-rwx -- "$BACKUP_DIR"
  kept="$BACKUP_DIR/pre-seed-$(date -u +%Y%m%dT%H%M%SZ).tar"
  docker run --rm --user root -v "$DATA_VOLUME:$data:ro" --entrypoint tar "$IMAGE" -C "$data" -cf - . > "$kept"
  echo "replica seed on $NODE_NAME: the data it had is kept in $kept"
fi
# shellcheck disable=SC2016 # expanded by the throw-away container's shell
docker run --rm --user root -v "$DATA_VOLUME:$data" --entrypoint sh "$IMAGE" -c \
  'find "$1" -mindepth 1 -delete && chown postgres:postgres "$1" && chmod 0700 "$1"' sh "$data"
# A slot the primary dropped for falling behind (or never had) is made afresh with the copy.
replication_sql "DROP_REPLICATION_SLOT $SLOT" > /dev/null 2>&1 || true
# The copy takes as long as the primary's data is large: it runs aside, and every 10 s a line says for how long.
postgres_tool pg_basebackup -D "$data" -R -C -S "$SLOT" -X stream -c fast -d "$conninfo" &
copy=$!
started=$SECONDS
next=10
while kill -0 "$copy" 2> /dev/null; do
  if [ $((SECONDS - started)) -ge "$next" ]; then
    echo "replica seed on $NODE_NAME: copying the primary's data for $((SECONDS - started)) s" >&2
    next=$((next + 10))
  fi
  sleep 1
done
wait "$copy" || {
  echo "replica seed on $NODE_NAME: the copy from the primary failed; $CONTAINER stays stopped with no data" \
    "(what it had is in $BACKUP_DIR); raise dr.reseed to try again" >&2
  exit 1
}
if [ "$running" != absent ]; then
  docker start "$CONTAINER" > /dev/null
fi
echo "replica seed on $NODE_NAME: seeded from the primary with slot $SLOT"
