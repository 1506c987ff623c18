#!/usr/bin/env bash
# Keep the PostgreSQL configuration volume equal to the bundle on stdin; a running server reloads it.
set -euo pipefail
# params: BUNDLE_SHA256 CONF_VOLUME CONTAINER DATABASE_USER IMAGE NODE_NAME
# include: postgres_ready
# The bundle is a base64 tar: the server's TLS key and certificate, the peer site's CA, pg_hba.conf and the
# replication password file. The key must belong to the server's user with mode 0600, which the Docker
# provider's uploads (root files) cannot give. TLS files and pg_hba.conf take effect on a reload.
bundle=$(cat)
current=$(docker run --rm -v "$CONF_VOLUME:/conf:ro" --entrypoint cat "$IMAGE" /conf/.bundle.sha256 2> /dev/null || true)
if [ "$current" = "$BUNDLE_SHA256" ]; then
  echo "postgres config on $NODE_NAME: unchanged"
  exit 0
fi
# shellcheck disable=SC2016 # expanded by the throw-away container's shell
# Unpacked beside the files in use, then each renamed into place: a server that starts or reloads meanwhile
# finds the old file or the new one, never none. Files the bundle no longer has go last.
base64 -d <<< "$bundle" | docker run --rm -i --user root -v "$CONF_VOLUME:/conf" --entrypoint sh "$IMAGE" -c '
  set -eu
  umask 077
  rm -rf /conf/.incoming
  mkdir /conf/.incoming
  tar -x -C /conf/.incoming
  chown -R postgres:postgres /conf/.incoming
  kept=" $(ls -A /conf/.incoming | tr "\n" " ") "
  for name in $kept; do mv -f "/conf/.incoming/$name" "/conf/$name"; done
  for path in /conf/*; do
    case "$kept" in *" ${path#/conf/} "*) ;; *) rm -f "$path" ;; esac
  done
  rmdir /conf/.incoming
  printf "%s\n" "$1" > /conf/.bundle.sha256
  chown postgres:postgres /conf /conf/.bundle.sha256
  chmod 0700 /conf' sh "$BUNDLE_SHA256"
# A server still in its first boot reads the files when the real one starts.
if postgres_ready "$CONTAINER"; then
  docker exec "$CONTAINER" psql -X -q -U "$DATABASE_USER" -d postgres -c 'SELECT pg_reload_conf()' > /dev/null
  echo "postgres config on $NODE_NAME: written and reloaded"
else
  echo "postgres config on $NODE_NAME: written"
fi
