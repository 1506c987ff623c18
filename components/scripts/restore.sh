#!/usr/bin/env bash
# Restore a backup archive into this site: checks first (members, checksums, version), then the
# database in one transaction, then project data, then ANALYZE. A bad archive changes nothing.
set -euo pipefail
# params: DATABASE DATABASE_USER FS_DIR POSTGRES SERVER SITE_NAME SITE_VERSION
# include: refused_entries
umask 077
archive=${1:?usage: restore ARCHIVE}
refuse() {
  echo "restore into $SITE_NAME refused: $*; nothing was changed" >&2
  exit 1
}
[ -f "$archive" ] || refuse "no archive at $archive"
fingerprint=$(sha256sum "$archive" | cut -d' ' -f1)
marker="$archive.restored-into-$SITE_NAME"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$fingerprint" ]; then
  echo "restore into $SITE_NAME: $(basename "$archive") already restored; nothing to do"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
tar -xf "$archive" -C "$work" 2> /dev/null || refuse "$archive is corrupt or truncated"
for member in manifest.json SHA256SUMS database.dump fs.tar instance.tar; do
  [ -f "$work/$member" ] && [ ! -L "$work/$member" ] || refuse "$archive has no $member as a regular file"
done
# Exactly these members, each a regular file: no link to a host file, nothing extra.
expected=$(printf 'f %s\n' SHA256SUMS database.dump fs.tar instance.tar manifest.json)
found=$(find "$work" -mindepth 1 -printf '%y %P\n' | LC_ALL=C sort)
[ "$found" = "$expected" ] || refuse "$archive holds other members than manifest.json, SHA256SUMS and the data"
# Every other member is covered by the checksums, and nothing else is named there.
summed=$(sed -E 's/^[0-9a-f]{64} [ *]//' "$work/SHA256SUMS" | LC_ALL=C sort)
[ "$summed" = "$(printf '%s\n' database.dump fs.tar instance.tar manifest.json)" ] ||
  refuse "the checksums of $archive do not cover exactly database.dump, fs.tar, instance.tar and manifest.json"
(cd "$work" && sha256sum --quiet --strict --check SHA256SUMS > /dev/null 2>&1) ||
  refuse "checksums of $archive do not match"
backup_version=$(sed -n 's/^ *"version": "\(.*\)",$/\1/p' "$work/manifest.json")
[ -n "$backup_version" ] || refuse "the manifest of $archive names no version"
# Tildes sort before releases in GNU version order, as prereleases do in semver.
newest=$(printf '%s\n%s\n' "${backup_version//-/\~}" "${SITE_VERSION//-/\~}" | sort -V | tail -n 1)
if [ "$newest" != "${SITE_VERSION//-/\~}" ]; then
  refuse "the backup is from $backup_version, newer than this site's $SITE_VERSION; upgrade the site first"
fi
# The archive may come from the other site (a standby restores the primary's): fs.tar goes to docker cp, which
# unpacks into FS_DIR's parent as root, so it must hold fs/ and exactly its files, directories and inner links.
refused=$(refused_in_fs_tar "$work/fs.tar") || refuse "the fs.tar of $archive cannot be listed"
[ -z "$refused" ] || refuse "the fs.tar of $archive holds what a restore never unpacks: $(named_refusals <<< "$refused")"
docker exec -i "$POSTGRES" pg_restore --single-transaction --clean --if-exists --no-owner \
  -U "$DATABASE_USER" -d "$DATABASE" < "$work/database.dump"
# fs.tar holds the directory itself (docker cp of FS_DIR), so it unpacks into FS_DIR's parent.
docker cp - "$SERVER:$(dirname "$FS_DIR")/" < "$work/fs.tar"
docker exec "$POSTGRES" psql -q -U "$DATABASE_USER" -d "$DATABASE" -c ANALYZE
printf '%s\n' "$fingerprint" > "$marker"
echo "restore into $SITE_NAME: $(basename "$archive") (version $backup_version) restored"
