#!/usr/bin/env bash
# Stops the trytond started by start.sh (by its pid file); a no-op when it is not running.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
[[ -f "$TRYTON_PID" ]] || exit 0
pid="$(cat "$TRYTON_PID")"
if kill -0 "$pid" 2>/dev/null; then
  kill "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
fi
rm -f "$TRYTON_PID"
