#!/usr/bin/env bash
# Starts trytond (JSON-RPC at /rpc/, sao at /) on the loopback port from env.sh; a no-op when it is
# already running.  Runs setup.sh and the one-time database initialisation first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
bash "$ROOT/scripts/tryton/setup.sh"

running() { [[ -f "$TRYTON_PID" ]] && kill -0 "$(cat "$TRYTON_PID")" 2>/dev/null; }
answering() { curl -fsS -o /dev/null --max-time 2 "$TRYTON_URL" 2>/dev/null; }

if running && answering; then
  exit 0
fi
bash "$ROOT/scripts/tryton/init_db.sh"
if ! running; then
  # -d: without it the server does not open the database and every login fails with "'res.user'".
  "$TRYTON_VENV/bin/trytond" -c "$TRYTON_CONF" -d "$TRYTON_DB" --pidfile "$TRYTON_PID" >>"$TRYTON_LOG" 2>&1 &
  disown
fi
for _ in $(seq 1 300); do
  if answering; then
    echo "tryton: serving sao and JSON-RPC at $TRYTON_URL (database $TRYTON_DB)" >&2
    exit 0
  fi
  if [[ -f "$TRYTON_PID" ]] && ! kill -0 "$(cat "$TRYTON_PID")" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "tryton: the server did not answer at $TRYTON_URL; see the end of $TRYTON_LOG:" >&2
tail -n 20 "$TRYTON_LOG" >&2
exit 1
