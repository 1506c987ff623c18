#!/bin/sh
# The stand-in's Tomcat: `catalina.sh [jpda] run` starts the API webapp in the foreground, with JAVA_OPTS in the
# environment (configuration.py reads its -Dche.* and -Dcodenvy.* options, as the JVM would get them).
set -eu
if [ "${1:-}" = jpda ]; then
  shift
fi
if [ "${1:-}" != run ]; then
  echo "usage: catalina.sh [jpda] run" >&2
  exit 1
fi
exec python3 -u /opt/codenvy-tomcat/webapps/api/server.py
