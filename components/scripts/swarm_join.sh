#!/usr/bin/env bash
# Join this host to the site's swarm as a worker (a no-op when it is a member) and print its node ID. The
# join token comes on stdin: never in the script, a process's arguments, or anything printed.
set -euo pipefail
# params: ADVERTISE_ADDR MANAGER_ADDR NODE_NAME OWNER STATE_DIR SWARM_ROLE
# SWARM_ROLE ("worker" here) is the marker the policy pack counts managers by (swarm-managers-odd); the
# messages below name it.
token=""
IFS= read -r token || true
state=$(docker info --format "{{.Swarm.LocalNodeState}}")
if [ "$state" = active ]; then
  managers=$(docker info --format "{{range .Swarm.RemoteManagers}}{{.Addr}} {{end}}")
  case " $managers" in
    *" $MANAGER_ADDR:2377 "*) echo "swarm on $NODE_NAME: already a member" >&2 ;;
    *)
      echo "swarm on $NODE_NAME: member of another swarm (managers: $managers); leave it first" >&2
      exit 1
      ;;
  esac
else
  if ! [[ "$token" =~ ^SWMTKN-[A-Za-z0-9-]+$ ]]; then
    echo "swarm on $NODE_NAME: no worker join token on stdin" >&2
    exit 1
  fi
  if ! command -v curl > /dev/null; then
    echo "swarm on $NODE_NAME: curl is missing; install it there (the join token must not be a docker argument)" >&2
    exit 1
  fi
  socket=/var/run/docker.sock
  case "${DOCKER_HOST:-}" in unix://*) socket=${DOCKER_HOST#unix://} ;; esac
  response=$(mktemp)
  trap 'rm -f "$response" "$response.err"' EXIT
  # printf is a shell builtin: the token reaches curl through a pipe, not an argument list.
  if ! code=$(printf '{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"%s","RemoteAddrs":["%s:2377"],"JoinToken":"%s"}' \
    "$ADVERTISE_ADDR" "$MANAGER_ADDR" "$token" |
    curl -sS --max-time 90 --unix-socket "$socket" -o "$response" -w '%{http_code}' \
      -H 'Content-Type: application/json' --data-binary @- http://localhost/swarm/join 2> "$response.err"); then
    code=${code:-000}
  fi
  if [ "$code" != 200 ]; then
    reason=$(cat "$response" "$response.err" | sed -e 's/SWMTKN-[A-Za-z0-9-]*/<token>/g' | tr '\n' ' ' | cut -c1-300)
    echo "swarm on $NODE_NAME: could not join the manager at $MANAGER_ADDR:2377 (HTTP $code): $reason" >&2
    exit 1
  fi
  echo "swarm on $NODE_NAME: joined $MANAGER_ADDR:2377 as a $SWARM_ROLE" >&2
fi
# The delete of this resource leaves the swarm only while this file still names it as the owner.
if [ "$(cat "$STATE_DIR/swarm.owner" 2> /dev/null)" != "$OWNER" ]; then
  mkdir -p "$STATE_DIR"
  printf '%s\n' "$OWNER" > "$STATE_DIR/swarm.owner"
fi
docker info --format "{{.Swarm.NodeID}}"
