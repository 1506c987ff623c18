#!/usr/bin/env bash
# Join this host to the site's swarm as a worker (a no-op when it is a member) and print its node ID.
set -euo pipefail
# params: ADVERTISE_ADDR JOIN_TOKEN MANAGER_ADDR NODE_NAME
# swarm role: worker
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
  if ! timeout 90 docker swarm join --token "$JOIN_TOKEN" --advertise-addr "$ADVERTISE_ADDR" \
      "$MANAGER_ADDR:2377" > /dev/null; then
    echo "swarm on $NODE_NAME: could not join the manager at $MANAGER_ADDR:2377" >&2
    exit 1
  fi
  echo "swarm on $NODE_NAME: joined $MANAGER_ADDR:2377" >&2
fi
docker info --format "{{.Swarm.NodeID}}"
