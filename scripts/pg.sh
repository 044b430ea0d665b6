#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks, from Debian's packages.
#
#   eval "$(bash scripts/pg.sh start [DIR])"   # installs PostgreSQL if missing, starts a
#                                              # cluster in DIR (default: a new temp dir) on a
#                                              # free loopback port; prints the exports
#   bash scripts/pg.sh stop DIR                # stops it by its own PID and removes DIR
#
# `start` prints KEYWARD_PG_DIR (the cluster's directory) and KEYWARD_TEST_DATABASE_URL
# (a superuser URL on the `postgres` database; tests make a database each from it).
# The cluster runs as the `postgres` user when started by root (initdb refuses root).
set -euo pipefail

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] && echo "$dir"
}

as_owner() { # run a command as the cluster's owner
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "${1:-}" in
start)
  if [ -z "$(pg_bin)" ]; then
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    # Debian's package starts a system cluster; this script uses its own.
    (service postgresql stop || pg_ctlcluster --help) >/dev/null 2>&1 || true
  fi
  bin=$(pg_bin)
  dir=${2:-$(mktemp -d /tmp/keyward-pg.XXXXXX)}
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  chmod 700 "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  as_owner "$bin/initdb" -D "$dir/data" -U keyward --auth=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
  # Settings for a test cluster: durability as in production (fsync on), more connections
  # than the default for parallel tests and several servers.
  cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 400
shared_buffers = 128MB
CONF
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >&2 \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "export KEYWARD_PG_DIR='$dir'"
  echo "export KEYWARD_TEST_DATABASE_URL='postgres://keyward@127.0.0.1:$port/postgres'"
  ;;
stop)
  dir=${2:?the cluster directory}
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true # fast shutdown
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start [DIR] | stop DIR" >&2; exit 2 ;;
esac
