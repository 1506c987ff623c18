#!/usr/bin/env bash
# What a standby may read of this site, and nothing else: one rsync read, served by rrsync -ro.
set -euo pipefail
# params: BACKUP_DIR FS_VOLUME RRSYNC SITE_NAME
# Root runs it (sudo, for the account the standbys log in as, whose forced command passes the standby's request
# as $1), confined to one of two trees: fs/ (the project files' volume, as the file sync reads it) and archives/
# (this site's backup archives, one by name or the listing of them, as the transfer reads them).
# include: archive_names
# include: volume_mountpoint
request=${1:-}
refuse() {
  echo "mirror of $SITE_NAME: refused: $*" >&2
  exit 1
}
# The request is what the standby's rsync asks of its server: `rsync --server --sender OPTIONS . PATH`, words
# split on blanks as rrsync splits them. Only a sender: this site is read, never written.
read -r -a words <<< "$request"
[ "${words[0]:-}" = rsync ] && [ "${words[1]:-}" = --server ] && [ "${words[2]:-}" = --sender ] ||
  refuse "only a read of fs/ or archives/ by rsync is served, not '${request:0:120}'"
dot=0
for index in "${!words[@]}"; do
  [ "${words[$index]}" != . ] || { dot=$index; break; }
done
[ "$dot" -gt 2 ] && [ "${#words[@]}" -eq $((dot + 2)) ] || refuse "one path after the options, not '${request:0:120}'"
path=${words[$((dot + 1))]}
# The archives are the backup tool's own names (codenvy-SITE-<stamp>-<version>.tar); the listing is asked with
# the same pattern, which rrsync expands below the backup directory.
archive_name="^archives/codenvy-$SITE_NAME-$ARCHIVE_STAMP_RE-[A-Za-z0-9._+-]+\.tar$"
if [ "$path" = fs/ ]; then
  tree=$(volume_mountpoint "$FS_VOLUME") || refuse "no project files to serve"
  path=./
elif [[ $path =~ $archive_name ]] || [ "$path" = "archives/codenvy-$SITE_NAME-$ARCHIVE_STAMP_GLOB-*.tar" ]; then
  tree=$BACKUP_DIR
  path=${path#archives/}
else
  refuse "the path '${path:0:120}' is neither fs/ nor one of this site's archives"
fi
SSH_ORIGINAL_COMMAND="${words[*]:0:dot} . $path" exec "$RRSYNC" -ro "$tree"
