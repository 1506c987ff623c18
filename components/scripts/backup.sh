#!/usr/bin/env bash
# Back up the site: the database (pg_dump -Fc), project data and the instance config, in one archive
# with a manifest and sha256 sums. Workspace snapshots (the registry) are not part of it, as in the seed.
set -euo pipefail
# params: BACKUP_DIR DATABASE DATABASE_USER FS_DIR INCOMING_DIR INSTANCE_DIR KEEP POSTGRES REASON SERVER SITE_NAME SOURCE TARGET_VERSION
# include: staged_archive
# include: archive_names
# The archives hold the database dump: readable by root only, whatever the caller's umask.
umask 077
deployed=$(docker cp "$SERVER:$INSTANCE_DIR/codenvy.ver" - 2> /dev/null | tar -xO 2> /dev/null | tr -d '[:space:]' || true)
if [ "$REASON" = pre-upgrade ]; then
  if [ -z "$deployed" ]; then
    echo "pre-upgrade backup of $SITE_NAME: nothing deployed yet; nothing to back up"
    exit 0
  fi
  if [ "$deployed" = "$TARGET_VERSION" ]; then
    echo "pre-upgrade backup of $SITE_NAME: $TARGET_VERSION is already deployed; nothing to do"
    exit 0
  fi
fi
refuse() {
  echo "backup of $SITE_NAME refused: $*" >&2
  exit 1
}
[ -n "$deployed" ] || refuse "no server container with $INSTANCE_DIR/codenvy.ver"
# SOURCE staged: a cold standby, whose database and server stay stopped until a promotion, which restores the
# newest archive of the primary that the transfer staged in INCOMING_DIR. That archive's database and project
# data are this site's data, so they are what its backup holds; nothing is started for it. The data's version
# is what a restore compares with the site's: the deployed one, or the staged archive's.
data_version=$deployed data_from=""
if [ "$SOURCE" = staged ]; then
  data_from=$(newest_staged "$INCOMING_DIR")
  [ -n "$data_from" ] || refuse "a cold standby's data is the primary's archive that its promotion restores," \
    "and none is staged in $INCOMING_DIR yet; run codenvy-transfer-$SITE_NAME first"
fi
mkdir -p -- "$BACKUP_DIR"
chmod go-rwx -- "$BACKUP_DIR"
work=$(mktemp -d "$BACKUP_DIR/.partial.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [ -n "$data_from" ]; then
  mkdir "$work/staged"
  # Checked before it is packed again under new sums: a damaged copy must not become a sound-looking backup.
  if ! tar -xf "$data_from" -C "$work/staged" manifest.json SHA256SUMS database.dump fs.tar instance.tar 2> /dev/null ||
    ! (cd "$work/staged" && sha256sum --quiet --strict --check SHA256SUMS > /dev/null 2>&1); then
    refuse "the staged archive $data_from is damaged (members or checksums); run codenvy-transfer-$SITE_NAME again"
  fi
  data_version=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$work/staged/manifest.json")
  [[ $data_version =~ ^[A-Za-z0-9._+-]+$ ]] || refuse "the manifest of the staged archive $data_from names no version"
  mv "$work/staged/database.dump" "$work/staged/fs.tar" "$work/"
  rm -rf "$work/staged"
else
  docker exec "$POSTGRES" pg_dump -Fc -U "$DATABASE_USER" -d "$DATABASE" > "$work/database.dump"
  docker cp "$SERVER:$FS_DIR" - > "$work/fs.tar"
fi
# A stopped container's files are copied as a running one's (moby daemon/containerfs_linux.go mounts them).
docker cp "$SERVER:$INSTANCE_DIR" - > "$work/instance.tar"
data_sums=$(cd "$work" && sha256sum database.dump fs.tar instance.tar)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
  printf '{\n  "site": "%s",\n  "version": "%s",\n  "created": "%s",\n  "reason": "%s",\n' \
    "$SITE_NAME" "$data_version" "$created" "$REASON"
  [ -z "$data_from" ] || printf '  "data_from": "%s",\n' "$(basename "$data_from")"
  printf '  "members": {\n'
  awk '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $2, $1 }' <<< "$data_sums"
  printf '\n  }\n}\n'
} > "$work/manifest.json"
# The sums cover the manifest too: its version decides what a restore accepts.
(cd "$work" && sha256sum database.dump fs.tar instance.tar manifest.json > SHA256SUMS)
archive="$BACKUP_DIR/codenvy-$SITE_NAME-$(date -u +%Y%m%dT%H%M%SZ)-$data_version.tar"
# Packed inside the work directory, so a full disk leaves nothing behind (the trap removes it), then renamed
# into place at once (the same filesystem).
tar -C "$work" -cf "$work/archive.tar" manifest.json SHA256SUMS database.dump fs.tar instance.tar
mv "$work/archive.tar" "$archive"
# Newest first by modification time; names travel NUL-terminated, so no name is ever split or read as code.
find "$BACKUP_DIR" -maxdepth 1 -type f -name "codenvy-$SITE_NAME-$ARCHIVE_STAMP_GLOB-*.tar" -printf '%T@ %p\0' |
  sort -z -r -n | tail -z -n +"$((KEEP + 1))" | cut -z -d' ' -f2- | xargs -0 -r rm -f --
echo "$archive"
