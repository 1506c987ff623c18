#!/usr/bin/env bash
# The placement manager's node list (upstream node_list: a host:port a line) and nodes.json (capacities).
set -euo pipefail
# params: CONTAINER NODE_LIST NODE_SET NODES_DIR SITE_NAME
# The list, from CODENVY_SWARM_NODES upstream, is read again by the manager every heartbeat; nodes.json holds
# the site's workspace hosts with their capacity, which a DR standby must match.
# Copied into the container, created or running, so a node change neither replaces nor restarts the manager
# or the server: a node added here takes workspaces once the manager has read the file again.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/nodes"
# NODE_LIST: the engines separated by spaces (host:port never holds one); the file has one a line.
printf '%s\n' "$NODE_LIST" | tr ' ' '\n' > "$work/nodes/node_list"
printf '%s\n' "$NODE_SET" > "$work/nodes/nodes.json"
chmod 0755 "$work/nodes"
chmod 0644 "$work/nodes/node_list" "$work/nodes/nodes.json"
current=$(mktemp -d "$work/current.XXXXXX")
if docker cp "$CONTAINER:$NODES_DIR/." - 2> /dev/null | tar -x -C "$current" 2> /dev/null &&
  cmp -s "$current/node_list" "$work/nodes/node_list" && cmp -s "$current/nodes.json" "$work/nodes/nodes.json"; then
  echo "placement nodes of $SITE_NAME: unchanged"
  exit 0
fi
# The list last: a manager that reads it in between finds the capacities of the new set already there.
for file in nodes.json node_list; do
  if ! docker cp "$work/nodes/$file" "$CONTAINER:$NODES_DIR/$file"; then
    echo "placement nodes of $SITE_NAME: could not write $NODES_DIR/$file in $CONTAINER" >&2
    exit 1
  fi
done
echo "placement nodes of $SITE_NAME: $(grep -c . "$work/nodes/node_list" || true) engine(s) in $NODES_DIR/node_list"
