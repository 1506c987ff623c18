#!/usr/bin/env bash
# A simulated node's first process: its own directories, /run and hostname, its dockerd, then sshd for its lifetime.
set -euo pipefail
# params: BIND_MOUNTS NODE_NAME SSHD SSHD_CONFIG START_DOCKERD
# No idempotence guard: this runs once, in the fresh mount and UTS namespaces made for it, where nothing is in
# place yet.
mount --make-rprivate /
# BIND_MOUNTS: one "source<TAB>target" line per directory or file the node has of its own.
while IFS=$'\t' read -r source target; do
  mount --bind "$source" "$target"
done <<< "$BIND_MOUNTS"
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/sshd /run/lock
hostname "$NODE_NAME"
"$START_DOCKERD"
exec "$SSHD" -D -e -f "$SSHD_CONFIG"
