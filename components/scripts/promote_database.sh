#!/usr/bin/env bash
# On a standby being promoted: its replica becomes a primary (a new timeline), forgets the primary it
# followed, and checkpoints so the new timeline is on disk. A database that is a primary already is left.
set -euo pipefail
# params: CONTAINER DATABASE_USER NODE_NAME
# include: postgres_ready
sql() { docker exec -i "$CONTAINER" psql -X -q -At -v ON_ERROR_STOP=1 -U "$DATABASE_USER" -d postgres "$@"; }
wait_for_postgres "$CONTAINER" 90
if [ "$(sql -c 'SELECT pg_is_in_recovery()')" = f ]; then
  echo "promotion on $NODE_NAME: the database is a primary already"
  exit 0
fi
# pg_promote answers false, not an error, when the promotion did not finish in time.
if [ "$(sql -c 'SELECT pg_promote(true, 60)')" != t ]; then
  echo "promotion on $NODE_NAME: the database did not finish its promotion within 60 s" >&2
  exit 1
fi
sql << 'SQL'
ALTER SYSTEM RESET primary_conninfo;
ALTER SYSTEM RESET primary_slot_name;
SELECT pg_reload_conf();
CHECKPOINT;
SQL
echo "promotion on $NODE_NAME: the database accepts writes"
