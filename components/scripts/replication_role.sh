#!/usr/bin/env bash
# On the site that serves: the replication role its standbys log in with, and no slot of an unlisted standby.
set -euo pipefail
# params: CONTAINER DATABASE_USER KEPT_SLOTS MAX_WAL_KEEP_MB NODE_NAME ROLE SLOT_PREFIX
# include: postgres_ready
# The password comes on stdin, never in an argument. A slot pins WAL until its standby comes back, so one
# whose standby is no longer listed is dropped. A role that already has this password is left as it is.
password=$(cat)
fingerprint=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
wait_for_postgres "$CONTAINER" 90
sql() { docker exec -i "$CONTAINER" psql -X -q -At -v ON_ERROR_STOP=1 -U "$DATABASE_USER" -d postgres "$@"; }
# The role carries the password's fingerprint as its comment: the guard without reading any hash back.
known=$(sql -v role="$ROLE" <<< "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = :'role';")
if [ "$known" != "sha256:$fingerprint" ]; then
  # The password reaches psql on its input, as a variable: never in an argument of docker or psql.
  {
    printf '\\set password %s\n' "$password"
    cat << 'SQL'
SELECT format('CREATE ROLE %I WITH LOGIN REPLICATION', :'role')
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN REPLICATION NOSUPERUSER CONNECTION LIMIT 5 PASSWORD %L', :'role', :'password') \gexec
SELECT format('COMMENT ON ROLE %I IS %L', :'role', :'comment') \gexec
SQL
  } | sql -v role="$ROLE" -v comment="sha256:$fingerprint"
  echo "replication role on $NODE_NAME: $ROLE set"
else
  echo "replication role on $NODE_NAME: unchanged"
fi
# A standby that stops consuming may pin this much WAL, then loses its slot: never the whole disk. Set here,
# not on the command line, which stays the same on both sites; a reload applies it.
if [ "$(sql <<< "SELECT setting FROM pg_settings WHERE name = 'max_slot_wal_keep_size';")" != "$MAX_WAL_KEEP_MB" ]; then
  sql -v size="${MAX_WAL_KEEP_MB}MB" <<< "ALTER SYSTEM SET max_slot_wal_keep_size = :'size'; SELECT pg_reload_conf();" > /dev/null
  echo "replication on $NODE_NAME: standbys may hold back ${MAX_WAL_KEEP_MB} MB of WAL"
fi
# KEPT_SLOTS is a list of names, one word each: split into an array, never globbed.
read -r -a kept_slots <<< "$KEPT_SLOTS"
kept=$(printf "'%s'," "${kept_slots[@]}")
dropped=$(sql -v prefix="$SLOT_PREFIX%" << SQL
SELECT pg_drop_replication_slot(slot_name), slot_name FROM pg_replication_slots
 WHERE slot_name LIKE :'prefix' AND NOT active AND slot_name NOT IN (${kept%,}, '');
SQL
)
if [ -n "$dropped" ]; then
  echo "replication slots on $NODE_NAME: dropped those of standbys no longer listed: $(cut -d'|' -f2 <<< "$dropped" | xargs)"
fi
