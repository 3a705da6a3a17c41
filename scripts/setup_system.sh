#!/usr/bin/env bash
# Installs the Debian packages the robot needs, only those missing (idempotent, quiet when all are there).
set -euo pipefail
packages=(
  tesseract-ocr tesseract-ocr-eng tesseract-ocr-osd tesseract-ocr-deu tesseract-ocr-fra tesseract-ocr-nld
  tesseract-ocr-spa tesseract-ocr-ita tesseract-ocr-pol
  chromium chromium-driver dovecot-imapd poppler-utils fonts-dejavu-core fonts-liberation
  postgresql  # the work-item queue shared by many consumers (scripts/postgres.sh)
)
# sao (Tryton's web client) comes from npm: use the machine's Node.js when it has one, else Debian's.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or install them: apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
