"""Kill the real producer and consumer robots at seeded random points of their work, and check what is left.

A kill point is drawn as "after the N-th unit of progress, plus D milliseconds": progress is what the robot has
written to disk (lines of the attachment ledger for the producer, lines of the release journal and of the run
records for the consumer), so that each kill lands in the middle of real work and not during start-up.  The
whole process group gets SIGKILL, as in a machine crash.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from robot.api import logger

ROOT = Path(__file__).resolve().parents[3]


def _lines(*paths: Path) -> int:
    n = 0
    for p in paths:
        for f in p.parent.glob(p.name) if "*" in p.name else [p]:
            try:
                n += f.read_bytes().count(b"\n")
            except FileNotFoundError:
                pass
    return n


class KillLoop:
    """One generated inbox, its state and queue folders, and the robot runs over them."""

    def __init__(self, work: str, inbox: str, min_confidence: str = "0.55"):
        self.extra_env: dict[str, str] = {}
        self.extra_vars: list[str] = []
        self.work = Path(work)
        self.inbox = Path(inbox)
        # the robot's state folder is its own, not an output of the run: outside the suite's output folder
        self.state = ROOT / "var" / "test-state" / f"{self.work.name}-{abs(hash(str(self.work))) % 10**8}"
        shutil.rmtree(self.state, ignore_errors=True)
        self.queue = self.work / "work-items" / "producer" / "work-items.json"
        self.done = self.work / "work-items" / "consumer" / "work-items.json"
        self.min_confidence = min_confidence
        self.runs = 0
        self.kills: list[dict[str, Any]] = []

    def _command(self, task: str, out: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [sys.executable, "-m", "robot", "--outputdir", str(out), "--output", f"{task}.xml",
               "--log", f"{task}-log.html", "--report", "NONE", "--console", "none",
               "--variable", f"MAIL_FOLDER:{self.inbox}", "--variable", f"REPORT_DIR:{self.work / 'report'}",
               "--variable", f"REVIEW_DIR:{self.work / 'review'}",
               "--variable", f"ATTACHMENTS_DIR:{self.work / 'attachments'}",
               "--variable", f"WORK_DIR:{self.work / 'consumer-files'}",
               "--variable", f"MIN_CONFIDENCE:{self.min_confidence}"]
        for v in self.extra_vars:
            cmd += ["--variable", v]
        cmd.append(f"robot_tasks/{task}.robot")
        env = dict(os.environ, PYTHONPATH=str(ROOT / "keywords"), INVOICEBOT_STATE_DIR=str(self.state),
                   RPA_WORKITEMS_ADAPTER="InvoiceLibrary.fileadapter.DurableFileAdapter", OMP_THREAD_LIMIT="1",
                   INVOICEBOT_IMAP_HOST="", INVOICEBOT_MODEL_BACKEND="numpy")
        env.update(self.extra_env)
        if task == "producer":
            env["RPA_INPUT_WORKITEM_PATH"] = str(ROOT / "devdata" / "work-items-in" / "producer" / "work-items.json")
            env["RPA_OUTPUT_WORKITEM_PATH"] = str(self.queue)
        else:
            env["RPA_INPUT_WORKITEM_PATH"] = str(self.queue)
            env["RPA_OUTPUT_WORKITEM_PATH"] = str(self.done)
        return cmd, env

    def _progress(self, task: str) -> int:
        if task == "producer":
            return _lines(self.state / "attachment-ledger.jsonl")
        return _lines(Path(str(self.queue) + ".released.jsonl"), self.work / "report" / "*" / "records.jsonl")

    def run(self, task: str, kill_at: int | None = None, delay_ms: int = 0, timeout: float = 900) -> dict[str, Any]:
        """One run of ``task``; with ``kill_at``, SIGKILL its process group once progress reaches it (+ delay)."""
        self.runs += 1
        out = self.work / "runs" / f"{self.runs:02d}-{task}"
        cmd, env = self._command(task, out)
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)
        killed = False
        while proc.poll() is None and time.monotonic() - started < timeout:
            if kill_at is not None and self._progress(task) >= kill_at:
                time.sleep(delay_ms / 1000)
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    killed = True
                break
            time.sleep(0.01)
        try:
            rc = proc.wait(timeout=max(1.0, timeout - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            raise AssertionError(f"{task} run {self.runs} did not end within {timeout} s; see {out}") from None
        with_group_gone = _end_group(proc.pid)
        return {"task": task, "run": self.runs, "rc": rc, "killed": killed, "kill_at": kill_at, "delay_ms": delay_ms,
                "progress": self._progress(task), "seconds": round(time.monotonic() - started, 2), "out": str(out),
                "group_ended": with_group_gone}

    def use_mailbox(self, vault_file: str, cafile: str, secret: str = "invoice_mailbox") -> None:
        """Runs from now on read IMAP with the login from a FileSecrets vault, not the mail folder."""
        self.extra_env.update(RPA_SECRET_MANAGER="RPA.Robocorp.Vault.FileSecrets", RPA_SECRET_FILE=vault_file,
                              INVOICEBOT_IMAP_CAFILE=cafile)
        self.extra_vars.append(f"IMAP_SECRET:{secret}")

    def put_outputs_under(self, folder: str) -> None:
        """The queue, the attachments and the run report under ``folder`` (e.g. a small disk)."""
        base = Path(folder)
        self.queue = base / "work-items" / "producer" / "work-items.json"
        self.extra_vars += [f"ATTACHMENTS_DIR:{base / 'attachments'}", f"REPORT_DIR:{base / 'report'}"]

    def run_with_fault(self, task: str, at: int, *command: str, env: dict | None = None) -> dict[str, Any]:
        """Run ``task``; once its progress reaches ``at``, pause it, run ``command`` (stop a server ...), let it go
        on, and wait for its end."""
        self.runs += 1
        out = self.work / "runs" / f"{self.runs:02d}-{task}-fault"
        cmd, run_env = self._command(task, out)
        proc = subprocess.Popen(cmd, cwd=ROOT, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                                start_new_session=True)
        injected = None
        while proc.poll() is None:
            if injected is None and self._progress(task) >= int(at):
                # the robot is paused while the fault is made, so that it lands at this point of its work
                os.killpg(proc.pid, signal.SIGSTOP)
                try:
                    res = subprocess.run(list(command), cwd=ROOT, env=dict(os.environ, **(env or {})),
                                         capture_output=True, text=True, timeout=120)
                finally:
                    os.killpg(proc.pid, signal.SIGCONT)
                injected = self._progress(task)
                logger.info(f"fault at progress {injected}: {' '.join(command)} -> rc {res.returncode}")
            time.sleep(0.01)
        rc = proc.wait()
        _end_group(proc.pid)
        return {"task": task, "rc": rc, "fault_at": injected, "progress": self._progress(task), "out": str(out)}

    def run_consumer_on(self, queue: str) -> dict[str, Any]:
        """One consumer run to its end over the work-items file ``queue``; its console output in consumer.stdout.txt."""
        self.runs += 1
        out = self.work / "runs" / f"{self.runs:02d}-consumer-on-{Path(queue).parent.name}"
        out.mkdir(parents=True, exist_ok=True)
        cmd, env = self._command("consumer", out)
        env["RPA_INPUT_WORKITEM_PATH"] = str(queue)
        env["RPA_OUTPUT_WORKITEM_PATH"] = str(Path(queue).with_name("done.json"))
        with open(out / "consumer.stdout.txt", "w") as fh:
            rc = subprocess.run(cmd[:cmd.index("--console") ] + ["--console", "verbose"] + cmd[cmd.index("--console") + 2:],
                                cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, timeout=600).returncode
        return {"rc": rc, "out": str(out)}

    def kill_loop(self, task: str, kills: int, seed: int, span: int) -> list[dict[str, Any]]:
        """``kills`` runs of ``task``, each killed at a seeded random point within the next ``span`` units of
        progress; then one run to the end, which must succeed."""
        rnd = random.Random(f"{seed}-{task}")
        for _ in range(int(kills)):
            now = self._progress(task)
            r = self.run(task, kill_at=now + rnd.randint(1, int(span)), delay_ms=rnd.randint(0, 15))
            self.kills.append(r)
            what = "killed" if r["killed"] else f"ended (rc {r['rc']})"
            logger.info(f"{task} run {r['run']}: {what} at progress {r['progress']} (kill point {r['kill_at']} "
                        f"+ {r['delay_ms']} ms), {r['seconds']} s")
        final = self.run(task)
        logger.info(f"{task} final run {final['run']}: rc {final['rc']}, {final['seconds']} s")
        if final["rc"] != 0:
            raise AssertionError(f"the final {task} run failed (rc {final['rc']}); see {final['out']}/{task}-log.html")
        return self.kills

    def killed_runs(self, task: str) -> int:
        return sum(1 for k in self.kills if k["task"] == task and k["killed"])

    # ------------------------------------------------------------------------------------------- checks

    def every_mail_should_be_accounted_for(self, manifest: dict) -> None:
        """Every generated mail is in processed/ or review/, none left in the inbox, none deleted or doubled."""
        names = Counter(p.name for sub in ("processed", "review") for p in (self.inbox / sub).glob("*.eml"))
        expected = {m["file"] for m in manifest["mails"]}
        left = sorted(p.name for p in self.inbox.glob("*.eml"))
        problems = [f"{n}: still in the inbox" for n in left]
        problems += [f"{n}: missing (deleted?)" for n in sorted(expected - set(names) - set(left))]
        problems += [f"{n}: {c} copies" for n, c in names.items() if c > 1]
        if problems:
            raise AssertionError("mails not accounted for:\n" + "\n".join(problems))
        logger.info(f"{len(expected)} mails: {sum(names.values())} handled, none left, none deleted")

    def every_document_should_be_queued_once(self, manifest: dict) -> list[dict]:
        items = [i for i in json.loads(self.queue.read_text(encoding="utf-8")) if i.get("payload")]
        keys = Counter(i["payload"]["item_key"] for i in items)
        problems = [f"work item {k} queued {n} times" for k, n in keys.items() if n > 1]
        by_mail = Counter(i["payload"]["message_id"] for i in items)
        for m in manifest["mails"]:
            if by_mail.get(m["message_id"], 0) != len(m["documents"]):
                problems.append(f"{m['file']} ({m['kind']}): {len(m['documents'])} document(s), "
                                f"{by_mail.get(m['message_id'], 0)} work item(s)")
        if problems:
            raise AssertionError(f"{len(problems)} problem(s) in the queue:\n" + "\n".join(problems))
        return items

    def every_item_should_end_once(self, items: list[dict]) -> dict[str, int]:
        """Each queued item has exactly one final release in the journal, and one outcome in the run report;
        no done invoice is handed on twice."""
        journal = [json.loads(line) for line in Path(str(self.queue) + ".released.jsonl").read_text().splitlines()
                   if line.strip()]
        final = Counter(r["key"] for r in journal if r["state"] == "COMPLETED"
                        or str((r.get("exception") or {}).get("type", "")).upper() == "BUSINESS")
        keys = [i["payload"]["item_key"] for i in items]
        problems = [f"{k}: {final.get(k, 0)} final releases, expected 1" for k in keys if final.get(k, 0) != 1]
        records = []
        for f in (self.work / "report").glob("*/records.jsonl"):
            from invoicebot.report import RunReport

            records += [r for r in RunReport(f.parent).records() if r["kind"] == "attachment"]
        outcomes = Counter(r["item_id"] for r in records)
        problems += [f"{k}: {outcomes.get(k, 0)} outcomes in the report, expected 1" for k in keys
                     if outcomes.get(k, 0) != 1]
        if self.done.exists():
            handed = Counter(i["payload"]["item_key"] for i in json.loads(self.done.read_text()) if i.get("payload"))
            problems += [f"{k}: handed on {n} times" for k, n in handed.items() if n > 1]
        if problems:
            raise AssertionError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
        counts = Counter(r["decision"] for r in records)
        logger.info(f"{len(keys)} items, each released once: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
        return dict(counts)


def _end_group(pgid: int) -> bool:
    """Kill what is left of a killed run's process group (a child that outlived its parent)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return True
    return False
