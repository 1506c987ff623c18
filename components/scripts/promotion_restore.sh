#!/usr/bin/env bash
# On a cold standby being promoted: once its PostgreSQL answers, restore the newest archive the nightly
# transfer staged. The restore tool's marker makes a second run a no-op; nothing staged is said, not an error.
set -euo pipefail
# params: INCOMING_DIR POSTGRES RESTORE_TOOL SITE_NAME
# include: postgres_ready
# include: staged_archive
umask 077
latest=$(newest_staged "$INCOMING_DIR")
if [ -z "$latest" ]; then
  echo "promotion of $SITE_NAME: no staged archive in $INCOMING_DIR; the site starts with the data it has"
  exit 0
fi
if ! wait_for_postgres "$POSTGRES" 90; then
  echo "promotion of $SITE_NAME: restore $latest with $RESTORE_TOOL once $POSTGRES answers" >&2
  exit 1
fi
exec "$RESTORE_TOOL" "$latest"
