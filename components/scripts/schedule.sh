#!/usr/bin/env bash
# Keep exactly one crontab line tagged with MARKER (none when ENTRY is empty); a no-op when already so.
set -euo pipefail
# params: ENTRY MARKER NODE_NAME
if ! command -v crontab > /dev/null; then
  echo "schedule $MARKER on $NODE_NAME: crontab is missing; install cron there" >&2
  exit 1
fi
current=$(crontab -l 2> /dev/null || true)
# Only lines that end in exactly " # MARKER": a marker that merely starts with this one is another's line.
without_marker() { MARKER_SUFFIX=" # $MARKER" awk '{
  suffix = ENVIRON["MARKER_SUFFIX"]
  if (length($0) >= length(suffix) && substr($0, length($0) - length(suffix) + 1) == suffix) next
  print
}'; }
wanted=$(printf '%s\n' "$current" | without_marker)
if [ -n "$ENTRY" ]; then
  wanted=$(printf '%s\n%s # %s\n' "$wanted" "$ENTRY" "$MARKER")
fi
current=$(printf '%s\n' "$current" | sed '/^$/d')
wanted=$(printf '%s\n' "$wanted" | sed '/^$/d')
if [ "$current" = "$wanted" ]; then
  echo "schedule $MARKER on $NODE_NAME: unchanged"
  exit 0
fi
if [ -n "$wanted" ]; then
  printf '%s\n' "$wanted" | crontab -
else
  crontab -r 2> /dev/null || true
fi
echo "schedule $MARKER on $NODE_NAME: ${ENTRY:-removed}"
