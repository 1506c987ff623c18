#!/usr/bin/env bash
# Keep the site's workspace nodes (name, address, RAM GiB, CPUs) in the server's instance folder, where
# the seed listed them (CODENVY_SWARM_NODES).
set -euo pipefail
# params: CONTAINER NODE_SET TARGET
# Copied into the container, created or running, so a node change neither replaces nor restarts the
# server: in Swarm mode the manager, not the server, knows where workspaces can run.
current=$(docker cp "$CONTAINER:$TARGET" - 2> /dev/null | tar -xO 2> /dev/null || true)
if [ "$current" = "$NODE_SET" ]; then
  echo "workspace nodes in $CONTAINER: unchanged"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
staged="$work/$(basename "$TARGET")"
printf '%s\n' "$NODE_SET" > "$staged"
chmod 0644 "$staged"
if ! docker cp "$staged" "$CONTAINER:$TARGET"; then
  echo "workspace nodes in $CONTAINER: could not write $TARGET" >&2
  exit 1
fi
echo "workspace nodes in $CONTAINER: $TARGET updated"
