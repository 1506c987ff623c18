#!/usr/bin/env bash
# The account this site's standbys log in as; a second run on a converged host writes nothing.
set -euo pipefail
# params: ACCOUNT KEYS MIRROR_HOME NODE_NAME RRSYNC SERVE_TOOL SUDOERS_FILE
# No password, a home only root writes, and one authorized_keys line per standby key, restricted (no pty,
# forwarding or agent) and forced to ask the mirror tool, which root runs for it through one sudoers line.
fail() {
  echo "mirror account on $NODE_NAME: $*" >&2
  exit 1
}
for tool in sudo visudo useradd "$RRSYNC"; do
  command -v "$tool" > /dev/null || fail "$tool is missing (install Debian's sudo, passwd and rsync >= 3.2.4)"
done
changed=()
if ! getent passwd "$ACCOUNT" > /dev/null; then
  useradd --system --user-group --home-dir "$MIRROR_HOME" --no-create-home --shell /bin/sh "$ACCOUNT"
  changed+=("the account")
fi
[ "$(getent passwd "$ACCOUNT" | cut -d: -f6)" = "$MIRROR_HOME" ] ||
  fail "the account $ACCOUNT exists with another home than $MIRROR_HOME; remove it or give it that home"
# `*` rather than useradd's `!`: both refuse every password, but sshd without PAM takes `!` for a locked account
# and refuses its keys too (OpenSSH auth.c allowed_user).
if [ "$(getent shadow "$ACCOUNT" | cut -d: -f2)" != '*' ]; then
  usermod -p '*' "$ACCOUNT"
  changed+=("its password (none)")
fi
# The forced command hands the standby's request to the tool as one argument; the login shell is sh, not bash,
# which reads no startup file here (rrsync(1), BASH SECURITY ISSUE).
keys=""
while IFS= read -r key; do
  [ -z "$key" ] || keys+="restrict,command=\"sudo -n $SERVE_TOOL \\\"\$SSH_ORIGINAL_COMMAND\\\"\" $key"$'\n'
done <<< "$KEYS"
rule="$ACCOUNT ALL=(root) NOPASSWD: $SERVE_TOOL *"
# Root owns the home, its .ssh and the keys: the account cannot change what it may run.
install -d -o root -g root -m 0755 "$MIRROR_HOME" "$MIRROR_HOME/.ssh"
if [ "$(cat "$MIRROR_HOME/.ssh/authorized_keys" 2> /dev/null)" != "${keys%$'\n'}" ]; then
  printf '%s' "$keys" > "$MIRROR_HOME/.ssh/authorized_keys.new"
  chmod 0644 "$MIRROR_HOME/.ssh/authorized_keys.new"
  mv "$MIRROR_HOME/.ssh/authorized_keys.new" "$MIRROR_HOME/.ssh/authorized_keys"
  changed+=("the standbys' keys")
fi
if [ "$(cat "$SUDOERS_FILE" 2> /dev/null)" != "$rule" ]; then
  printf '%s\n' "$rule" > "$SUDOERS_FILE.new"
  chmod 0440 "$SUDOERS_FILE.new"
  visudo -c -q -f "$SUDOERS_FILE.new" > /dev/null || { rm -f "$SUDOERS_FILE.new"; fail "sudo refuses the rule: $rule"; }
  # sudo reads every file in sudoers.d whose name has no dot, so the candidate above was never live.
  mv "$SUDOERS_FILE.new" "$SUDOERS_FILE"
  changed+=("its sudoers rule")
fi
if [ ${#changed[@]} -eq 0 ]; then
  echo "mirror account on $NODE_NAME: $ACCOUNT unchanged"
else
  what=$(printf '%s, ' "${changed[@]}")
  echo "mirror account on $NODE_NAME: $ACCOUNT set up (${what%, })"
fi
