# The host directory of the local volume $1, or a refusal naming what Docker answered. moby's local driver keeps a
# volume's data at <data root>/volumes/<name>/_data (volume/local/local.go, the root being the daemon's resolved
# --data-root, `docker info`'s DockerRootDir); an empty answer (a daemon that printed nothing), another driver's
# path, a link or `/` is never synced into or from.
volume_mountpoint() {
  local root mountpoint
  root=$(docker info -f '{{.DockerRootDir}}' 2> /dev/null) || root=""
  mountpoint=$(docker volume inspect -f '{{.Mountpoint}}' -- "$1" 2> /dev/null) || mountpoint=""
  if [[ ! $root =~ ^/[A-Za-z0-9._/+-]*[A-Za-z0-9._+-]$ ]] || [ "$mountpoint" != "$root/volumes/$1/_data" ] ||
    [ -L "$mountpoint" ] || [ ! -d "$mountpoint" ]; then
    echo "the volume $1 has no usable mountpoint here: Docker answered '${mountpoint:0:200}'," \
      "expected <DockerRootDir>/volumes/$1/_data under the data root '${root:0:200}'" >&2
    return 1
  fi
  printf '%s\n' "$mountpoint"
}
