#!/usr/bin/env bash
# The invoice robot's own PostgreSQL: the work-item queue that many consumers share
# (keywords/InvoiceLibrary/pgqueue.py). Debian's PostgreSQL 15 binaries, the project's own cluster
# under a state folder (default var/postgres/, git-ignored), TCP on a loopback port only, run as the
# system user `postgres` (no systemd, /etc/postgresql untouched).
#
#   scripts/postgres.sh start     initialise the cluster when missing, start it (no-op when running),
#                                 create the database; prints nothing on success but where it listens
#   scripts/postgres.sh stop      stop (fast shutdown; no-op when stopped)
#   scripts/postgres.sh status    exit 0 and print host/port when running, exit 3 when stopped
#   scripts/postgres.sh env       print the connection settings as shell exports (no password in them)
#   scripts/postgres.sh psql ...  run psql on the queue database (e.g. `psql -c 'select 1'`)
#
# Settings from the environment (defaults in brackets):
#   INVOICEBOT_PG_DIR [var/postgres]  INVOICEBOT_PG_HOST [127.0.0.1]  INVOICEBOT_PG_PORT [15432]
#   INVOICEBOT_PG_DB [invoicebot]     INVOICEBOT_PG_BIN [/usr/lib/postgresql/15/bin]
#
# Authentication: scram-sha-256 over TCP for the role `postgres`. Its password is generated at the
# first start and kept only in $INVOICEBOT_PG_DIR/pgpass (mode 0600, libpq's passfile format); clients
# name that file (`passfile=` in the DSN, see `env`), so the password is in no DSN, command line or log.
# Consumers on other hosts: copy the pgpass file there, set listen_addresses and pg_hba for that network.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${INVOICEBOT_PG_DIR:-$ROOT/var/postgres}"
HOST="${INVOICEBOT_PG_HOST:-127.0.0.1}"
PORT="${INVOICEBOT_PG_PORT:-15432}"
DB="${INVOICEBOT_PG_DB:-invoicebot}"
BIN="${INVOICEBOT_PG_BIN:-/usr/lib/postgresql/15/bin}"
ROLE=postgres

die() { echo "postgres.sh: $*" >&2; exit 1; }

[[ -x "$BIN/pg_ctl" ]] || die "PostgreSQL is not installed at $BIN; run: apt-get install -y postgresql"
mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
DATA="$STATE/data"
RUN="$STATE/run"
LOG="$STATE/postgres.log"
PASSFILE="$STATE/pgpass"

# As root, the server runs as the system user `postgres` (PostgreSQL refuses root); otherwise as the caller.
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "the system user 'postgres' is missing (it comes with the postgresql package)"
  as_pg() { runuser -u postgres -- "$@"; }
  OWNER=postgres
else
  as_pg() { "$@"; }
  OWNER="$(id -un)"
fi

running() { as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

dsn() { echo "host=$HOST port=$PORT dbname=$DB user=$ROLE passfile=$PASSFILE"; }

init_cluster() {
  [[ -f "$DATA/PG_VERSION" ]] && return 0
  echo "postgres.sh: initialising a cluster in $DATA" >&2
  mkdir -p "$DATA" "$RUN"
  chown "$OWNER" "$DATA" "$RUN"
  chmod 0700 "$DATA"
  local pwfile password
  password="$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 32)"
  pwfile="$(mktemp "$STATE/.pw.XXXXXX")"
  printf '%s\n' "$password" >"$pwfile"
  chown "$OWNER" "$pwfile"; chmod 0600 "$pwfile"
  # libpq's passfile: host:port:database:user:password (any database, so psql can reach `postgres` too)
  (umask 077; printf '%s:%s:*:%s:%s\n' "$HOST" "$PORT" "$ROLE" "$password" >"$PASSFILE")
  as_pg "$BIN/initdb" -D "$DATA" -U "$ROLE" --pwfile="$pwfile" --auth-local=peer --auth-host=scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 >"$STATE/initdb.log" 2>&1 || { rm -f "$pwfile"; cat "$STATE/initdb.log" >&2; die "initdb failed"; }
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<EOF

# --- the invoice robot's queue (scripts/postgres.sh) ---
listen_addresses = '$HOST'
port = $PORT
unix_socket_directories = '$RUN'
max_connections = 100
shared_buffers = 128MB
log_min_messages = warning
log_statement = 'none'
EOF
}

start() {
  init_cluster
  mkdir -p "$RUN"; chown "$OWNER" "$RUN"
  touch "$LOG"; chown "$OWNER" "$LOG"
  if ! running; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start >/dev/null || { tail -20 "$LOG" >&2; die "the server did not start (log: $LOG)"; }
  fi
  if [[ "$(PGPASSFILE="$PASSFILE" psql_ -d postgres -tAc "select 1 from pg_database where datname = '$DB'")" != 1 ]]; then
    PGPASSFILE="$PASSFILE" psql_ -d postgres -qc "create database \"$DB\"" >/dev/null
  fi
  echo "postgres: listening on $HOST:$PORT, database $DB" >&2
}

stop() {
  if running; then
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  fi
}

psql_() { PGPASSFILE="$PASSFILE" "$BIN/psql" -h "$HOST" -p "$PORT" -U "$ROLE" -X -v ON_ERROR_STOP=1 "$@"; }

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if [[ -f "$DATA/PG_VERSION" ]] && running; then echo "postgres: running on $HOST:$PORT (database $DB)"; else echo "postgres: stopped"; exit 3; fi ;;
  env) echo "export INVOICEBOT_QUEUE_DSN='$(dsn)'" ;;
  psql) shift; psql_ -d "$DB" "$@" ;;
  *) echo "usage: $0 start|stop|status|env|psql [args]" >&2; exit 2 ;;
esac
