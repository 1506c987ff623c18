#!/usr/bin/env bash
# On a cold standby being promoted: once its PostgreSQL answers, restore the newest archive the nightly
# transfer staged. The restore tool's marker makes a second run a no-op; nothing staged is said, not an error.
set -euo pipefail
# params: INCOMING_DIR POSTGRES RESTORE_TOOL SITE_NAME
# include: postgres_ready
umask 077
shopt -s nullglob
staged=("$INCOMING_DIR"/*.tar)
if [ ${#staged[@]} -eq 0 ]; then
  echo "promotion of $SITE_NAME: no staged archive in $INCOMING_DIR; the site starts with the data it has"
  exit 0
fi
# shellcheck disable=SC2012 # the newest by time; the names are the backup tool's own, no newline in them
latest=$(ls -1t -- "${staged[@]}" | head -n 1)
if ! wait_for_postgres "$POSTGRES" 90; then
  echo "promotion of $SITE_NAME: restore $latest with $RESTORE_TOOL once $POSTGRES answers" >&2
  exit 1
fi
exec "$RESTORE_TOOL" "$latest"
