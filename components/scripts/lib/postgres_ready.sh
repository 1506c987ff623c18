# PostgreSQL in a container of the official image. On its first boot the entrypoint runs a server on the
# unix socket alone (listen_addresses=''), stops it, and only then starts the real one: a check on the
# socket can pass just before the socket goes away. Over TCP on 127.0.0.1 only the real server answers.
postgres_ready() { docker exec "$1" pg_isready -q -h 127.0.0.1 > /dev/null 2>&1; }
wait_for_postgres() {
  local try
  for try in $(seq 1 "$2"); do
    postgres_ready "$1" && return 0
    # Every 10 tries a line on stderr, which is logged even where stdout is a secret: not silent, not noisy.
    [ $((try % 10)) -ne 0 ] || echo "waiting for $1 to accept connections: try $try of $2" >&2
    sleep 1
  done
  echo "$1 did not accept connections: $2 tries, a second apart" >&2
  return 1
}
