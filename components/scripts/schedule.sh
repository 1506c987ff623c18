#!/usr/bin/env bash
# Keep exactly one crontab line tagged with MARKER (none when ENTRY is empty), and the directory its log is
# appended to (LOG_DIR; cron's shell runs nothing when it cannot open the log); a no-op when already so.
set -euo pipefail
# params: ENTRY LOG_DIR MARKER NODE_NAME
if ! command -v crontab > /dev/null; then
  echo "schedule $MARKER on $NODE_NAME: crontab is missing; install cron there" >&2
  exit 1
fi
if [ -n "$LOG_DIR" ] && [ ! -d "$LOG_DIR" ]; then
  # The log's own directory is the owner's alone (logs name hosts and paths); its parents are ordinary.
  mkdir -p -- "$(dirname "$LOG_DIR")"
  mkdir -m 0700 -- "$LOG_DIR"
  echo "schedule $MARKER on $NODE_NAME: made $LOG_DIR for its log"
fi
current=$(crontab -l 2> /dev/null || true)
line=""
if [ -n "$ENTRY" ]; then
  line="$ENTRY # $MARKER"
fi
# Only lines that end in exactly " # MARKER" are this one's: a marker that merely starts with it is
# another's line. The line keeps its place (appended only when missing), so the schedules of one host
# never move each other's lines on every run.
wanted=$(printf '%s\n' "$current" | MARKER_SUFFIX=" # $MARKER" LINE="$line" awk '
  function marked(text, suffix) {
    return length(text) >= length(suffix) && substr(text, length(text) - length(suffix) + 1) == suffix
  }
  marked($0, ENVIRON["MARKER_SUFFIX"]) {
    if (!placed && ENVIRON["LINE"] != "") print ENVIRON["LINE"]
    placed = 1
    next
  }
  { print }
  END { if (!placed && ENVIRON["LINE"] != "") print ENVIRON["LINE"] }')
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
