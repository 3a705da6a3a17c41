"""Work items on PostgreSQL: a custom adapter for ``RPA.Robocorp.WorkItems`` that many consumers share.

Switch a robot to it with the environment (the FileAdapter stays the embedded default):

| =Variable= | =Description= |
| ``RPA_WORKITEMS_ADAPTER`` | ``InvoiceLibrary.workqueue.PostgresAdapter`` |
| ``INVOICEBOT_QUEUE_DSN`` | libpq connection string; default: the project's server (``scripts/postgres.sh env``). |
| ``INVOICEBOT_QUEUE_INPUT`` | Queue the robot takes its input items from; empty (the producer): one empty item. |
| ``INVOICEBOT_QUEUE_OUTPUT`` | Queue its output items go to; default ``attachments`` without an input, else ``<input>.done``. |
| ``INVOICEBOT_QUEUE_LEASE`` | Seconds without a heartbeat after which a taken item goes to another consumer (60). |
| ``INVOICEBOT_QUEUE_MAX_ATTEMPTS`` | Takes of one item (crashes and APPLICATION failures together) before it is dead (3). |
| ``INVOICEBOT_QUEUE_RETRY_DELAY`` | Seconds before an item released with an APPLICATION exception is offered again (30). |
| ``INVOICEBOT_QUEUE_WAIT`` | ``drain`` (default): an empty queue ends the run only when no item is in flight anywhere (so a crashed consumer's item is taken over when its lease expires); a number: also wait that many seconds for new items; ``0``: end at once. |
| ``INVOICEBOT_QUEUE_MAX_HOLD`` | Seconds one consumer may hold an item: then its heartbeat stops, so a hung robot loses it (1800). |

What happens to an item:
- ``create_output`` writes a DRAFT row (payload as JSONB) and ``add_file`` its files (``bytea``); a draft is no
  job yet, so no consumer sees an item without its files. Drafts become PENDING (one queue job each) on the
  robot's next queue call or at exit, and the outputs of an input go live in the same transaction that
  releases that input: a consumer killed before the release leaves no output behind, only a draft; an
  attempt released for a retry (APPLICATION) has its outputs discarded, as the retry makes them again.
- ``reserve_input`` takes one job through pgqueuer's dequeue (``FOR UPDATE SKIP LOCKED``; a job whose
  heartbeat is older than the lease is taken again: that is the lease), counts the take (``attempts``) and
  heartbeats from a thread while the robot works. An item taken ``max_attempts`` times without a release
  is DEAD, with the reason.
- ``release_input``: DONE -> COMPLETED; FAILED with BUSINESS (or no type) -> FAILED, kept with its type, code
  and message (a person looks at it); FAILED with APPLICATION -> offered again after the retry delay, or
  DEAD with its reason once ``max_attempts`` takes are used. A consumer that lost its lease (another one
  took the item over) cannot release it: the release fails and says so. The same invoice may then have been
  worked on twice, which is why keying asks the accounting system itself (vendor + invoice number) first.

Files travel in the database (``bytea``), not in a shared folder: the item and its attachments are written
and read in one transaction over the one connection every consumer has anyway, on any host, with nothing
to mount and nothing to clean up apart; invoices are small (the mail size limit bounds them).

Why pgqueuer and not procrastinate (both maintained, both PostgreSQL-only, both ``SKIP LOCKED``):
- Leases. pgqueuer keeps a heartbeat per job and its dequeue itself takes over a ``picked`` job whose heartbeat
  is older than the timeout: a crashed consumer's item comes back with no extra process. procrastinate
  heartbeats per worker; stalled jobs are found by ``get_stalled_jobs`` and must be retried by a periodic task
  that the application writes and runs.
- Pull, not push. A Robot consumer asks for the next item (``reserve_input``) and releases it later, from
  keywords. pgqueuer's ``Queries`` (dequeue, log_jobs, retry_job, update_heartbeat) are plain calls on a
  driver that a sync psycopg connection can back. procrastinate is built around its worker calling registered
  task functions; taking and finishing a job by hand means its internal ``JobManager`` and a registered
  worker row.
- Retries and dead items. pgqueuer counts ``attempts`` in ``retry_job`` and holds a job logged ``failed`` in
  its queue table (``list_failed_jobs``, ``requeue_jobs``); procrastinate has retry strategies per task (in
  the worker) and a ``failed`` status.
- Dependencies. pgqueuer: pydantic, anyio, typer (the project has them), croniter, pydantic-settings, tabulate,
  uvloop; procrastinate: attrs, asgiref, croniter, python-dateutil, psycopg-pool. Even.
Against pgqueuer: its ``Queries`` are async only (driven here synchronously over a blocking driver, see
:func:`_run`), and its ``attempts`` count ``retry_job`` calls, not the takes over of a stale job; so the takes
are counted in this module's item table (payload, files, state, attempts, exception) beside pgqueuer's job
table, and pgqueuer's ``dedupe_key`` keeps at most one live job per item.

CLI: ``python -m InvoiceLibrary.workqueue status QUEUE...`` prints the items per state, ``dead QUEUE`` the
dead items with their reason, ``requeue QUEUE`` offers dead and APPLICATION-failed items again.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from RPA.Robocorp.WorkItems import BaseAdapter, EmptyQueue, Error, State

try:  # the queue is optional: the FileAdapter needs none of this
    import psycopg
    from pgqueuer.domain import models as pgq_models
    from pgqueuer.ports.repository import EntrypointExecutionParameter
    from pgqueuer.queries import Queries
    from psycopg import RawCursor
    from psycopg.rows import dict_row
except ImportError:  # pragma: no cover - shown as a clear error when the adapter is used
    psycopg = None

ROOT = Path(__file__).resolve().parents[2]
SEED_ID = "seed"
#: Item states; COMPLETED and FAILED are the states a WorkItems release names.
DRAFT, PENDING, RESERVED, COMPLETED, FAILED, DEAD = "DRAFT", "PENDING", "RESERVED", "COMPLETED", "FAILED", "DEAD"
FINAL_STATES = (COMPLETED, FAILED, DEAD)
SCHEMA_LOCK = 7_421_019  # pg_advisory_xact_lock key while one process installs the schema

log = logging.getLogger(__name__)


class QueueError(Exception):
    """A work-item queue failure, in words an operator can act on."""

    ROBOT_SUPPRESS_NAME = True


class LeaseLost(QueueError):
    """The item was taken over by another consumer (this one's lease expired) or is no longer reserved."""

    def __init__(self, item_id: str, detail: str):
        self.item_id = item_id
        super().__init__(f"work item {item_id} is no longer held by this consumer ({detail}); another consumer "
                         "took it over after the lease expired, so its outcome is theirs to record")


# --- configuration (pure) ------------------------------------------------------------------------------

def default_dsn(env: dict[str, str] | None = None) -> str:
    """The DSN of the project's own server (what ``scripts/postgres.sh env`` prints): no password in it."""
    env = os.environ if env is None else env
    state = Path(env.get("INVOICEBOT_PG_DIR") or ROOT / "var" / "postgres")
    return (f"host={env.get('INVOICEBOT_PG_HOST') or '127.0.0.1'} port={env.get('INVOICEBOT_PG_PORT') or '15432'} "
            f"dbname={env.get('INVOICEBOT_PG_DB') or 'invoicebot'} user=postgres passfile={state / 'pgpass'}")


def safe_dsn(dsn: str) -> str:
    """The DSN for messages: host, port, database and user only (never a password)."""
    try:
        parts = psycopg.conninfo.conninfo_to_dict(dsn) if psycopg else {}
    except Exception:  # noqa: BLE001 - an unparsable DSN is named without its content
        return "(an unparsable INVOICEBOT_QUEUE_DSN)"
    return " ".join(f"{k}={parts[k]}" for k in ("host", "port", "dbname", "user") if k in parts) or "(default)"


def _number(env: dict[str, str], name: str, default: float, minimum: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise QueueError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise QueueError(f"{name}={raw!r} must be at least {minimum:g}")
    return value


@dataclass(frozen=True)
class QueueConfig:
    """Where the queue is and how it treats items; :meth:`from_env` reads the ``INVOICEBOT_QUEUE_*`` settings."""

    dsn: str
    input_queue: str = ""
    output_queue: str = "attachments"
    lease_s: float = 60.0
    max_attempts: int = 3
    retry_delay_s: float = 30.0
    drain: bool = True
    idle_wait_s: float = 0.0
    max_hold_s: float = 1800.0
    poll_s: float = 0.5

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> QueueConfig:
        env = dict(os.environ if env is None else env)
        inp = (env.get("INVOICEBOT_QUEUE_INPUT") or "").strip()
        out = (env.get("INVOICEBOT_QUEUE_OUTPUT") or "").strip() or (f"{inp}.done" if inp else "attachments")
        if inp and inp == out:
            raise QueueError(f"INVOICEBOT_QUEUE_INPUT and INVOICEBOT_QUEUE_OUTPUT are both {inp!r}: a robot "
                             "would take its own outputs as inputs")
        wait = (env.get("INVOICEBOT_QUEUE_WAIT") or "drain").strip().lower()
        if wait == "drain":
            drain, idle = True, 0.0
        else:
            drain, idle = False, _number({"INVOICEBOT_QUEUE_WAIT": wait}, "INVOICEBOT_QUEUE_WAIT", 0.0, 0.0)
        lease = _number(env, "INVOICEBOT_QUEUE_LEASE", 60.0, 1.0)
        return cls(dsn=(env.get("INVOICEBOT_QUEUE_DSN") or "").strip() or default_dsn(env),
                   input_queue=inp, output_queue=out, lease_s=lease,
                   max_attempts=int(_number(env, "INVOICEBOT_QUEUE_MAX_ATTEMPTS", 3, 1)),
                   retry_delay_s=_number(env, "INVOICEBOT_QUEUE_RETRY_DELAY", 30.0, 0.0),
                   drain=drain, idle_wait_s=idle,
                   max_hold_s=_number(env, "INVOICEBOT_QUEUE_MAX_HOLD", 1800.0, lease),
                   poll_s=min(0.5, lease / 4))

    @property
    def heartbeat_s(self) -> float:
        """How often a held item's heartbeat is renewed: four beats per lease."""
        return self.lease_s / 4


# --- what a release does to an item (pure) -------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    """The item's next state after a release, and what becomes of its queue job."""

    state: str  # COMPLETED, FAILED, PENDING (offered again) or DEAD
    job: str  # successful, exception, retry, failed (pgqueuer: held in its queue table as dead)
    reason: str = ""


def release_outcome(state: State, exception: dict | None, attempts: int, max_attempts: int) -> Outcome:
    """What releasing an item taken ``attempts`` times does (``exception`` as WorkItems passes it)."""
    if state is State.DONE:
        return Outcome(COMPLETED, "successful")
    exception = exception or {}
    text = ": ".join(str(p) for p in (exception.get("code"), exception.get("message")) if p) or "no reason given"
    if exception.get("type") == Error.APPLICATION.value:
        if attempts < max_attempts:
            return Outcome(PENDING, "retry", f"APPLICATION failure {attempts} of {max_attempts}: {text}")
        return Outcome(DEAD, "failed", f"APPLICATION failure on each of {attempts} attempts (the limit); "
                                       f"last: {text}")
    return Outcome(FAILED, "exception", text)


def take_outcome(attempts_before: int, max_attempts: int, last_reason: str | None, lease_s: float) -> str | None:
    """The reason to declare an item dead instead of handing it out again, or None to hand it out."""
    if attempts_before < max_attempts:
        return None
    reason = (f"taken {attempts_before} times (the limit) without a release: its consumer died or hung each "
              f"time (lease {lease_s:g} s)")
    return f"{reason}; last failure: {last_reason}" if last_reason else reason


# --- the database --------------------------------------------------------------------------------------

SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS invoicebot_workitems (
    id                bigserial PRIMARY KEY,
    queue             text        NOT NULL,
    parent_id         bigint      REFERENCES invoicebot_workitems (id) ON DELETE SET NULL,
    payload           jsonb       NOT NULL DEFAULT '{}'::jsonb,
    state             text        NOT NULL DEFAULT 'DRAFT',
    attempts          integer     NOT NULL DEFAULT 0,
    job_id            bigint,
    reserved_by       uuid,
    reserved_host     text,
    exception_type    text,
    exception_code    text,
    exception_message text,
    created           timestamptz NOT NULL DEFAULT now(),
    reserved_at       timestamptz,
    released_at       timestamptz,
    CONSTRAINT invoicebot_workitems_state CHECK
        (state IN ('DRAFT', 'PENDING', 'RESERVED', 'COMPLETED', 'FAILED', 'DEAD'))
);
CREATE INDEX IF NOT EXISTS invoicebot_workitems_queue_state ON invoicebot_workitems (queue, state);
CREATE INDEX IF NOT EXISTS invoicebot_workitems_parent ON invoicebot_workitems (parent_id);
CREATE TABLE IF NOT EXISTS invoicebot_workitem_files (
    item_id       bigint NOT NULL REFERENCES invoicebot_workitems (id) ON DELETE CASCADE,
    name          text   NOT NULL,
    original_name text   NOT NULL,
    content       bytea  NOT NULL,
    PRIMARY KEY (item_id, name)
);
"""


class _BlockingDriver:
    """pgqueuer's driver protocol over one sync psycopg connection (autocommit; explicit transactions).

    Its coroutines never suspend, so :func:`_run` completes them without an event loop: the adapter
    is called from Robot keywords, which may run inside or outside one.
    """

    def __init__(self, connection: Any):
        self.connection = connection

    async def fetch(self, query: str, *args: object) -> list[dict[str, object]]:
        cursor = RawCursor(self.connection, row_factory=dict_row)
        cursor.execute(query, args or None)
        return cursor.fetchall() if cursor.description else []

    async def execute(self, query: str, *args: object) -> str:
        cursor = RawCursor(self.connection)
        cursor.execute(query, args or None)
        return cursor.statusmessage or ""

    async def notify(self, channel: str, payload: str) -> None:
        await self.execute("SELECT pg_notify($1, $2)", channel, payload)


def _run(coro: Coroutine) -> Any:
    """Completes a pgqueuer coroutine over :class:`_BlockingDriver` (it never awaits real I/O)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return done.value
    coro.close()
    raise QueueError("pgqueuer waited for an event loop; this adapter drives it synchronously")


def connect(dsn: str) -> Any:
    """An autocommit connection, or a :class:`QueueError` naming the server (never the password)."""
    if psycopg is None:
        raise QueueError("the PostgreSQL queue needs psycopg and pgqueuer: pip install -r requirements.txt")
    try:
        return psycopg.connect(dsn, autocommit=True, application_name="invoicebot-workitems", connect_timeout=10)
    except psycopg.Error as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise QueueError(f"cannot reach the work-item queue at {safe_dsn(dsn)}: {first}; is it running "
                         "(scripts/postgres.sh start) and is INVOICEBOT_QUEUE_DSN right?") from None


def ensure_schema(connection: Any) -> None:
    """Installs pgqueuer's tables and the items' tables once (concurrent starters wait on a lock)."""
    queries = Queries(_BlockingDriver(connection))
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
        if not _run(queries.schema_is_installed()):
            _run(queries.install())
        connection.execute(SCHEMA_SQL)


def _guarded(method: Callable) -> Callable:
    """Turns a database error inside an adapter call into a :class:`QueueError` naming the server."""
    import functools

    @functools.wraps(method)
    def call(self: PostgresAdapter, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise QueueError(f"the work-item queue at {safe_dsn(self.config.dsn)} failed in {method.__name__}: "
                             f"{first}") from exc

    return call


class _Heartbeat(threading.Thread):
    """Renews the heartbeat of the jobs this process holds, on its own connection, until ``max_hold_s``."""

    def __init__(self, dsn: str, interval_s: float, max_hold_s: float):
        super().__init__(name="workitem-heartbeat", daemon=True)
        self.dsn, self.interval_s, self.max_hold_s = dsn, interval_s, max_hold_s
        self.jobs: dict[int, float] = {}  # job id -> when taken (monotonic)
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.error: str | None = None

    def hold(self, job_id: int) -> None:
        with self.lock:
            self.jobs[job_id] = time.monotonic()

    def drop(self, job_id: int) -> None:
        with self.lock:
            self.jobs.pop(job_id, None)

    def run(self) -> None:
        connection = None
        while not self.stopped.wait(self.interval_s):
            now = time.monotonic()
            with self.lock:
                live = [j for j, since in self.jobs.items() if now - since < self.max_hold_s]
            if not live:
                continue
            try:
                connection = connection or connect(self.dsn)
                _run(Queries(_BlockingDriver(connection)).update_heartbeat(live))
                self.error = None
            except Exception as exc:  # noqa: BLE001 - a lost beat is retried; the lease covers the gap
                self.error = str(exc)
                log.warning("work item heartbeat failed (retrying): %s", exc)
                connection = None
        if connection is not None:
            connection.close()


@dataclass
class _Held:
    job: Any  # pgqueuer's Job
    attempts: int


class PostgresAdapter(BaseAdapter):
    """``RPA.Robocorp.WorkItems`` adapter over PostgreSQL (pgqueuer); see the module docstring for the settings.

    Example (environment of a consumer on any host):
    | RPA_WORKITEMS_ADAPTER=InvoiceLibrary.workqueue.PostgresAdapter
    | INVOICEBOT_QUEUE_INPUT=attachments    INVOICEBOT_QUEUE_OUTPUT=invoices
    """

    def __init__(self, config: QueueConfig | None = None):
        super().__init__()
        self.config = config or QueueConfig.from_env()
        self.consumer_id = uuid.uuid4()
        self.host = socket.gethostname()
        self.connection = connect(self.config.dsn)
        ensure_schema(self.connection)
        self.queries = Queries(_BlockingDriver(self.connection))
        self._held: dict[str, _Held] = {}
        self._drafts: dict[int, str | None] = {}  # draft output id -> parent input id (None: the seed)
        self._seed_given = False
        self._heartbeat = _Heartbeat(self.config.dsn, self.config.heartbeat_s, self.config.max_hold_s)
        self._heartbeat.start()
        atexit.register(self.close)
        log.info("work items on PostgreSQL %s: input %r, output %r, lease %g s", safe_dsn(self.config.dsn),
                 self.config.input_queue or "(one empty item)", self.config.output_queue, self.config.lease_s)

    # -- SQL helpers
    def _one(self, sql: str, params: Iterable = ()) -> dict | None:
        with self.connection.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, tuple(params))
            return cur.fetchone() if cur.description else None

    def _item_id(self, item_id: str) -> int:
        try:
            return int(item_id)
        except (TypeError, ValueError):
            raise QueueError(f"unknown work item id {item_id!r}") from None

    # -- sealing drafts: an output becomes a job (visible to consumers) only once its files are in
    def seal(self, parent: str | None | object = ...) -> int:
        """Turns drafts into queue jobs and returns how many: those of one input ``parent``, or (by default) all
        but the outputs of an input this consumer still holds (those go live with that input's release)."""
        if parent is ...:
            ids = [i for i, p in self._drafts.items() if p not in self._held]
        else:
            ids = [i for i, p in self._drafts.items() if p == parent]
        if not ids:
            return 0
        if self.connection.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            with self.connection.transaction():
                self._seal(ids)
        else:
            self._seal(ids)
        return len(ids)

    def _discard_drafts(self, parent: str) -> None:
        """Deletes the outputs an attempt made (inside the caller's transaction): its retry makes them again."""
        ids = [i for i, p in self._drafts.items() if p == parent]
        if ids:
            self._one("DELETE FROM invoicebot_workitems WHERE id = ANY(%s) AND state = 'DRAFT'", (ids,))
            for i in ids:
                self._drafts.pop(i, None)

    def _seal(self, ids: list[int]) -> None:
        with self.connection.cursor() as cur:
            cur.execute("SELECT id, queue FROM invoicebot_workitems WHERE id = ANY(%s) AND state = 'DRAFT' "
                        "ORDER BY id FOR UPDATE", (ids,))
            rows = cur.fetchall()
        if rows:
            job_ids = _run(self.queries.enqueue([q for _, q in rows], [str(i).encode() for i, _ in rows],
                                                [0] * len(rows), dedupe_key=[f"workitem:{i}" for i, _ in rows]))
            with self.connection.cursor() as cur:
                cur.executemany("UPDATE invoicebot_workitems SET state = 'PENDING', job_id = %s WHERE id = %s",
                                [(j, i) for j, (i, _) in zip(job_ids, rows, strict=True)])
        for i in ids:
            self._drafts.pop(i, None)

    # -- BaseAdapter
    @_guarded
    def reserve_input(self) -> str:
        self.seal()
        if not self.config.input_queue:
            if self._seed_given:
                raise EmptyQueue("No work items in the input queue")
            self._seed_given = True
            return SEED_ID
        queue = self.config.input_queue
        idle_since = time.monotonic()
        while True:
            jobs = _run(self.queries.dequeue(
                batch_size=1, entrypoints={queue: EntrypointExecutionParameter(concurrency_limit=0)},
                queue_manager_id=self.consumer_id, global_concurrency_limit=None,
                heartbeat_timeout=timedelta(seconds=self.config.lease_s)))
            if jobs:
                item = self._take(jobs[0])
                if item is not None:
                    return item
                idle_since = time.monotonic()
                continue
            if not self._should_wait(queue, idle_since):
                raise EmptyQueue(f"No work items in the input queue {queue!r}")
            time.sleep(self.config.poll_s)

    def _should_wait(self, queue: str, idle_since: float) -> bool:
        if self.config.drain:
            row = self._one("SELECT count(*) AS n FROM pgqueuer WHERE entrypoint = %s AND status IN "
                            "('queued', 'picked')", (queue,))
            if row and row["n"]:
                return True
        return time.monotonic() - idle_since < self.config.idle_wait_s

    def _take(self, job: Any) -> str | None:
        item = int(job.payload.decode())
        with self.connection.transaction():
            row = self._one("SELECT state, attempts, exception_message FROM invoicebot_workitems WHERE id = %s "
                            "FOR UPDATE", (item,))
            if row is None or row["state"] in FINAL_STATES:  # nothing to do: the job outlived its item
                _run(self.queries.log_jobs([(job, "deleted", None)]))
                return None
            dead = take_outcome(row["attempts"], self.config.max_attempts, row["exception_message"],
                                self.config.lease_s)
            if dead:
                self._finish(item, job, Outcome(DEAD, "failed", dead), None)
                log.error("work item %s is dead: %s", item, dead)
                return None
            self._one("UPDATE invoicebot_workitems SET state = 'RESERVED', attempts = attempts + 1, "
                      "reserved_by = %s, reserved_host = %s, reserved_at = now(), job_id = %s WHERE id = %s",
                      (self.consumer_id, self.host, job.id, item))
        self._held[str(item)] = _Held(job, row["attempts"] + 1)
        self._heartbeat.hold(job.id)
        return str(item)

    def _finish(self, item: int, job: Any, outcome: Outcome, exception: dict | None) -> None:
        """Writes the outcome of an item and its job (inside the caller's transaction)."""
        exception = exception or {}
        etype = exception.get("type") or ("APPLICATION" if outcome.state == DEAD else None)
        message = exception.get("message") if outcome.state == FAILED else (outcome.reason or None)
        self._one("UPDATE invoicebot_workitems SET state = %s, exception_type = %s, exception_code = %s, "
                  "exception_message = %s, released_at = now(), reserved_by = NULL WHERE id = %s",
                  (outcome.state, etype if outcome.state != COMPLETED else None,
                   exception.get("code") if outcome.state != COMPLETED else None,
                   message if outcome.state != COMPLETED else None, item))
        record = None
        if outcome.job != "successful":
            record = pgq_models.TracebackRecord(
                job_id=job.id, timestamp=_now(), exception_type=etype or "UNSPECIFIED",
                exception_message=outcome.reason or "", traceback="",
                additional_context={"code": exception.get("code"), "item": item})
        if outcome.job == "retry":
            _run(self.queries.retry_job(job, timedelta(seconds=self.config.retry_delay_s), record))
        else:
            _run(self.queries.log_jobs([(job, outcome.job, record)]))

    @_guarded
    def release_input(self, item_id: str, state: State, exception: dict | None = None):
        if item_id == SEED_ID:
            self.seal()
            log.info("released the empty input item with %s", state.value)
            return
        held = self._held.get(item_id)
        if held is None:
            raise LeaseLost(item_id, "this consumer did not take it")
        item = self._item_id(item_id)
        outcome = release_outcome(state, exception, held.attempts, self.config.max_attempts)
        with self.connection.transaction():
            row = self._one("SELECT i.state, i.reserved_by, j.queue_manager_id, j.status FROM invoicebot_workitems i "
                            "LEFT JOIN pgqueuer j ON j.id = i.job_id WHERE i.id = %s FOR UPDATE OF i", (item,))
            if (row is None or row["state"] != RESERVED or row["reserved_by"] != self.consumer_id
                    or row["queue_manager_id"] != self.consumer_id or row["status"] != "picked"):
                self._forget(item_id)
                raise LeaseLost(item_id, f"its state is {row['state'] if row else 'gone'}")
            if outcome.state == PENDING:
                self._discard_drafts(item_id)
            else:
                self.seal(parent=item_id)
            self._finish(item, held.job, outcome, exception)
        self._forget(item_id)
        (log.error if outcome.state == DEAD else log.info)(
            "released work item %s: %s%s", item_id, outcome.state, f" ({outcome.reason})" if outcome.reason else "")

    def _forget(self, item_id: str) -> None:
        held = self._held.pop(item_id, None)
        if held is not None:
            self._heartbeat.drop(held.job.id)

    @_guarded
    def create_output(self, parent_id: str, payload: Any = None) -> str:
        self.seal()
        parent = None if parent_id in (None, SEED_ID) else self._item_id(parent_id)
        row = self._one("INSERT INTO invoicebot_workitems (queue, parent_id, payload) VALUES (%s, %s, %s) "
                        "RETURNING id", (self.config.output_queue, parent, _jsonb(payload)))
        self._drafts[row["id"]] = None if parent is None else str(parent)
        return str(row["id"])

    @_guarded
    def load_payload(self, item_id: str) -> Any:
        if item_id == SEED_ID:
            return {}
        row = self._one("SELECT payload FROM invoicebot_workitems WHERE id = %s", (self._item_id(item_id),))
        if row is None:
            raise QueueError(f"unknown work item id {item_id!r}")
        return row["payload"]

    @_guarded
    def save_payload(self, item_id: str, payload: Any):
        if item_id == SEED_ID:
            return
        self._one("UPDATE invoicebot_workitems SET payload = %s WHERE id = %s",
                  (_jsonb(payload), self._item_id(item_id)))

    @_guarded
    def list_files(self, item_id: str) -> list[str]:
        if item_id == SEED_ID:
            return []
        with self.connection.cursor() as cur:
            cur.execute("SELECT name FROM invoicebot_workitem_files WHERE item_id = %s ORDER BY name",
                        (self._item_id(item_id),))
            return [name for (name,) in cur.fetchall()]

    @_guarded
    def get_file(self, item_id: str, name: str) -> bytes:
        row = self._one("SELECT content FROM invoicebot_workitem_files WHERE item_id = %s AND name = %s",
                        (self._item_id(item_id), name))
        if row is None:
            raise FileNotFoundError(f"work item {item_id} has no file {name!r}")
        return bytes(row["content"])

    @_guarded
    def add_file(self, item_id: str, name: str, *, original_name: str, content: bytes):
        self._one("INSERT INTO invoicebot_workitem_files (item_id, name, original_name, content) "
                  "VALUES (%s, %s, %s, %s) ON CONFLICT (item_id, name) DO UPDATE SET "
                  "original_name = EXCLUDED.original_name, content = EXCLUDED.content",
                  (self._item_id(item_id), name, original_name, content))

    @_guarded
    def remove_file(self, item_id: str, name: str):
        self._one("DELETE FROM invoicebot_workitem_files WHERE item_id = %s AND name = %s",
                  (self._item_id(item_id), name))

    def close(self) -> None:
        """Seals what is left (the producer's last output) and closes; held items stay leased until expiry."""
        if self.connection.closed:
            return
        try:
            self.seal()
        except Exception as exc:  # noqa: BLE001 - at exit: say it, the drafts stay for an operator
            log.error("could not hand on %d output work item(s): %s", len(self._drafts), exc)
        self._heartbeat.stopped.set()
        self.connection.close()


def _jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value if value is not None else {})


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC)


# --- inspection and operations (tests, the benchmark, an operator) -------------------------------------

class QueueAdmin:
    """Counts, lists, copies and clears queues; one connection."""

    def __init__(self, dsn: str | None = None):
        self.connection = connect(dsn or QueueConfig.from_env().dsn)
        ensure_schema(self.connection)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> QueueAdmin:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def counts(self, queue: str) -> dict[str, int]:
        """Items of ``queue`` per state (every state present, 0 where none)."""
        with self.connection.cursor() as cur:
            cur.execute("SELECT state, count(*) FROM invoicebot_workitems WHERE queue = %s GROUP BY state", (queue,))
            found = dict(cur.fetchall())
        return {s: found.get(s, 0) for s in (DRAFT, PENDING, RESERVED, COMPLETED, FAILED, DEAD)}

    def items(self, queue: str) -> list[dict]:
        """Every item of ``queue``: id, parent, state, attempts, exception, payload, file names."""
        with self.connection.cursor(row_factory=dict_row) as cur:
            cur.execute("SELECT i.id, i.parent_id, i.state, i.attempts, i.exception_type, i.exception_code, "
                        "i.exception_message, i.payload, i.reserved_host, "
                        "coalesce(array_agg(f.name ORDER BY f.name) FILTER (WHERE f.name IS NOT NULL), '{}') "
                        "AS files FROM invoicebot_workitems i LEFT JOIN invoicebot_workitem_files f "
                        "ON f.item_id = i.id WHERE i.queue = %s GROUP BY i.id ORDER BY i.id", (queue,))
            return cur.fetchall()

    def copy_queue(self, source: str, target: str) -> int:
        """Puts a PENDING copy of every item of ``source`` (payload and files) into ``target``; returns how many."""
        with self.connection.transaction():
            with self.connection.cursor() as cur:
                cur.execute("SELECT id FROM invoicebot_workitems WHERE queue = %s ORDER BY id", (source,))
                ids = [i for (i,) in cur.fetchall()]
                pairs = []
                for i in ids:
                    cur.execute("INSERT INTO invoicebot_workitems (queue, payload) SELECT %s, payload FROM "
                                "invoicebot_workitems WHERE id = %s RETURNING id", (target, i))
                    new = cur.fetchone()[0]
                    cur.execute("INSERT INTO invoicebot_workitem_files (item_id, name, original_name, content) "
                                "SELECT %s, name, original_name, content FROM invoicebot_workitem_files "
                                "WHERE item_id = %s", (new, i))
                    pairs.append(new)
            if pairs:
                queries = Queries(_BlockingDriver(self.connection))
                job_ids = _run(queries.enqueue([target] * len(pairs), [str(i).encode() for i in pairs],
                                               [0] * len(pairs), dedupe_key=[f"workitem:{i}" for i in pairs]))
                with self.connection.cursor() as cur:
                    cur.executemany("UPDATE invoicebot_workitems SET state = 'PENDING', job_id = %s WHERE id = %s",
                                    list(zip(job_ids, pairs, strict=True)))
        return len(pairs)

    def purge(self, *queues: str) -> None:
        """Deletes every item and job of ``queues`` (tests and benchmarks; never on a production queue)."""
        with self.connection.transaction():
            self.connection.execute("DELETE FROM pgqueuer WHERE entrypoint = ANY(%s)", (list(queues),))
            self.connection.execute("DELETE FROM pgqueuer_log WHERE entrypoint = ANY(%s)", (list(queues),))
            self.connection.execute("DELETE FROM invoicebot_workitems WHERE queue = ANY(%s)", (list(queues),))

    def requeue(self, queue: str) -> int:
        """Offers the DEAD and APPLICATION-failed items of ``queue`` again, with their takes reset."""
        with self.connection.transaction():
            with self.connection.cursor() as cur:
                cur.execute("SELECT id FROM invoicebot_workitems WHERE queue = %s AND (state = 'DEAD' OR "
                            "(state = 'FAILED' AND exception_type = 'APPLICATION')) FOR UPDATE", (queue,))
                ids = [i for (i,) in cur.fetchall()]
                cur.execute("DELETE FROM pgqueuer WHERE entrypoint = %s AND status = 'failed' AND "
                            "convert_from(payload, 'UTF8') = ANY(%s)", (queue, [str(i) for i in ids]))
                cur.execute("UPDATE invoicebot_workitems SET state = 'DRAFT', attempts = 0 WHERE id = ANY(%s)",
                            (ids,))
            if ids:
                queries = Queries(_BlockingDriver(self.connection))
                job_ids = _run(queries.enqueue([queue] * len(ids), [str(i).encode() for i in ids], [0] * len(ids),
                                               dedupe_key=[f"workitem:{i}" for i in ids]))
                with self.connection.cursor() as cur:
                    cur.executemany("UPDATE invoicebot_workitems SET state = 'PENDING', job_id = %s WHERE id = %s",
                                    list(zip(job_ids, ids, strict=True)))
        return len(ids)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m InvoiceLibrary.workqueue",
                                     description="Inspect the PostgreSQL work-item queues.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("status", help="items per state").add_argument("queues", nargs="+")
    sub.add_parser("dead", help="dead and failed items with their reason").add_argument("queue")
    sub.add_parser("requeue", help="offer dead and APPLICATION-failed items again").add_argument("queue")
    args = parser.parse_args(argv)
    try:
        with QueueAdmin() as admin:
            if args.command == "status":
                for queue in args.queues:
                    out(f"{queue}: " + ", ".join(f"{k.lower()} {v}" for k, v in admin.counts(queue).items()))
            elif args.command == "dead":
                for item in admin.items(args.queue):
                    if item["state"] in (FAILED, DEAD):
                        out(json.dumps({k: item[k] for k in ("id", "state", "attempts", "exception_type",
                                                             "exception_code", "exception_message")}))
            else:
                out(f"{admin.requeue(args.queue)} item(s) offered again")
    except QueueError as exc:
        print(f"workqueue: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
