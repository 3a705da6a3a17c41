#!/usr/bin/env bash
# Build the keyword documentation of InvoiceLibrary: docs/InvoiceLibrary.html.
# The file is rewritten only when the documentation changed (libdoc stamps every build with
# its time; a rebuild with the same keywords leaves the checked-in file alone).
# Usage: scripts/libdoc.sh [python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
export PYTHONPATH="$PWD/keywords${PYTHONPATH:+:$PYTHONPATH}"
out=docs/InvoiceLibrary.html
mkdir -p docs
tmp="$(mktemp --suffix=.html)"
trap 'rm -f "$tmp"' EXIT
"$PY" -m robot.libdoc --name InvoiceLibrary InvoiceLibrary "$tmp" >/dev/null
strip() { sed -E 's/"generated": *"[^"]*"//g' "$1"; }
if [[ -f "$out" ]] && cmp -s <(strip "$tmp") <(strip "$out"); then
  echo "$out (unchanged)"
else
  cp "$tmp" "$out"
  echo "$out"
fi
