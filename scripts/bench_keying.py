"""Benchmark: seconds per invoice keyed into Tryton through sao in headless Chromium.

Starts Tryton (scripts/tryton/start.sh, idempotent), makes N seeded test invoices, and runs the
keying worker (scripts/tryton/keying_worker.robot) over them twice: once saving drafts and once
posting.  Prints the median (and p90, mean) of the seconds each invoice took from duplicate check
to read-back (and post), as measured by ``Key Invoice Into Accounting``, plus the wall time of each
run including browser start and login.  Prints numbers; asserts nothing about time.

    .venv/bin/python scripts/bench_keying.py --count 20
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts" / "tryton"))

from TrytonCheck import TrytonCheck  # noqa: E402


def run_worker(items: list[dict], post: bool, work: Path, name: str) -> tuple[list[dict], float]:
    checker = TrytonCheck()
    in_path = checker.write_work_items(items, str(work / f"{name}-items.json"))
    out_path = work / f"{name}-outputs.json"
    env = dict(os.environ, RPA_WORKITEMS_ADAPTER="FileAdapter", RPA_INPUT_WORKITEM_PATH=in_path,
               RPA_OUTPUT_WORKITEM_PATH=str(out_path), SE_OFFLINE="true",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "keywords"), os.environ.get("PYTHONPATH")])))
    cmd = [sys.executable, "-m", "robot", "--outputdir", str(work / name), "--loglevel", "INFO",
           "--console", "none", "-v", f"POST:{post}", str(ROOT / "scripts" / "tryton" / "keying_worker.robot")]
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    outputs = checker.read_work_item_outputs(str(out_path))
    if proc.returncode != 0 or len(outputs) != len(items):
        print(f"worker run {name!r} exited {proc.returncode} with {len(outputs)}/{len(items)} outcomes; "
              f"see {work / name}/log.html", file=sys.stderr)
    return outputs, wall


def summary(label: str, outputs: list[dict], wall: float, count: int) -> None:
    ok = [o for o in outputs if o.get("status") == "KEYED" and not o.get("differences")]
    secs = sorted(float(o["seconds"]) for o in ok)
    statuses: dict[str, int] = {}
    for o in outputs:
        statuses[o.get("status", "?")] = statuses.get(o.get("status", "?"), 0) + 1
    if not secs:
        print(f"{label}: no invoice keyed ({statuses})")
        return
    p90 = secs[min(len(secs) - 1, int(round(0.9 * (len(secs) - 1))))]
    print(f"{label}: median {statistics.median(secs):.2f} s/invoice (p90 {p90:.2f}, mean {statistics.mean(secs):.2f}, "
          f"min {secs[0]:.2f}, max {secs[-1]:.2f}) over {len(secs)}/{count} keyed and read back equal; "
          f"run wall {wall:.1f} s incl. browser start + login = {wall / count:.2f} s/invoice; outcomes {statuses}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20, help="invoices per run (default 20)")
    ap.add_argument("--lines", type=int, default=1, help="line items per invoice (default 1)")
    ap.add_argument("--only", choices=("draft", "posted"), help="run only one of the two runs")
    args = ap.parse_args()

    start = subprocess.run(["bash", str(ROOT / "scripts" / "tryton" / "start.sh")], check=False)
    if start.returncode != 0:
        print("bench: scripts/tryton/start.sh failed; see var/tryton/trytond.log", file=sys.stderr)
        return 1
    checker = TrytonCheck()
    work = Path(tempfile.mkdtemp(prefix="bench-keying-", dir=os.environ.get("TMPDIR")))
    print(f"bench: {args.count} invoices per run, {args.lines} line(s) each, {os.cpu_count()} cores; output {work}")
    runs = [("draft", False), ("posted", True)]
    for name, post in runs:
        if args.only and args.only != name:
            continue
        run_id = f"B{name[0].upper()}{uuid.uuid4().hex[:6].upper()}"
        items = checker.make_test_invoices(args.count, run_id, lines=args.lines)
        outputs, wall = run_worker(items, post, work, name)
        summary(f"{name:>6}", outputs, wall, args.count)
        with open(work / f"{name}-summary.json", "w", encoding="utf-8") as fh:
            json.dump({"outputs": outputs, "wall": wall}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
