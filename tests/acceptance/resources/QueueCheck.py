"""Keywords that look into the PostgreSQL work-item queue and the consumers' records (tests/acceptance/queue.robot)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from InvoiceLibrary.workqueue import QueueAdmin
from robot.api import logger
from robot.api.deco import keyword, library


def read_records(paths: list[str]) -> list[tuple[str, int, int]]:
    """``(what, n, pid)`` of every ``took N PID`` / ``done N PID`` line of the consumers' record files."""
    lines = []
    for path in paths:
        if Path(path).is_file():
            for line in Path(path).read_text(encoding="utf-8").splitlines():
                what, n, pid = line.split()
                lines.append((what, int(n), int(pid)))
    return lines


@library(scope="SUITE")
class QueueCheck:
    def _admin(self) -> QueueAdmin:
        return QueueAdmin()

    @keyword
    def purge_queues(self, *queues: str) -> None:
        """Deletes every item and job of the named queues."""
        with self._admin() as admin:
            admin.purge(*queues)

    @keyword
    def queue_counts(self, queue: str) -> dict:
        """Items of ``queue`` per state."""
        with self._admin() as admin:
            counts = admin.counts(queue)
        logger.info(f"{queue}: {counts}")
        return counts

    @keyword
    def every_item_should_have_its_file(self, queue: str, count: int) -> None:
        """``count`` items are PENDING in ``queue``, each with exactly one file, none left as a draft."""
        with self._admin() as admin:
            items = admin.items(queue)
        states = Counter(i["state"] for i in items)
        if states != Counter({"PENDING": int(count)}):
            raise AssertionError(f"{queue}: expected {count} PENDING items, found {dict(states)}")
        bad = [i["id"] for i in items if i["files"] != [i["payload"]["file_name"]]]
        if bad:
            raise AssertionError(f"{len(bad)} item(s) without their file: {bad[:10]}")

    @keyword
    def wait_until_consumer_holds_an_item(self, records: str, taken: int, timeout: float = 120) -> int:
        """Waits until the consumer writing ``records`` took ``taken`` items and is working on its last one;
        returns that item's number."""
        deadline = time.monotonic() + float(timeout)
        while time.monotonic() < deadline:
            lines = read_records([records])
            took = [n for what, n, _ in lines if what == "took"]
            if len(took) >= int(taken) and lines[-1][0] == "took":
                return lines[-1][1]
            time.sleep(0.02)
        raise AssertionError(f"the consumer of {records} did not take {taken} items in {timeout} s")

    @keyword
    def each_item_should_be_completed_exactly_once(self, queue: str, count: int, records: list[str],
                                                   killed_pid: int, in_flight: int) -> None:
        """Every input item COMPLETED exactly once, with one live output each; the killed consumer's in-flight
        item taken twice and completed by another consumer."""
        count, killed_pid, in_flight = int(count), int(killed_pid), int(in_flight)
        with self._admin() as admin:
            inputs = admin.items(queue)
            outputs = admin.items(f"{queue}.done")
        problems = []
        states = Counter(i["state"] for i in inputs)
        if states != Counter({"COMPLETED": count}):
            problems.append(f"input states {dict(states)}, expected {count} COMPLETED")
        live = [o for o in outputs if o["state"] == "PENDING"]
        parents = Counter(o["parent_id"] for o in live)
        if len(live) != count or set(parents) != {i["id"] for i in inputs} or max(parents.values()) != 1:
            problems.append(f"{len(live)} live outputs for {len(parents)} inputs (expected one for each of {count})")
        drafts = [o for o in outputs if o["state"] == "DRAFT"]
        lines = read_records(records)
        done = Counter(n for what, n, _ in lines if what == "done")
        twice = sorted(n for n, c in done.items() if c > 1)
        missing = sorted(set(range(count)) - set(done))
        if twice or missing:
            problems.append(f"done twice: {twice}; never done: {missing}")
        by_n = {i["payload"]["n"]: i for i in inputs}
        recovered = by_n.get(in_flight)
        doers = {pid for what, n, pid in lines if what == "done" and n == in_flight}
        if recovered is None or recovered["attempts"] != 2 or killed_pid in doers or len(doers) != 1:
            problems.append(f"item {in_flight} (in flight when pid {killed_pid} was killed): attempts "
                            f"{recovered and recovered['attempts']}, done by {sorted(doers)}")
        taken_again = [n for n, i in by_n.items() if i["attempts"] != 1 and n != in_flight]
        if taken_again:
            problems.append(f"items taken more than once besides the in-flight one: {taken_again}")
        per_pid = Counter(pid for what, _, pid in lines if what == "done")
        logger.info(f"done per consumer pid: {dict(per_pid)}; item {in_flight} taken twice, done by "
                    f"{sorted(doers)}; drafts the killed consumer left (never visible): {len(drafts)}")
        if problems:
            raise AssertionError("; ".join(problems))
