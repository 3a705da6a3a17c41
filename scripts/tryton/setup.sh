#!/usr/bin/env bash
# Installs what the Tryton server needs, only what is missing (idempotent):
#   .venv-tryton/  trytond + account_invoice + proteus (series 8.0, pinned in env.sh)
#   var/sao/       the web client tryton-sao from npm, served by trytond itself
#   var/tryton/    trytond.conf (SQLite database folder, web root = sao, loopback port)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if ! "$TRYTON_VENV/bin/python" -c "import trytond, proteus, trytond.modules.account_invoice" 2>/dev/null \
   || [[ "$("$TRYTON_VENV/bin/python" -c 'import trytond; print(trytond.__version__)' 2>/dev/null)" != "${TRYTON_PIP_PINS[0]#trytond==}" ]]; then
  echo "tryton setup: installing ${TRYTON_PIP_PINS[*]} into $TRYTON_VENV" >&2
  [[ -x "$TRYTON_VENV/bin/python" ]] || python3 -m venv "$TRYTON_VENV"
  # the three pins plus their dependencies, all exact (scripts/tryton/requirements.txt = pip freeze)
  "$TRYTON_VENV/bin/pip" install -q --disable-pip-version-check -r "$ROOT/scripts/tryton/requirements.txt"
fi

if [[ ! -f "$SAO_ROOT/dist/tryton-sao.js" ]] \
   || [[ "$(node -p "require('$SAO_ROOT/package.json').version" 2>/dev/null)" != "${SAO_NPM_PIN#tryton-sao@}" ]]; then
  command -v npm >/dev/null || { echo "tryton setup: npm is missing; install Debian's nodejs and npm (apt-get install nodejs npm)" >&2; exit 1; }
  echo "tryton setup: installing $SAO_NPM_PIN into $SAO_DIR" >&2
  mkdir -p "$SAO_DIR"
  [[ -f "$SAO_DIR/package.json" ]] || echo '{"name": "invoicebot-sao", "private": true}' > "$SAO_DIR/package.json"
  (cd "$SAO_DIR" && npm install --no-audit --no-fund --loglevel=error "$SAO_NPM_PIN" >/dev/null)
fi
# sao's index.html loads its libraries from ./node_modules/; npm hoisted them one level up.
[[ -e "$SAO_ROOT/node_modules" ]] || ln -sfn .. "$SAO_ROOT/node_modules"
# sao asks for these two optional files on every load; empty ones keep the server log clean.
[[ -f "$SAO_ROOT/custom.css" ]] || : > "$SAO_ROOT/custom.css"
[[ -f "$SAO_ROOT/custom.js" ]] || : > "$SAO_ROOT/custom.js"

mkdir -p "$TRYTON_VAR/db" "$TRYTON_VAR/attachments"
sed -e "s#@HOST@#$TRYTON_HOST#" -e "s#@PORT@#$TRYTON_PORT#" -e "s#@DBDIR@#$TRYTON_VAR/db#" \
    -e "s#@DATADIR@#$TRYTON_VAR/attachments#" -e "s#@WEBROOT@#$SAO_ROOT#" \
    "$ROOT/scripts/tryton/trytond.conf.in" > "$TRYTON_CONF.new"
if cmp -s "$TRYTON_CONF.new" "$TRYTON_CONF"; then rm "$TRYTON_CONF.new"; else mv "$TRYTON_CONF.new" "$TRYTON_CONF"; fi
