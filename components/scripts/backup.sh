#!/usr/bin/env bash
# Back up the site: the database (pg_dump -Fc), project data and the instance config, in one archive
# with a manifest and sha256 sums. Workspace snapshots (the registry) are not part of it, as in the seed.
set -euo pipefail
# params: BACKUP_DIR KEEP REASON SITE_NAME TARGET_VERSION
server="$SITE_NAME-server"
postgres="$SITE_NAME-postgres"
deployed=$(docker cp "$server:/instance/codenvy.ver" - 2> /dev/null | tar -xO 2> /dev/null | tr -d '[:space:]' || true)
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
if [ -z "$deployed" ]; then
  echo "backup of $SITE_NAME: no server container with /instance/codenvy.ver" >&2
  exit 1
fi
mkdir -p "$BACKUP_DIR"
work=$(mktemp -d "$BACKUP_DIR/.partial.XXXXXX")
trap 'rm -rf "$work"' EXIT
docker exec "$postgres" pg_dump -Fc -U codenvy -d codenvy > "$work/database.dump"
docker cp "$server:/home/codenvy/codenvy-data/fs" - > "$work/fs.tar"
docker cp "$server:/instance" - > "$work/instance.tar"
(cd "$work" && sha256sum database.dump fs.tar instance.tar > SHA256SUMS)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
{
  printf '{\n  "site": "%s",\n  "version": "%s",\n  "created": "%s",\n  "reason": "%s",\n  "members": {\n' \
    "$SITE_NAME" "$deployed" "$created" "$REASON"
  awk '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $2, $1 }' "$work/SHA256SUMS"
  printf '\n  }\n}\n'
} > "$work/manifest.json"
archive="$BACKUP_DIR/codenvy-$SITE_NAME-$(date -u +%Y%m%dT%H%M%SZ)-$deployed.tar"
tar -C "$work" -cf "$archive.partial" manifest.json SHA256SUMS database.dump fs.tar instance.tar
mv "$archive.partial" "$archive"
ls -1t "$BACKUP_DIR"/codenvy-"$SITE_NAME"-*.tar | tail -n +"$((KEEP + 1))" | xargs -r rm -f --
echo "$archive"
