#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the test suite and prints its URL.
# initdb refuses to run as root, so the cluster belongs to the `postgres` user. Idempotent:
# when the cluster already answers, it only prints the URL.
set -euo pipefail
port="${CHANGEPROOF_PG_PORT:-55432}"
data="${CHANGEPROOF_PG_DIR:-/tmp/changeproof-pg}"
bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
url="postgres://changeproof@127.0.0.1:${port}/postgres"
if [ -z "$bin" ]; then
  echo "start-postgres: PostgreSQL is not installed (apt-get install -y postgresql)" >&2
  exit 1
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if as_pg "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
  echo "$url"
  exit 0
fi
if [ ! -f "$data/PG_VERSION" ]; then
  mkdir -p "$data"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$data"
  as_pg "$bin/initdb" -D "$data" -U changeproof --auth=trust -E UTF8 >/dev/null
fi
as_pg "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$data -c fsync=on -c max_connections=200" start >/dev/null
echo "$url"
