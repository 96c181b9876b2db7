#!/usr/bin/env bash
# pg-test-server.sh start|stop|restart|down|up DIR — a throw-away PostgreSQL 15 for the
# tests: initdb into DIR/data, listening only on a unix socket in DIR (no
# TCP), trust authentication, database "facenet".  PostgreSQL refuses to
# run as root (CI runs as root), so as root the server runs as the
# `postgres` system user (runuser): DIR must then lie where that user can
# reach it (e.g. /tmp/fn-pg-$$, not inside a mode-700 directory).  start prints the connection URL on
# stdout and exits 0, or prints why not on stderr and exits 77 (skip).
set -euo pipefail
cmd=${1:?usage: pg-test-server.sh start|stop DIR}
dir=${2:?usage: pg-test-server.sh start|stop DIR}
bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
port=${PG_PORT:-$((20000 + $$ % 20000))}
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $cmd in
start)
  [ -x "$bin/initdb" ] || { echo "pg-test-server: no PostgreSQL 15 at $bin (apt-get install postgresql-15)" >&2; exit 77; }
  if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
    echo "pg-test-server: running as root and there is no postgres user to run the server as" >&2; exit 77
  fi
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir" && chmod 700 "$dir"
  as_pg "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { echo "pg-test-server: initdb failed (see $dir/initdb.log)" >&2; tail -3 "$dir/initdb.log" >&2; exit 77; }
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-k $dir -p $port -c listen_addresses='' -c fsync=off -c max_connections=50" start >/dev/null 2>&1 ||
    { echo "pg-test-server: the server did not start (see $dir/server.log)" >&2; tail -3 "$dir/server.log" >&2 || true; exit 77; }
  as_pg "$bin/createdb" -h "$dir" -p "$port" -U postgres facenet >/dev/null 2>&1 ||
    { echo "pg-test-server: createdb failed" >&2; exit 77; }
  echo "$port" > "$dir/port"
  echo "postgresql:///facenet?host=$dir&port=$port&user=postgres"
  ;;
stop)
  [ -d "$dir/data" ] && as_pg "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  ;;
restart)
  p=$(cat "$dir/port")
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -m fast \
    -o "-k $dir -p $p -c listen_addresses='' -c fsync=off -c max_connections=50" restart >/dev/null 2>&1
  ;;
down)  # stop the server, keep its data (a database outage under running clients)
  as_pg "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1
  ;;
up)    # start it again after down, on the same socket and port
  p=$(cat "$dir/port")
  as_pg "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-k $dir -p $p -c listen_addresses='' -c fsync=off -c max_connections=50" start >/dev/null 2>&1
  ;;
*) echo "usage: pg-test-server.sh start|stop|restart|down|up DIR" >&2; exit 2;;
esac
