#!/usr/bin/env bash
# The main job on its embedded defaults (what `make demo` runs):
#   1. start Tryton (SQLite database, sao web client on loopback), initialised once;
#   2. the producer reads the demo inbox (resources/demo_inbox, copied once to var/inbox) and queues
#      one work item per attachment;
#   3. the consumer classifies, extracts and validates each one, keys the invoices into Tryton through
#      headless Chromium and sends what it is unsure of to review;
#   4. prints the run's summary and where its report is.
# Running it again keys nothing twice: processed mail has moved to var/inbox/processed, the attachment
# ledger knows every file by its SHA-256, and the keying step asks Tryton for the supplier and reference.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export PYTHONPATH="$PWD/keywords" OMP_THREAD_LIMIT=1 SE_OFFLINE=true HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
export RPA_WORKITEMS_ADAPTER=InvoiceLibrary.fileadapter.DurableFileAdapter

bash scripts/tryton/start.sh

out=output/demo
mkdir -p "$out"
echo "demo: producer (mailbox -> work items)" >&2
RPA_INPUT_WORKITEM_PATH=devdata/work-items-in/producer/work-items.json \
RPA_OUTPUT_WORKITEM_PATH="$out/work-items/producer/work-items.json" \
  "$PY" -m robot --rpa --outputdir "$out" --output producer.xml --log producer-log.html --report NONE \
    --console dotted robot_tasks/producer.robot || true

echo "demo: consumer (classify, extract, validate, key into Tryton)" >&2
RPA_INPUT_WORKITEM_PATH="$out/work-items/producer/work-items.json" \
RPA_OUTPUT_WORKITEM_PATH="$out/work-items/consumer/work-items.json" \
  "$PY" -m robot --rpa --outputdir "$out" --output consumer.xml --log consumer-log.html --report NONE \
    --console dotted --variable ACCOUNTING_PROFILE:tryton --variable CREATE_SUPPLIERS:True \
    robot_tasks/consumer.robot || true

# The summary of the run this demo made (the newest report folder) and where its report is.
"$PY" - "$out/report" <<'PYEOF'
import json, sys
from pathlib import Path
runs = sorted(Path(sys.argv[1]).glob("*/summary.json"), key=lambda p: p.stat().st_mtime)
if not runs:
    sys.exit("demo: no run report was written; see output/demo/*-log.html")
s = json.loads(runs[-1].read_text())
print(f"\ninvoice robot run {runs[-1].parent.name}: {s['mails']} mails, {s['attachments']} attachments -> "
      f"{s.get('done', 0)} done (keyed), {s.get('review', 0)} to review, {s.get('failed', 0)} failed")
if s.get("codes"):
    print("reasons: " + ", ".join(f"{k} {v}" for k, v in s["codes"].items()))
print(f"report: {runs[-1].parent / 'report.html'} (and report.csv)")
PYEOF
