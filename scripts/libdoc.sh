#!/usr/bin/env bash
# Build the keyword documentation of InvoiceLibrary: docs/InvoiceLibrary.html (and a JSON spec for tooling).
# Usage: scripts/libdoc.sh [python]   (default: .venv/bin/python)
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-.venv/bin/python}"
export PYTHONPATH="$PWD/keywords${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p docs
"$PY" -m robot.libdoc --name InvoiceLibrary InvoiceLibrary docs/InvoiceLibrary.html
echo "docs/InvoiceLibrary.html"
