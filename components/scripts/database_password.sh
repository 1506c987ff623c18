#!/usr/bin/env bash
# The server's database role gets the password the stack holds now, also when the data directory was kept.
set -euo pipefail
# params: CONTAINER DATABASE_USER NODE_NAME
# include: postgres_ready
# The image applies POSTGRES_PASSWORD only when it initialises an empty data directory (docker-library/postgres
# docker-entrypoint.sh), so a kept volume keeps the password of the stack that made it. The password comes on
# stdin, never in an argument; psql reaches the server on its socket, which the image trusts.
password=$(cat)
fingerprint=$(printf '%s' "$password" | sha256sum | cut -d' ' -f1)
wait_for_postgres "$CONTAINER" 90
sql() { docker exec -i "$CONTAINER" psql -X -q -At -v ON_ERROR_STOP=1 -U "$DATABASE_USER" -d postgres "$@"; }
# A replica has its primary's roles and takes no writes: its server logs in with the primary's password.
if [ "$(sql <<< 'SELECT pg_is_in_recovery();')" = t ]; then
  echo "database password on $NODE_NAME: a replica keeps its primary's"
  exit 0
fi
# The role carries the password's fingerprint as its comment: the guard without reading any hash back.
known=$(sql -v role="$DATABASE_USER" <<< "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = :'role';")
if [ "$known" = "sha256:$fingerprint" ]; then
  echo "database password on $NODE_NAME: unchanged"
  exit 0
fi
{
  printf '\\set password %s\n' "$password"
  cat << 'SQL'
SELECT format('ALTER ROLE %I WITH PASSWORD %L', :'role', :'password') \gexec
SELECT format('COMMENT ON ROLE %I IS %L', :'role', :'comment') \gexec
SQL
} | sql -v role="$DATABASE_USER" -v comment="sha256:$fingerprint"
echo "database password on $NODE_NAME: set"
