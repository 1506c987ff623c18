#!/usr/bin/env bash
# Install one file on this host when its content differs; a no-op when it is already in place.
set -euo pipefail
# params: CONTENT FILE_MODE NODE_NAME TARGET WHAT
if [ -f "$TARGET" ] && [ "$(cat "$TARGET")" = "$(printf '%s' "$CONTENT")" ]; then
  echo "$WHAT on $NODE_NAME: unchanged"
  exit 0
fi
mkdir -p "$(dirname "$TARGET")"
printf '%s\n' "$CONTENT" > "$TARGET.new"
chmod "$FILE_MODE" "$TARGET.new"
mv "$TARGET.new" "$TARGET"
echo "$WHAT on $NODE_NAME: installed at $TARGET"
