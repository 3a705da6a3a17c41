#!/usr/bin/env bash
# The invoice robot's own IMAP server: a real Dovecot with the project's config (not /etc/dovecot,
# no systemd), IMAP over TLS on a loopback port, passwd-file users and Maildir storage, all under
# a state folder (default var/dovecot/ in the checkout).
#
#   scripts/dovecot.sh start                  start (no-op when running); makes the TLS cert and the test user
#   scripts/dovecot.sh stop                   stop cleanly (no-op when stopped)
#   scripts/dovecot.sh status                 exit 0 and print host/port when running, exit 3 when stopped
#   scripts/dovecot.sh adduser USER [PASS]    add or change a user (PASS from argument or $INVOICEBOT_IMAP_PASSWORD)
#   scripts/dovecot.sh deliver USER FILE...   put .eml files into USER's INBOX (doveadm save)
#   scripts/dovecot.sh count USER             print "folder messages" for every folder of USER
#   scripts/dovecot.sh env                    print the connection settings as shell exports
#
# Settings from the environment (defaults in brackets):
#   INVOICEBOT_DOVECOT_DIR [var/dovecot]  INVOICEBOT_IMAP_HOST [127.0.0.1]  INVOICEBOT_IMAP_PORT [10993]
#   INVOICEBOT_IMAP_USER [robot@invoicebot.test]  INVOICEBOT_IMAP_PASSWORD [a fixed test password, tests only]
# The default password is for the loopback test server only; set INVOICEBOT_IMAP_PASSWORD for anything else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${INVOICEBOT_DOVECOT_DIR:-$ROOT/var/dovecot}"
HOST="${INVOICEBOT_IMAP_HOST:-127.0.0.1}"
PORT="${INVOICEBOT_IMAP_PORT:-10993}"
DEFAULT_USER="${INVOICEBOT_IMAP_USER:-robot@invoicebot.test}"
DEFAULT_PASSWORD="${INVOICEBOT_IMAP_PASSWORD:-invoicebot-test-only}"
TEMPLATE="$ROOT/scripts/dovecot/dovecot.conf.in"
CONF="$STATE/dovecot.conf"
PIDFILE="$STATE/run/master.pid"

die() { echo "dovecot.sh: $*" >&2; exit 1; }

mkdir -p "$STATE"
STATE="$(cd "$STATE" && pwd)"
CONF="$STATE/dovecot.conf"
PIDFILE="$STATE/run/master.pid"

command -v dovecot >/dev/null || die "dovecot is not installed; run: apt-get install -y dovecot-imapd"
command -v openssl >/dev/null || die "openssl is not installed; run: apt-get install -y openssl"

# Who owns the mail.  As root, Dovecot refuses uid 0 for mail: use the system user 'mail'
# (or INVOICEBOT_MAIL_USER); as another user, everything runs as that user.
if [[ $(id -u) -eq 0 ]]; then
  MAIL_USER="${INVOICEBOT_MAIL_USER:-mail}"
  id "$MAIL_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_USER"
  LOGIN_USER=dovenull; INTERNAL_USER=dovecot
  id dovenull >/dev/null 2>&1 || LOGIN_USER="$MAIL_USER"
  id dovecot >/dev/null 2>&1 || INTERNAL_USER="$MAIL_USER"
else
  MAIL_USER="$(id -un)"; LOGIN_USER="$MAIL_USER"; INTERNAL_USER="$MAIL_USER"
fi
MAIL_UID="$(id -u "$MAIL_USER")"
MAIL_GID="$(id -g "$MAIL_USER")"

running() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid; pid="$(cat "$PIDFILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/$HOST/$PORT" 2>/dev/null; }

write_config() {
  mkdir -p "$STATE/run" "$STATE/lib" "$STATE/log" "$STATE/tls" "$STATE/mail"
  chmod 755 "$STATE" "$STATE/mail"
  sed -e "s#@STATE@#$STATE#g" -e "s#@HOST@#$HOST#g" -e "s#@PORT@#$PORT#g" \
      -e "s#@LOGIN_USER@#$LOGIN_USER#g" -e "s#@INTERNAL_USER@#$INTERNAL_USER#g" \
      -e "s#@MAIL_UID@#$MAIL_UID#g" -e "s#@MAIL_GID@#$MAIL_GID#g" "$TEMPLATE" > "$CONF.tmp"
  mv "$CONF.tmp" "$CONF"
  touch "$STATE/users"
  chmod 640 "$STATE/users"
  if [[ $(id -u) -eq 0 ]]; then chgrp "$INTERNAL_USER" "$STATE/users" 2>/dev/null || true; fi
}

make_cert() {
  [[ -s "$STATE/tls/cert.pem" && -s "$STATE/tls/key.pem" ]] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost/O=invoicebot test IMAP" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$STATE/tls/key.pem" -out "$STATE/tls/cert.pem" >/dev/null 2>&1 \
    || die "openssl could not make the self-signed certificate in $STATE/tls"
  chmod 600 "$STATE/tls/key.pem"
}

add_user() {
  local user="$1" pass="${2:-$DEFAULT_PASSWORD}" hash tmp
  [[ "$user" =~ ^[A-Za-z0-9._@+-]+$ ]] || die "user name '$user' may hold only letters, digits and . _ @ + -"
  write_config
  hash="$(doveadm -c "$CONF" pw -s SHA512-CRYPT -p "$pass")" || die "doveadm pw failed"
  tmp="$(mktemp "$STATE/users.XXXXXX")"
  grep -v "^${user}:" "$STATE/users" > "$tmp" || true
  echo "${user}:${hash}::::::" >> "$tmp"
  chmod 640 "$tmp"
  if [[ $(id -u) -eq 0 ]]; then chgrp "$INTERNAL_USER" "$tmp" 2>/dev/null || true; fi
  mv "$tmp" "$STATE/users"
  mkdir -p "$STATE/mail/$user"
  chown -R "$MAIL_UID:$MAIL_GID" "$STATE/mail/$user"
  echo "user $user ready"
}

start() {
  if running; then echo "dovecot already running (pid $(cat "$PIDFILE")) on $HOST:$PORT"; return 0; fi
  write_config
  make_cert
  grep -q "^${DEFAULT_USER}:" "$STATE/users" || add_user "$DEFAULT_USER" "$DEFAULT_PASSWORD" >/dev/null
  if port_open; then die "port $HOST:$PORT is taken by another program; set INVOICEBOT_IMAP_PORT to a free port"; fi
  # Detach Dovecot from our stdin/stdout/stderr: a caller that reads our output through a pipe
  # (Robot's Run Process, $(...)) would otherwise wait for the daemon to exit.
  dovecot -c "$CONF" </dev/null >>"$STATE/log/dovecot-start.log" 2>&1 \
    || { tail -n 5 "$STATE/log/dovecot-start.log" >&2; die "dovecot did not start; read $STATE/log/dovecot.log"; }
  for _ in $(seq 1 50); do
    if running && port_open; then echo "dovecot running (pid $(cat "$PIDFILE")) on imaps://$HOST:$PORT, state in $STATE"; return 0; fi
    sleep 0.2
  done
  tail -n 20 "$STATE/log/dovecot.log" >&2 || true
  die "dovecot started but $HOST:$PORT does not answer after 10 s; read $STATE/log/dovecot.log"
}

stop() {
  if ! running; then echo "dovecot not running"; rm -f "$PIDFILE"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  kill -TERM "$pid"
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || { echo "dovecot stopped"; return 0; }
    sleep 0.2
  done
  die "dovecot (pid $pid) did not stop within 10 s; look at $STATE/log/dovecot.log"
}

crash() {  # a server crash, for the fault tests: the master and every session process, SIGKILLed at once
  if ! running; then echo "dovecot not running"; rm -f "$PIDFILE"; return 0; fi
  local pid; pid="$(cat "$PIDFILE")"
  local all=("$pid") i=0
  while ((i < ${#all[@]})); do
    for child in $(ps -o pid= --ppid "${all[$i]}" 2>/dev/null); do all+=("$child"); done
    i=$((i + 1))
  done
  kill -KILL "${all[@]}" 2>/dev/null || true
  rm -f "$PIDFILE"
  echo "dovecot crashed (${#all[@]} processes killed)"
}

status() {
  if running; then echo "running pid=$(cat "$PIDFILE") host=$HOST port=$PORT state=$STATE"; return 0; fi
  echo "stopped state=$STATE"; return 3
}

deliver() {
  local user="$1"; shift
  [[ $# -gt 0 ]] || die "deliver needs USER and at least one .eml FILE"
  running || die "dovecot is not running for $STATE; start it first: scripts/dovecot.sh start"
  grep -q "^${user}:" "$STATE/users" || die "no user '$user'; add it first: scripts/dovecot.sh adduser $user"
  local n=0 f
  for f in "$@"; do
    [[ -f "$f" ]] || die "no such file: $f"
    doveadm -c "$CONF" save -u "$user" -m INBOX < "$f" || die "doveadm save failed for $f; read $STATE/log/dovecot.log"
    n=$((n + 1))
  done
  echo "delivered $n message(s) to $user INBOX"
}

count() {
  local user="${1:-$DEFAULT_USER}"
  running || die "dovecot is not running for $STATE; start it first: scripts/dovecot.sh start"
  doveadm -c "$CONF" -f flow mailbox status -u "$user" messages '*' | sed -e 's/^mailbox=//' -e 's/ messages=/ /'
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  crash) crash ;;
  restart) stop; start ;;
  status) status ;;
  adduser) [[ $# -ge 2 ]] || die "usage: $0 adduser USER [PASSWORD]"; add_user "$2" "${3:-$DEFAULT_PASSWORD}" ;;
  deliver) [[ $# -ge 3 ]] || die "usage: $0 deliver USER FILE..."; shift; deliver "$@" ;;
  count) count "${2:-}" ;;
  env)
    echo "export INVOICEBOT_IMAP_HOST=$HOST INVOICEBOT_IMAP_PORT=$PORT INVOICEBOT_IMAP_USER=$DEFAULT_USER"
    echo "export INVOICEBOT_IMAP_CAFILE=$STATE/tls/cert.pem" ;;
  *) echo "usage: $0 start|stop|crash|restart|status|adduser USER [PASS]|deliver USER FILE...|count [USER]|env" >&2; exit 2 ;;
esac
