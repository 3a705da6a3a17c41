# Shared settings of the Tryton scripts; sourced, never run.  Every value can be overridden
# from the environment (INVOICEBOT_TRYTON_*), e.g. to run a second server on another port.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TRYTON_SERIES="8.0"                                   # trytond, its modules, proteus and sao: one series
TRYTON_PIP_PINS=(trytond==8.0.12 trytond-account-invoice==8.0.2 proteus==8.0.0)
SAO_NPM_PIN="tryton-sao@8.0.11"
TRYTON_VENV="${INVOICEBOT_TRYTON_VENV:-$ROOT/.venv-tryton}"
TRYTON_VAR="${INVOICEBOT_TRYTON_VAR:-$ROOT/var/tryton}"
SAO_DIR="${INVOICEBOT_SAO_DIR:-$ROOT/var/sao}"
SAO_ROOT="$SAO_DIR/node_modules/tryton-sao"
TRYTON_HOST="${INVOICEBOT_TRYTON_HOST:-127.0.0.1}"
TRYTON_PORT="${INVOICEBOT_TRYTON_PORT:-8469}"
TRYTON_DB="${INVOICEBOT_TRYTON_DB:-invoicebot}"
TRYTON_CONF="$TRYTON_VAR/trytond.conf"
TRYTON_PID="$TRYTON_VAR/trytond.pid"
TRYTON_LOG="$TRYTON_VAR/trytond.log"
TRYTON_URL="http://$TRYTON_HOST:$TRYTON_PORT/"
TRYTON_USER="${INVOICEBOT_TRYTON_USER:-admin}"
# A local, loopback-only test server: the default password is not a secret; set your own in the environment.
TRYTON_PASSWORD="${INVOICEBOT_TRYTON_PASSWORD:-invoicebot-admin}"
