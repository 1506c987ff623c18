#!/usr/bin/env bash
# Remove a file the matching install put here, only while it still holds that content (trailing newlines
# are not content); a no-op when it is gone or something else is there now.
set -euo pipefail
# params: CONTENT NODE_NAME TARGET WHAT
if [ ! -f "$TARGET" ]; then
  echo "$WHAT on $NODE_NAME: not installed"
  exit 0
fi
if [ "$(cat "$TARGET")" != "$(printf '%s' "$CONTENT")" ]; then
  echo "$WHAT on $NODE_NAME: $TARGET holds something else now; left as it is"
  exit 0
fi
rm -f "$TARGET"
echo "$WHAT on $NODE_NAME: removed $TARGET"
