"""Run each fuzz input in a child process forked from a parent that has the engine loaded.

The child sets its own address-space limit (RLIMIT_AS), starts its own process group (so that a hanging
Tesseract dies with it), reads the input the way production does and writes one result JSON.  The parent
kills a child that passes the time limit (a hang), reads each child's peak RSS from ``os.wait4`` and
writes the result of a child that died without one (a crash).
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import resource
import shutil
import signal
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import messages

#: Result codes the harness itself gives (beside the engine's and the intake's error codes).
OK, TRACEBACK, HANG, CRASH, UNSAFE, UNEXPECTED = "OK", "TRACEBACK", "HANG", "CRASH", "UNSAFE", "UNEXPECTED"
#: Codes that fail the run.  INTERNAL is the engine's "unexpected error, please report it": a traceback.
FAILURES = {TRACEBACK, HANG, CRASH, UNSAFE, UNEXPECTED, "INTERNAL", "WORKER_CRASHED"}
MEMORY_FAIL_MB = 2048


@dataclass
class FuzzInput:
    id: str
    family: str
    kind: str
    name: str  # the file name the robot sees (its extension may lie)
    data: bytes = field(repr=False)

    @property
    def route(self) -> str:
        return {"pdf": "document", "image": "document", "zip": "zip", "mail": "mail", "xml": "xml"}[self.family]


@dataclass
class Limits:
    memory_mb: int
    timeout_s: float
    ocr: str = "stub"  # "stub": Tesseract is not run (the page image is still decoded and written); "real"


def env_limits() -> tuple[int, float]:
    """INVOICEBOT_MAX_MEMORY_MB (default 1536: memory one document may take on top of the loaded engine) and
    INVOICEBOT_DOC_TIMEOUT_S (default 120), through ``config.IsolationSettings`` when it is there."""
    from invoicebot import config

    isolation = getattr(config, "IsolationSettings", None)
    if isolation is not None:
        s = isolation.from_env()
        return int(s.max_memory_mb), float(s.doc_timeout_s)
    return int(os.environ.get("INVOICEBOT_MAX_MEMORY_MB") or 1536), float(os.environ.get("INVOICEBOT_DOC_TIMEOUT_S") or 120)


def address_space_bytes() -> int:
    """This process's virtual size (what a forked child starts with), from /proc; 0 where there is none."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --------------------------------------------------------------------------------------------- child


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.records) < 20:
            self.records.append(f"{record.levelname} {record.name}: {record.getMessage()[:300]}")


def stub_ocr() -> None:
    """Replace the Tesseract call by one that reads nothing: the page is still rendered or decoded, turned gray
    and written for Tesseract (what costs memory), but no OCR time is spent."""
    from invoicebot.readers import ocr

    def no_words(image_path: str, lang: str, dpi: int) -> dict[str, list]:
        os.stat(image_path)  # the page image was written
        return {k: [] for k in ("level", "text", "conf", "left", "top", "width", "height", "block_num", "par_num",
                                "line_num")}

    ocr._data = no_words
    ocr.resolve_languages = lambda requested: requested


_OPENED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "open" and args and isinstance(args[0], str | bytes):
        path = os.fsdecode(args[0])
        if path.startswith("/etc/passwd") or path == messages.CANARY_PATH:
            _OPENED.append(path)


def _safe_inside(root: Path, paths: list[str]) -> list[str]:
    root = root.resolve()
    return [p for p in paths if p and not Path(p).resolve().is_relative_to(root)]


def _files_outside(work: Path, allowed: Path) -> list[str]:
    """Files in the input's work folder that are neither the input, its logs nor under ``allowed``."""
    out = []
    for p in work.rglob("*"):
        if p.is_file() and not p.resolve().is_relative_to(allowed.resolve()) and p.name not in (
                "stderr.txt", "ledger.json", "ledger.json.lock") and p.parent != work:
            out.append(str(p))
    return out


def run_document(engine, path: Path) -> dict[str, Any]:
    res = engine.process(path)
    out: dict[str, Any] = {"code": res.error["code"] if res.error else OK, "pages": res.pages,
                           "document_type": res.document_type}
    if res.error:
        out["message"] = res.error["message"][:500]
    return out


def run_mail(engine, raw: bytes, work: Path, ref: str) -> dict[str, Any]:
    from invoicebot.mail import AttachmentLedger, MailError, parse_message, save_attachments

    folder = work / "attachments"
    try:
        msg = parse_message(raw, ref=ref)
        saved = save_attachments(msg, folder, AttachmentLedger(work / "ledger.json"))
    except MailError as exc:
        return {"code": exc.code, "message": str(exc)[:500]}
    taken = [s for s in saved if s.status == "saved"]
    # PROBLEMS: the intake sends the mail to a person with its reasons (too large, too deep, cannot be parsed);
    # REJECTED: the mail was handled, but no document in it was taken (every part skipped, with its reason)
    problems = list(getattr(msg, "problems", []))
    code = "PROBLEMS" if problems else OK if taken else "REJECTED"
    out: dict[str, Any] = {"code": code, "problems": [p[:300] for p in problems[:5]],
                           "attachments": len(msg.attachments), "saved": len(taken),
                           "skipped": sorted({s.reason.split(":")[0][:60] for s in saved if s.status != "saved"})[:10]}
    escaped = _safe_inside(folder, [s.path for s in taken]) + _files_outside(work, folder)
    if escaped:
        out.update(code=UNSAFE, message=f"attachments written outside {folder}: {escaped[:5]}")
        return out
    codes = []
    for s in taken[:3]:  # the consumer's side: the engine reads what the intake saved
        codes.append(run_document(engine, Path(s.path))["code"])
    out["documents"] = codes
    if any(c in FAILURES for c in codes):
        out.update(code=next(c for c in codes if c in FAILURES), message="an attachment failed in the engine")
    return out


def run_zip(engine, inp: FuzzInput, work: Path) -> dict[str, Any]:
    import random

    from .messages import attachment, mail_with, multipart, text_part

    raw = mail_with(multipart([text_part(), attachment(inp.data, ctype=b"application/zip",
                                                       disposition=b'attachment; filename="%s"' % inp.name.encode())]),
                    random.Random(inp.id))
    out = run_mail(engine, raw, work, inp.id)
    path = work / inp.name
    out["as_document"] = run_document(engine, path)["code"]  # a zip passed straight to the engine
    if out["as_document"] in FAILURES and out["code"] not in FAILURES:
        out["code"] = out["as_document"]
    return out


def run_xml(engine, inp: FuzzInput, work: Path) -> dict[str, Any]:
    import random

    from .messages import attachment, mail_with, multipart, text_part

    out = run_document(engine, work / inp.name)
    if out["code"] != "UNSUPPORTED_TYPE":
        out.update(code=UNEXPECTED, message=f"an XML file gave {out['code']}, not UNSUPPORTED_TYPE: "
                   f"{out.get('message', '')}")
        return out
    raw = mail_with(multipart([text_part(), attachment(inp.data, ctype=b"application/xml",
                                                       disposition=b'attachment; filename="invoice.xml"')]),
                    random.Random(inp.id))
    out["in_mail"] = run_mail(engine, raw, work, inp.id)["code"]
    return out


def _leaks(result: dict[str, Any], secrets: list[str]) -> list[str]:
    text = json.dumps(result, ensure_ascii=False)
    return [s for s in secrets if s and s in text]


def child_main(inp: FuzzInput, work: Path, result_path: Path, engine, limits: Limits, secrets: list[str]) -> None:
    """Runs in the forked child; never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        if limits.memory_mb > 0:  # on top of what the child inherits (the loaded engine), as in production
            cap = address_space_bytes() + limits.memory_mb * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        fd = os.open(work / "stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        # Python's streams too (under pytest they are capture objects without a file descriptor)
        sys.stdout = sys.stderr = os.fdopen(fd, "w", buffering=1, encoding="utf-8", errors="replace")
        faulthandler.enable(sys.stderr)
        capture = _Capture()
        root = logging.getLogger()
        root.handlers[:] = [capture]
        root.setLevel(logging.WARNING)
        if limits.ocr == "stub":
            stub_ocr()
        if inp.family == "xml":
            sys.addaudithook(_audit)
        started = time.perf_counter()
        try:
            if inp.route == "document":
                result = run_document(engine, work / inp.name)
            elif inp.route == "mail":
                result = run_mail(engine, inp.data, work, inp.id)
            elif inp.route == "zip":
                result = run_zip(engine, inp, work)
            else:
                result = run_xml(engine, inp, work)
        except BaseException as exc:  # what the fuzzer is here to find
            result = {"code": TRACEBACK, "message": f"{type(exc).__name__}: {str(exc)[:500]}",
                      "traceback": traceback.format_exc()[-6000:]}
        result["seconds"] = round(time.perf_counter() - started, 4)
        if capture.records:
            result["log"] = capture.records
        leaked = _leaks(result, secrets) + _OPENED
        if leaked and result["code"] not in FAILURES:
            result.update(code=UNSAFE, message=f"a file outside the input was read: {leaked[:3]}")
        tmp = result_path.with_suffix(".part")
        tmp.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, result_path)
    except BaseException:  # the result cannot be written: the parent reports a crash with stderr
        traceback.print_exc()
        code = 70
    os._exit(code)


# -------------------------------------------------------------------------------------------- parent


@dataclass
class Running:
    inp: FuzzInput
    work: Path
    result_path: Path
    started: float
    killed: bool = False


def secrets_to_watch() -> list[str]:
    """Text that must never reach a result: /etc/passwd's first line and the canary's content."""
    out = [messages.CANARY_TEXT]
    try:
        first = Path("/etc/passwd").read_text(encoding="utf-8", errors="replace").splitlines()[0]
        out.append(first)
    except (OSError, IndexError):
        pass
    canary = Path(messages.CANARY_PATH)
    if not canary.exists():
        try:
            canary.write_text(messages.CANARY_TEXT + "\n", encoding="utf-8")
        except OSError:
            pass
    return out


def kill(pid: int) -> None:
    """SIGKILL a child and its process group (a Tesseract it started)."""
    for send in (os.killpg, os.kill):
        try:
            send(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


class Runner:
    """Forks one child per input, at most ``jobs`` at a time; ``on_done(inp, result)`` gets each result."""

    def __init__(self, engine, limits: Limits, jobs: int, scratch: Path, on_done):
        self.engine, self.limits, self.jobs, self.scratch, self.on_done = engine, limits, jobs, scratch, on_done
        self.running: dict[int, Running] = {}
        self.secrets = secrets_to_watch()

    def submit(self, inp: FuzzInput) -> None:
        while len(self.running) >= self.jobs:
            self._reap()
        work = self.scratch / inp.id
        work.mkdir(parents=True)
        (work / inp.name).write_bytes(inp.data)
        result_path = work / "result.json"
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            child_main(inp, work, result_path, self.engine, self.limits, self.secrets)
        self.running[pid] = Running(inp, work, result_path, time.monotonic())

    def drain(self) -> None:
        while self.running:
            self._reap()

    def _reap(self) -> None:
        while True:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
            if pid:
                run = self.running.pop(pid, None)
                if run is not None:
                    self._finish(run, status, usage)
                return
            now = time.monotonic()
            for cpid, run in self.running.items():
                if not run.killed and now - run.started > self.limits.timeout_s:
                    run.killed = True
                    kill(cpid)
            time.sleep(0.002)

    def _finish(self, run: Running, status: int, usage) -> None:
        peak_mb = round(usage.ru_maxrss / 1024, 1)  # KiB on Linux
        seconds = round(time.monotonic() - run.started, 3)
        result: dict[str, Any]
        if run.killed:
            result = {"code": HANG, "message": f"killed after {self.limits.timeout_s:g} s"}
        elif run.result_path.exists():
            result = json.loads(run.result_path.read_text(encoding="utf-8"))
        else:
            how = (f"signal {signal.Signals(os.WTERMSIG(status)).name}" if os.WIFSIGNALED(status)
                   else f"exit status {os.WEXITSTATUS(status)}")
            stderr = (run.work / "stderr.txt").read_text(encoding="utf-8", errors="replace")[-4000:]
            result = {"code": CRASH, "message": f"the child died ({how}) without a result", "stderr": stderr}
        if os.WIFSIGNALED(status) and not run.killed and result["code"] not in FAILURES:
            result.update(code=CRASH, message=f"the child was killed by signal {os.WTERMSIG(status)}")
        result.update(id=run.inp.id, family=run.inp.family, kind=run.inp.kind, name=run.inp.name,
                      bytes=len(run.inp.data), peak_rss_mb=peak_mb, wall_s=seconds)
        if peak_mb > MEMORY_FAIL_MB:
            result["over_memory"] = True
        self.on_done(run.inp, result, run.work)
        shutil.rmtree(run.work, ignore_errors=True)
