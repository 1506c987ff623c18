#!/usr/bin/env bash
# Take back what the mirror account may do: its keys and its sudoers rule. The account itself stays, locked and
# unused, as Debian keeps a system user after its package is purged (files may still name it). Idempotent.
set -euo pipefail
# params: ACCOUNT MIRROR_HOME NODE_NAME SUDOERS_FILE
if [ ! -e "$MIRROR_HOME/.ssh/authorized_keys" ] && [ ! -e "$SUDOERS_FILE" ]; then
  echo "mirror account on $NODE_NAME: $ACCOUNT already has no key and no rule"
  exit 0
fi
rm -f -- "$SUDOERS_FILE" "$MIRROR_HOME/.ssh/authorized_keys"
echo "mirror account on $NODE_NAME: $ACCOUNT's keys and sudoers rule removed"
