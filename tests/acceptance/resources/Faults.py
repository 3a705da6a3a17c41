"""Fault injection for the acceptance suite faults.robot: the services and the disk fail under a running robot.

Each fault is injected at a point of real progress (an invoice saved in Tryton, a line in the attachment
ledger), not at a guessed time, and the robot is then run again over the same state and queue.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from robot.api import logger

ROOT = Path(__file__).resolve().parents[3]
WORKER = ROOT / "scripts" / "tryton" / "keying_worker.robot"
DURABLE = "InvoiceLibrary.fileadapter.DurableFileAdapter"


def write_keying_items(invoices: list[dict[str, Any]], path: str) -> str:
    """A local queue of invoices to key, each item with its ``item_key`` (the durable adapter journals by it)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    items = [{"payload": {"item_key": f"key-{inv['invoice_number']}", "invoice": inv}, "files": {}} for inv in invoices]
    target.write_text(json.dumps(items, indent=1), encoding="utf-8")
    return str(target)


def start_keying_worker(items: str, out: str) -> subprocess.Popen:
    """The real keying robot (scripts/tryton/keying_worker.robot) over ``items`` with the durable local queue."""
    Path(out).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, RPA_WORKITEMS_ADAPTER=DURABLE, RPA_INPUT_WORKITEM_PATH=items,
               RPA_OUTPUT_WORKITEM_PATH=str(Path(out) / "outputs.json"), SE_OFFLINE="true",
               PYTHONPATH=str(ROOT / "keywords"), INVOICEBOT_WORKITEM_ATTEMPTS="5")
    cmd = [sys.executable, "-m", "robot", "--outputdir", out, "--console", "dotted", "-v", "POST:True", str(WORKER)]
    log = open(Path(out) / "worker.log", "w")
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_worker(proc: subprocess.Popen, timeout: float = 900) -> int:
    try:
        return proc.wait(timeout=float(timeout))
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"the keying robot did not end within {timeout} s") from None


def wait_until(check, what: str, timeout: float = 300, proc: subprocess.Popen | None = None) -> None:
    """Poll ``check()`` until true; fail after ``timeout`` seconds or when ``proc`` ended first."""
    end = time.monotonic() + float(timeout)
    while time.monotonic() < end:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the robot ended (rc {proc.returncode}) before {what}")
        time.sleep(0.1)
    raise AssertionError(f"no {what} within {timeout} s")


def wait_until_done(items: str, count: int, proc: subprocess.Popen, timeout: float = 600) -> None:
    """Wait until ``count`` items of the queue ``items`` were released DONE (the invoices are in Tryton)."""
    wait_until(lambda: sum(r["state"] == "COMPLETED" for r in journal_of(items)) >= int(count),
               f"{count} item(s) done", timeout, proc)


def kill_browsers_under(path: str) -> list[int]:
    """SIGKILL the Chromium processes whose profile lies under ``path`` (the browser of one robot run)."""
    ended = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if "chrom" in cmdline and str(path) in cmdline:
            try:
                os.kill(int(proc.name), signal.SIGKILL)
                ended.append(int(proc.name))
            except ProcessLookupError:
                pass
    logger.info(f"killed {len(ended)} browser process(es) under {path}")
    return ended


def journal_of(items: str) -> list[dict[str, Any]]:
    path = Path(items + ".released.jsonl")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def every_item_should_be_done_once(items: str) -> dict[str, int]:
    """Each item of the queue released DONE exactly once in the journal (earlier attempts FAILED/APPLICATION)."""
    keys = [i["payload"]["item_key"] for i in json.loads(Path(items).read_text())]
    journal = journal_of(items)
    done = Counter(r["key"] for r in journal if r["state"] == "COMPLETED")
    failed = Counter(r["key"] for r in journal if r["state"] == "FAILED")
    problems = [f"{k}: released DONE {done.get(k, 0)} times" for k in keys if done.get(k, 0) != 1]
    problems += [f"{k}: failed as a business case ({r.get('exception')})" for r in journal for k in [r["key"]]
                 if str((r.get("exception") or {}).get("type", "")).upper() == "BUSINESS"]
    if problems:
        raise AssertionError("work items not done exactly once:\n" + "\n".join(problems))
    retried = sum(1 for k in keys if failed.get(k))
    logger.info(f"{len(keys)} items done once each; {retried} of them failed first (APPLICATION) and were retried")
    return {"items": len(keys), "retried": retried}


def tryton_should_hold_each_once(stored: list[dict[str, Any]], invoices: list[dict[str, Any]]) -> None:
    refs = Counter(s["reference"] for s in stored)
    problems = [f"{inv['invoice_number']}: {refs.get(inv['invoice_number'], 0)} times in Tryton"
                for inv in invoices if refs.get(inv["invoice_number"], 0) != 1]
    if len(stored) != len(invoices):
        problems.append(f"Tryton holds {len(stored)} invoices of this run, {len(invoices)} were queued")
    if problems:
        raise AssertionError("\n".join(problems))


def mount_small_disk(path: str, size_kb: int) -> str:
    """A tmpfs of ``size_kb`` KiB at ``path`` (a full disk on demand); needs root, as the project's CI has."""
    Path(path).mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={int(size_kb)}k", "tmpfs", path],
                         capture_output=True, text=True)
    if res.returncode != 0:
        raise AssertionError(f"cannot mount a small tmpfs at {path} to fill it ({res.stderr.strip()}); this fault "
                             "test needs root")
    return path


def grow_disk(path: str, size_kb: int) -> None:
    subprocess.run(["mount", "-o", f"remount,size={int(size_kb)}k", path], check=True)


def unmount_disk(path: str) -> None:
    subprocess.run(["umount", "-l", path], check=False)


def copy_off_disk(src: str, dest: str) -> None:
    """Keep what was on the small disk for the log (it goes when the tmpfs is unmounted)."""
    import shutil

    shutil.copytree(src, dest, dirs_exist_ok=True)


def keying_kill_loop(items: str, folder: str, kills: int, seed: int) -> list[dict[str, Any]]:
    """Run the keying robot over ``items`` ``kills`` times, each run SIGKILLed (with its browser) at a seeded random
    moment after its next invoice was done (0 to 4 s later: in the middle of the next form, of its save, of its
    read-back or of its release), then once to the end. Returns what each run did."""
    rnd = random.Random(int(seed))
    runs = []
    for n in range(1, int(kills) + 1):
        out = str(Path(folder) / f"run{n:02d}")
        before = sum(r["state"] == "COMPLETED" for r in journal_of(items))
        proc = start_keying_worker(items, out)
        try:
            wait_until(lambda b=before: sum(r["state"] == "COMPLETED" for r in journal_of(items)) > b,
                       "the next invoice done", 600, proc)
        except AssertionError:
            if proc.poll() is None:
                raise
            runs.append({"run": n, "killed": False, "rc": proc.returncode})
            break  # nothing left to key
        delay = rnd.uniform(0, 4)
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        kill_browsers_under(out)
        done = sum(r["state"] == "COMPLETED" for r in journal_of(items))
        runs.append({"run": n, "killed": killed, "delay_s": round(delay, 2), "done": done})
        logger.info(f"keying run {n}: {'killed' if killed else 'ended'} {delay:.2f} s after an invoice; {done} done")
    final = start_keying_worker(items, str(Path(folder) / "final"))
    rc = wait_for_worker(final)
    if rc != 0:
        raise AssertionError(f"the final keying run failed (rc {rc}); see {folder}/final/log.html")
    return runs
