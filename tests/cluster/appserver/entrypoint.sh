#!/bin/sh
# The codenvy/codenvy image's entrypoint (codenvy/codenvy 5.22.0 dockerfiles/codenvy/entrypoint.sh), for the
# stand-in server: the same checks, messages and bounds, in POSIX sh (upstream's [[ ]] and let need busybox ash).

is_docker_for_mac_or_windows() {
  # entrypoint.sh:10-16
  uname -r | grep -q 'moby'
}

get_docker_external_hostname() {
  # entrypoint.sh:18-24
  if is_docker_for_mac_or_windows; then
    echo "localhost"
  else
    echo ""
  fi
}

has_external_hostname() {
  # entrypoint.sh:26-32
  [ "${HOSTNAME}" != "" ]
}

# entrypoint.sh:41-48: without PGUSER and PGPASSWORD it says so and exits (status 0, as upstream's bare exit after
# an echo), so Tomcat never starts.
if [ -z "$PGUSER" ] || [ -z "$PGPASSWORD" ]; then
  echo "Postgres variables are not set. Exiting"
  echo "Environment variables have the following values:"
  echo "User: $PGUSER"
  echo "Password: $PGPASSWORD"
  exit
fi

echo "Waiting for Postgres to boot..."

# entrypoint.sh:52-67: psql against the service name `postgres`, 60 tries 5 s apart, then give up (status 0).
MAX_TRIES=60
COUNT=0
while [ $COUNT -lt $MAX_TRIES ]; do
  if psql -h postgres -d template1 -c '\l'; then
    echo '[INFO]: Postgres is up and running. Starting Codenvy Tomcat...'
    break
  fi
  COUNT=$((COUNT + 1))
  echo '[INFO]: Postgres is unavailable. Trying in 5 seconds...'
  sleep 5
  if [ "$COUNT" -eq "60" ]; then
    echo "[ERROR]: Postgres failed to start in 5 minutes. Check Postgres container logs. Codenvy Tomcat start canceled."
    exit
  fi
done

# entrypoint.sh:69-74
HOSTNAME=${CHE_DOCKER_IP_EXTERNAL:-$(get_docker_external_hostname)}
if has_external_hostname; then
  export CHE_DOCKER_IP_EXTERNAL="${HOSTNAME}"
fi

# entrypoint.sh:76-77
# shellcheck disable=SC2086 # JPDA is empty or one word, as upstream passes it
exec /opt/codenvy-tomcat/bin/catalina.sh ${JPDA} run
