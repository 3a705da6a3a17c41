#!/usr/bin/env bash
# Creates and fills the SQLite database once (marker file var/tryton/db/<db>.initialised):
# modules, admin user, company, chart of accounts, fiscal years with invoice sequences,
# supplier taxes, payment terms, expense categories and a few suppliers (scripts/tryton/init_db.py,
# driven by scripts/tryton/master_data.json).  Password: INVOICEBOT_TRYTON_PASSWORD (default in env.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
marker="$TRYTON_VAR/db/$TRYTON_DB.initialised"
[[ -f "$marker" ]] && exit 0
db="$TRYTON_VAR/db/$TRYTON_DB.sqlite"
rm -f "$db"
touch "$db"
pwfile="$(mktemp)"; trap 'rm -f "$pwfile"' EXIT
printf '%s' "$TRYTON_PASSWORD" > "$pwfile"
echo "tryton: initialising database $TRYTON_DB (once; takes a minute)" >&2
TRYTONPASSFILE="$pwfile" "$TRYTON_VENV/bin/trytond-admin" -c "$TRYTON_CONF" -d "$TRYTON_DB" --all \
  -u account_invoice --activate-dependencies --email admin@invoicebot.invalid >>"$TRYTON_LOG" 2>&1
"$TRYTON_VENV/bin/python" "$ROOT/scripts/tryton/init_db.py" --config "$TRYTON_CONF" --database "$TRYTON_DB" \
  --data "$ROOT/scripts/tryton/master_data.json"
touch "$marker"
