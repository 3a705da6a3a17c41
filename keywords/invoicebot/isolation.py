"""The engine in a child process with a memory limit and a time limit per document.

A hostile or broken document can need gigabytes (a compression bomb), hang a C library, or make one abort.
Read in the process of a batch or of a robot, it takes that process down with it.  ``IsolatedEngine`` runs an
``Engine`` in one persistent child process instead (the model and vocabulary loaded once, at its start, then a
warm-up on a few words):

* memory: the parent watches the child's resident memory (``/proc/<pid>/status``, every ``POLL_S``) and stops
  it when one document has added more than ``IsolationSettings.max_memory_mb`` (``INVOICEBOT_MAX_MEMORY_MB``,
  default 1536) to what it had when the document came: ``MEMORY_LIMIT``.  Behind that watch the child limits its
  own address space (``RLIMIT_AS``) to its size after the warm-up plus ``backstop_bytes``, so an allocation too
  fast for the watch fails there: a ``MemoryError`` is ``MEMORY_LIMIT`` too, a C library that aborts on it is
  ``MEMORY_LIMIT`` where the child was near the limit, else ``WORKER_CRASHED``;
* time: the parent waits at most ``IsolationSettings.doc_timeout_s`` (``INVOICEBOT_DOC_TIMEOUT_S``, default 120)
  for each step, then kills the child and its OCR processes (``TIMEOUT``);
* a child that dies (a crash in a reader library, the system's out-of-memory killer) costs its document a
  ``WORKER_CRASHED`` result, never the caller.

A child that was stopped, died or hit the memory limit is started again for the next document.  The child's log
records come back with each answer and are logged by the caller.  It is forked (it shares the engine built in the
caller), or spawned where torch runs threads in the caller (``engine_context``).  ``EnginePool`` (``pipeline.py``)
runs several of these for a batch.  The child records its peak memory for each step (``VmHWM``, reset before each
step): ``IsolatedEngine.last_peak_mb``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import resource
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from .config import IsolationSettings, ReaderSettings
from .errors import ConfigError, DocumentError, InvoiceBotError
from .schema import Document, ExtractionResult

log = logging.getLogger(__name__)

#: How long a child may take to load the engine (and handle a warm-up document).
START_TIMEOUT_S = 600.0
#: How often the parent looks at a busy child (its memory, whether it still lives).
POLL_S = 0.02
#: The address space of the child may grow by twice the budget of one document and this many MB more: a hard
#: stop behind the watch on its resident memory, which a sudden allocation could outrun.  Address space is not
#: memory: torch reserves some for its threads and kernels that it never fills (a 300 MB budget with only 1.5
#: times it on top refused ordinary documents to the model).
BACKSTOP_EXTRA_MB = 512


def backstop_bytes(budget_mb: int) -> int:
    """How much the child's address space may grow over its size at rest (``RLIMIT_AS``)."""
    return (2 * budget_mb + BACKSTOP_EXTRA_MB) * 1024 * 1024


class DocumentLimitError(DocumentError):
    """One document broke a limit of the child process that handled it; the caller goes on."""


class MemoryLimitExceeded(DocumentLimitError):
    code = "MEMORY_LIMIT"


class DocumentTimeout(DocumentLimitError):
    code = "TIMEOUT"


class WorkerCrashed(DocumentLimitError):
    code = "WORKER_CRASHED"


class EngineInternalError(InvoiceBotError):
    """An unexpected exception inside the engine (a bug): said with its type, for a report."""

    code = "INTERNAL"


#: The budget of one document in the child process (MB), set there once the limit is in force.
_active_budget_mb: int | None = None


def memory_limit_error(path: str | os.PathLike[str], budget_mb: int | None = None) -> MemoryLimitExceeded:
    """The error for a document that needed more memory than the child's limit allows."""
    budget_mb = budget_mb or _active_budget_mb
    if budget_mb:
        where = f"more than the limit of {budget_mb} MB for one document (INVOICEBOT_MAX_MEMORY_MB)"
    else:
        where = "more memory than this machine could give"
    return MemoryLimitExceeded(
        f"{path} needs {where} to be read, probably a compression bomb or a huge image inside it; it was stopped "
        "and the rest went on; ask the sender for an ordinary copy, or raise INVOICEBOT_MAX_MEMORY_MB if it is "
        "a genuine large document", path=str(path))


def timeout_error(path: str, seconds: float) -> DocumentTimeout:
    return DocumentTimeout(
        f"{path} took longer than the limit of {seconds:g} s for one document (INVOICEBOT_DOC_TIMEOUT_S) and was "
        "stopped; the rest went on; a person must look at the file, or raise INVOICEBOT_DOC_TIMEOUT_S if the "
        "machine is only slow", path=path)


def crash_error(path: str, how: str, budget_mb: int | None = None) -> WorkerCrashed:
    short = f", or one that found no memory within the limit of {budget_mb} MB (INVOICEBOT_MAX_MEMORY_MB)" \
        if budget_mb and "SIGABRT" in how else ""
    return WorkerCrashed(
        f"the process reading {path} died ({how}), probably a crash inside a reader library{short}; the rest "
        f"went on; a person must look at the file; `invoicebot read {path}` shows the crash in full: report it "
        "with the document", path=path)


def process_context():
    """The multiprocessing context for the engine's processes: fork where the system has it (the children share
    the loaded modules and the engine built in the parent), else spawn."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


def _fork_is_unsafe() -> bool:
    """Whether this process runs torch's thread pool (a robot that trained the model): a forked child that uses
    torch then waits forever on a lock of a thread that fork did not copy (measured: a matrix product hangs)."""
    if "torch" not in sys.modules:
        return False
    threads = proc_status_kb().get("Threads")
    return threads is None or threads > 1


@dataclass(frozen=True)
class EngineRecipe:
    """What builds an ``Engine`` in a fresh (spawned) process: an Engine itself does not travel by pickle (its
    vocabulary's label tries come back different, and the fields with them)."""

    extractor: str = "auto"
    settings: ReaderSettings | None = None
    model_dir: str | None = None
    vocabulary_dir: str | None = None

    @staticmethod
    def builds(engine: Any) -> bool:
        """Whether a recipe makes an engine of this kind (the pipeline's own, not a stand-in of a test)."""
        kind = type(engine)
        return kind.__module__ == "invoicebot.pipeline" and kind.__qualname__ == "Engine"

    def __call__(self):
        from .pipeline import Engine
        from .vocabulary import load_vocabulary

        vocabulary = load_vocabulary(self.vocabulary_dir) if self.vocabulary_dir else None
        return Engine(self.extractor, settings=self.settings, model_dir=self.model_dir, vocabulary=vocabulary)


def engine_context(recipe: EngineRecipe | None = None):
    """Fork (``process_context``), except where that is unsafe and a recipe can build the engine in a fresh
    process instead: then spawn."""
    context = process_context()
    if context.get_start_method() != "fork" or not _fork_is_unsafe():
        return context
    if recipe is None:
        log.warning("torch runs threads in this process and nothing says how to build the engine in a fresh one: "
                    "its process is forked anyway; the model may hang in it")
        return context
    log.info("torch runs threads in this process: the engine's process is spawned afresh rather than forked")
    return multiprocessing.get_context("spawn")


# --- memory of a process, from /proc (Linux) ------------------------------------------------------------------

def proc_status_kb(pid: int | str = "self") -> dict[str, int]:
    """``VmSize``, ``VmRSS``, ``VmHWM`` ... of a process in kB, and its ``Threads``; empty where /proc is missing
    or the process gone."""
    out: dict[str, int] = {}
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                key, _, rest = line.partition(":")
                if key.startswith("Vm") and rest.strip().endswith("kB") or key == "Threads":
                    out[key] = int(rest.split()[0])
    except (OSError, ValueError):
        return {}
    return out


def _reset_peak() -> None:
    """Start this process's peak RSS (VmHWM) again from its current RSS."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")
    except OSError:
        pass


def _peak_mb() -> float | None:
    hwm = proc_status_kb().get("VmHWM")
    return round(hwm / 1024, 1) if hwm else None


def _limit_arenas() -> None:
    """At most four malloc arenas (glibc): each thread's arena reserves 64 MB of address space, which would count
    against RLIMIT_AS though never used."""
    try:
        import ctypes

        ctypes.CDLL(None).mallopt(-8, 4)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


def _die_with_parent() -> None:
    """Ask Linux to kill this process when its parent dies (a parent killed by SIGKILL closes no pipe to a child
    that is busy, or stuck)."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _set_memory_limit(budget_mb: int) -> int | None:
    """Limit this process's address space to its size now plus ``backstop_bytes(budget_mb)``: the limit in
    bytes, or None where there is none (no budget, or no /proc to measure the size)."""
    global _active_budget_mb
    if budget_mb <= 0:
        return None
    _active_budget_mb = budget_mb
    size_kb = proc_status_kb().get("VmSize")
    if size_kb is None:
        log.warning("no /proc/self/status here: the memory limit of INVOICEBOT_MAX_MEMORY_MB is not enforced")
        return None
    limit = size_kb * 1024 + backstop_bytes(budget_mb)
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    return limit


# --- the child -------------------------------------------------------------------------------------------------

class _Restart(Exception):  # noqa: N818 - not an error: an answer after which the child ends
    def __init__(self, value: Any):
        self.value = value


class _KeptRecords(logging.Handler):
    """The child's log records of one step, sent back with its answer: the parent logs them with its own handlers
    (the robot's log, the command's stderr) as if the engine had run there."""

    def __init__(self, level: int):
        super().__init__(level)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg, record.args, record.exc_info = record.getMessage(), None, None  # plain text: it pickles
        self.records.append(record)

    def take(self) -> list[logging.LogRecord]:
        out, self.records = self.records, []
        return out


def _keep_records() -> _KeptRecords:
    root = logging.getLogger()
    kept = _KeptRecords(root.level)
    for handler in list(root.handlers):  # inherited from the parent: they would write twice, or nowhere
        root.removeHandler(handler)
    root.addHandler(kept)
    return kept


def _replay(records: list[logging.LogRecord] | None) -> None:
    for record in records or ():
        logger = logging.getLogger(record.name)
        if logger.isEnabledFor(record.levelno):
            logger.handle(record)


def _run(engine, op: str, arg: Any, fresh_cache: bool) -> Any:
    if fresh_cache and getattr(engine, "model", None) is not None:
        engine.model.clear_cache()
    if op == "process":
        result = engine.process(arg)
        if result.error and result.error.get("code") == MemoryLimitExceeded.code:
            raise _Restart(result)  # said as a result; the process starts afresh for the next document
        return result
    if op == "read":
        return engine.read(arg)
    if op == "classify":
        return engine.classify(arg)
    if op == "extract":
        return engine.extract(arg)
    raise ValueError(f"unknown operation {op!r}")


def _warm_up(engine) -> None:
    """One extraction from a few words made here, so that what the first document would load (lazy imports, the
    model's threads and their memory arenas) is loaded before the memory limit is measured."""
    from .schema import Page, Word

    lines = ("Northwind Office Supplies Ltd", "Invoice number: 4711", "Invoice date: 2024-05-01",
             "Due date: 2024-05-31", "Subtotal 83.19 EUR", "VAT 19% 15.81 EUR", "Total due: 99.00 EUR")
    words = [Word(text, (72 + 60 * i, 72 + 16 * n, 126 + 60 * i, 84 + 16 * n), 1, source="ocr", line=n)
             for n, line in enumerate(lines) for i, text in enumerate(line.split())]
    try:
        engine.extract(Document(path="warm-up", media_type="image/png", pages=[Page(1, 595, 842, "ocr", words)]))
    except Exception as exc:  # noqa: BLE001 - a warm-up only: the first document will say what is wrong
        log.debug("the engine's warm-up failed: %s", exc)


def _portable(exc: InvoiceBotError) -> Any:
    """The exception itself where it survives pickling, else what rebuilds it (code, message, path)."""
    try:
        back = pickle.loads(pickle.dumps(exc))
        if type(back) is type(exc) and str(back) == str(exc):
            back.path = getattr(exc, "path", None)
            return back
    except Exception:  # noqa: BLE001 - any failure to pickle falls back to the plain form
        pass
    return ("plain", exc.code, str(exc), getattr(exc, "path", None))


def _child(conn: Connection, engine, budget_mb: int, warm: str | None, fresh_cache: bool) -> None:
    """The child's life: load and warm the engine, set the memory limit, then answer requests until told to stop
    or until a document hit the limit (its memory may be fragmented: a fresh process serves the next one)."""
    try:
        os.setpgrp()  # its own process group: a kill takes the OCR processes it started too
    except OSError:
        pass
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent, which stops this child
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the handler of the parent (Robot's waits for a second one)
    _limit_arenas()
    kept = _keep_records()
    try:
        if callable(engine) and not hasattr(engine, "process"):
            engine = engine()
        _ = engine.model if hasattr(engine, "model") else None  # the model loaded before the limit counts
        if warm is not None:
            engine.process(warm)
        elif hasattr(engine, "extract"):
            _warm_up(engine)
        baseline = proc_status_kb()
        limit = _set_memory_limit(budget_mb)
    except BaseException as exc:  # said to the parent, which raises it
        err = _portable(exc) if isinstance(exc, InvoiceBotError) else f"{type(exc).__name__}: {exc}"
        conn.send(("failed", err, kept.take()))
        return
    conn.send(("ready", {"baseline_rss_mb": round(baseline.get("VmRSS", 0) / 1024, 1), "limit_bytes": limit},
               kept.take()))
    while True:
        try:
            op, arg = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if op == "stop":
            return
        _reset_peak()
        restart = False
        try:
            reply: tuple = ("ok", _run(engine, op, arg, fresh_cache))
        except _Restart as answer:
            reply, restart = ("ok", answer.value), True
        except MemoryError:
            reply, restart = ("raise", memory_limit_error(arg.path if isinstance(arg, Document) else arg)), True
        except InvoiceBotError as exc:
            reply = ("raise", _portable(exc))
        except Exception as exc:  # a bug: said with its type
            where = arg.path if isinstance(arg, Document) else arg
            reply = ("raise", EngineInternalError(
                f"unexpected {type(exc).__name__} while processing {where}: {exc}; please report it with the "
                "document", path=str(where)))
        records = kept.take()
        try:
            conn.send((*reply, _peak_mb(), records))
        except MemoryError:
            conn.send(("raise", memory_limit_error(str(arg)), None, None))
            restart = True
        except (BrokenPipeError, OSError):
            return
        except Exception as exc:  # noqa: BLE001 - an answer that does not pickle
            conn.send(("raise", EngineInternalError(f"the engine's answer for {arg} could not be sent back "
                                                    f"({type(exc).__name__}: {exc}); please report it"), None, None))
        if restart:
            return


# --- the parent ------------------------------------------------------------------------------------------------

class IsolatedEngine:
    """``Engine``'s ``read`` / ``classify`` / ``extract`` / ``process`` run in one persistent child process under
    the limits of ``IsolationSettings`` (default: from the environment).

    ``engine``: an ``Engine`` built here (it reaches the child by fork; the model is loaded in the child).
    ``recipe``: what builds the same engine in a spawned child, where forking is unsafe (``engine_context``).
    ``warm``: a document the child handles before it counts as started.  ``fresh_cache``: forget the model's
    encoded strings before each step (benchmarks).

    ``process`` never raises for a document (limits end in the result's ``error``); the other three raise an
    ``InvoiceBotError``: the engine's own, or ``MemoryLimitExceeded`` / ``DocumentTimeout`` / ``WorkerCrashed``.
    A child that failed, was killed or hit the memory limit is started again on the next call."""

    def __init__(self, engine: Any, limits: IsolationSettings | None = None, *, warm: str | Path | None = None,
                 fresh_cache: bool = False, mp_context=None, recipe: EngineRecipe | None = None):
        self.engine = engine
        self.recipe = recipe
        self.limits = limits or IsolationSettings.from_env()
        self.warm = str(warm) if warm else None
        self.fresh_cache = fresh_cache
        self._mp = mp_context or engine_context(recipe)
        self._proc = None
        self._conn: Connection | None = None
        self._busy: tuple[str, Any, float] | None = None  # (op, what, started)
        self._last_seen: dict[str, int] = {}
        self._rss_before_kb: int | None = None
        self.limit_bytes: int | None = None
        self.baseline_rss_mb: float | None = None
        self.last_peak_mb: float | None = None
        self.starts = 0

    @property
    def extractor(self) -> str:
        return getattr(self.engine, "extractor", "auto")

    # -- life of the child
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.is_alive()

    def start(self) -> IsolatedEngine:
        if self.alive:
            return self
        self._forget()
        parent, child = self._mp.Pipe()
        forked = self._mp.get_start_method() == "fork"
        engine = self.engine if forked or self.recipe is None else self.recipe  # a spawned child builds its own
        proc = self._mp.Process(target=_child, name="invoicebot-engine", daemon=True,
                                args=(child, engine, self.limits.max_memory_mb, self.warm, self.fresh_cache))
        proc.start()
        child.close()  # only the child holds its end: its death reads as the end of the pipe here
        self._proc, self._conn = proc, parent
        self.starts += 1
        failure: Any = None
        if parent.poll(START_TIMEOUT_S):
            try:
                kind, info, records = parent.recv()
                _replay(records)
            except (EOFError, OSError):
                proc.join(5)
                kind, info = "failed", f"it ended while it started (exit code {proc.exitcode})"
        else:
            kind, info = "failed", f"no answer within {START_TIMEOUT_S:g} s"
        if kind != "ready":
            failure = info
            self._kill()
            if isinstance(failure, InvoiceBotError):
                raise failure
            if isinstance(failure, tuple):
                failure = failure[2]
            raise ConfigError(f"a worker process of the engine could not start ({failure}); run "
                              "`invoicebot extract` on one file with -v to see the error in full")
        self.limit_bytes, self.baseline_rss_mb = info["limit_bytes"], info["baseline_rss_mb"]
        return self

    def close(self) -> None:
        if self._proc is None:
            return
        if self._busy is None and self._proc.is_alive():
            try:
                self._conn.send(("stop", None))
                self._proc.join(5)
            except (OSError, ValueError):
                pass
        self._kill()

    def __enter__(self) -> IsolatedEngine:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self):
        try:
            self._kill()
        except Exception:  # noqa: BLE001 - never from a finaliser
            pass

    def _kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            if proc.is_alive():
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except OSError:
                    proc.kill()
            proc.join(5)
        self._forget()

    def _forget(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._busy, self._last_seen = None, None, {}

    # -- one step, sent and collected apart (the pool keeps several children busy)
    @property
    def busy(self) -> bool:
        return self._busy is not None

    @property
    def connection(self) -> Connection | None:
        return self._conn

    def submit(self, op: str, arg: Any) -> None:
        if self._busy is not None:
            raise RuntimeError("this engine process is busy with another document")
        self.start()
        rss = proc_status_kb(self._proc.pid).get("VmRSS")
        budget_kb = 1024 * self.limits.max_memory_mb
        if rss is not None and budget_kb and self.baseline_rss_mb is not None and (
                rss - 1024 * self.baseline_rss_mb > budget_kb // 2):  # it grew at rest: a fresh one starts lean
            log.info("the engine process grew to %d MB between documents; starting it again", rss // 1024)
            self.close()
            self.start()
            rss = proc_status_kb(self._proc.pid).get("VmRSS")
        where = arg.path if isinstance(arg, Document) else str(arg)
        try:
            self._conn.send((op, arg))
        except (BrokenPipeError, OSError):  # it died since: once more in a fresh one
            self._kill()
            self.start()
            rss = proc_status_kb(self._proc.pid).get("VmRSS")
            self._conn.send((op, arg))
        self._busy = (op, where, time.monotonic())
        self._rss_before_kb = rss

    def collect(self, wait_s: float = 0.0) -> tuple[bool, Any]:
        """``(True, value)`` when the step sent is done (an ``InvoiceBotError`` as the value when it failed), else
        ``(False, None)`` after waiting at most ``wait_s``.  While it waits it watches the child: its memory
        over the budget of one document (RSS above what it had when the document came) or past the time limit
        stops it."""
        if self._busy is None:
            raise RuntimeError("nothing was submitted to this engine process")
        _op, where, started = self._busy
        until = time.monotonic() + wait_s
        while True:
            try:
                ready = self._conn.poll(max(0.0, min(POLL_S, until - time.monotonic())))
            except (EOFError, OSError):
                ready = True
            if ready:
                return True, self._answer(where)
            stop = self._watch(where, started)
            if stop is not None:
                return True, stop
            if time.monotonic() >= until:
                return False, None

    def _answer(self, where: str) -> Any:
        try:
            kind, value, peak, records = self._conn.recv()
        except (EOFError, OSError):
            return self._died(where)
        _replay(records)
        self._busy = None
        self.last_peak_mb = peak
        if not self.alive or isinstance(value, MemoryLimitExceeded) or (
                isinstance(value, ExtractionResult) and value.error and value.error.get("code") == "MEMORY_LIMIT"):
            self._kill()  # it ends after a document over the limit: the next call starts another
        return value if kind == "ok" else _rebuilt(value)

    def _watch(self, where: str, started: float) -> InvoiceBotError | None:
        """The error that stops the busy child now (memory, time, death), or None while it may go on."""
        seen = proc_status_kb(self._proc.pid)
        if seen:
            self._last_seen = seen
        budget_kb = 1024 * self.limits.max_memory_mb
        before = self._rss_before_kb
        if budget_kb and before is not None and seen.get("VmRSS", 0) - before > budget_kb:
            log.warning("%s needs more than the %d MB one document may take (it had taken %d MB): its process is "
                        "stopped and started again", where, self.limits.max_memory_mb, (seen["VmRSS"] - before) // 1024)
            self.last_peak_mb = round(seen.get("VmHWM", seen["VmRSS"]) / 1024, 1)
            self._kill()
            return memory_limit_error(where, self.limits.max_memory_mb)
        timeout = self.limits.doc_timeout_s
        if timeout and time.monotonic() - started >= timeout:
            log.warning("%s took more than %g s: its process is stopped and started again", where, timeout)
            self.last_peak_mb = None
            self._kill()
            return timeout_error(where, timeout)
        if not self._proc.is_alive():
            return self._died(where)
        return None

    def _died(self, where: str) -> InvoiceBotError:
        """The error for a child that died on ``where``: at its memory limit, or a crash."""
        proc = self._proc
        proc.join(5)
        code = proc.exitcode
        seen = self._last_seen
        self.last_peak_mb = round(seen["VmHWM"] / 1024, 1) if seen.get("VmHWM") else None
        self._kill()
        if code is not None and code < 0 and -code in signal.valid_signals():
            how = f"signal {signal.Signals(-code).name}"
        else:
            how = f"exit code {code}"
        budget_mb = self.limits.max_memory_mb if self.limit_bytes else None
        near_limit = (self.limit_bytes is not None and seen.get("VmSize") is not None
                      and seen["VmSize"] * 1024 > self.limit_bytes - 64 * 1024 * 1024)
        if near_limit:
            log.warning("the process reading %s died at its memory limit (%s)", where, how)
            return memory_limit_error(where, budget_mb)
        log.warning("the process reading %s died (%s)", where, how)
        return crash_error(where, how, budget_mb)

    def call(self, op: str, arg: Any) -> Any:
        self.submit(op, arg)
        while True:
            done, value = self.collect(1.0)
            if done:
                if isinstance(value, BaseException):
                    raise value
                return value

    # -- the Engine's interface
    def read(self, path: str | Path) -> Document:
        return self.call("read", os.fspath(path))

    def classify(self, doc: Document, ctx=None) -> tuple[str, float]:
        return self.call("classify", doc)

    def extract(self, doc: Document, ctx=None) -> ExtractionResult:
        return self.call("extract", doc)

    def classify_path(self, path: str | Path) -> tuple[str | None, float, dict | None]:
        try:
            doc = self.read(path)
            t, c = self.classify(doc)
        except InvoiceBotError as exc:
            return None, 0.0, exc.to_dict()
        return t, c, None

    def process(self, path: str | Path) -> ExtractionResult:
        """Read, classify, extract and validate one document in the child; every failure ends in the result."""
        started = time.perf_counter()
        try:
            return self.call("process", os.fspath(path))
        except InvoiceBotError as exc:
            return error_result(path, exc, time.perf_counter() - started)


def error_result(path: str | os.PathLike[str], exc: InvoiceBotError, seconds: float = 0.0) -> ExtractionResult:
    return ExtractionResult(document=os.fspath(path), error=exc.to_dict(), seconds=round(seconds, 4))


def _rebuilt(value: Any) -> InvoiceBotError:
    if isinstance(value, InvoiceBotError):
        return value
    if isinstance(value, tuple) and value[:1] == ("plain",):
        _, code, message, path = value
        exc = DocumentError(message, path=path)
        exc.code = code
        return exc
    return EngineInternalError(f"unexpected answer from the engine process: {value!r}; please report it")

