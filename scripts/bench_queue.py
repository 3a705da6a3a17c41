"""Benchmark: generated mails through the real producer into the PostgreSQL queue, then N consumers.

1. ``invoicebot make-inbox`` writes ``--mails`` seeded vendor mails (default 1,000);
2. the real producer (robot_tasks/producer.robot, the folder mailbox) queues one work item per attachment
   into a PostgreSQL queue (InvoiceLibrary.workqueue.PostgresAdapter);
3. for each N of ``--consumers`` (default 1 2 4), a copy of that queue is taken by N real consumer robots
   (robot_tasks/consumer.robot) at once: classify, extract with ``--extractor`` (default the rules), validate
   and decide; no ACCOUNTING_PROFILE, so the keying step is the dry run (the route is decided, nothing keyed).

Prints, per N: items, wall seconds (first consumer start to last exit, Robot start-up included), throughput
(items per second of wall time), p50/p95 seconds per item (from taking an item to its release, as the queue
recorded them), the speed-up against the first N, the CPU seconds per item that the consumers and their
children used (PostgreSQL's own not included; a figure that other work on the machine does not inflate) and
the 1-minute load average before the run (other work on the machine shows there), beside the core count. The project's
PostgreSQL is started (scripts/postgres.sh, idempotent) and left running. Prints numbers, asserts nothing.

    .venv/bin/python scripts/bench_queue.py --mails 1000 --consumers 1 2 4 [--queue-only]

``--queue-only`` adds a table of the queue alone: the same items taken, read, answered and released by N plain
Python processes, no Robot and no extraction (what the queue costs per item, and how that part scales).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "keywords"))

from InvoiceLibrary.workqueue import QueueAdmin  # noqa: E402

ADAPTER = "InvoiceLibrary.workqueue.PostgresAdapter"


def robot_env(**queue: str) -> dict[str, str]:
    env = dict(os.environ, RPA_WORKITEMS_ADAPTER=ADAPTER, OMP_THREAD_LIMIT="1", SE_OFFLINE="true",
               HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT / "keywords"), os.environ.get("PYTHONPATH")])))
    env.update({f"INVOICEBOT_QUEUE_{k.upper()}": v for k, v in queue.items()})
    return env


def robot(outdir: Path, suite: str, *variables: str) -> list[str]:
    cmd = [sys.executable, "-m", "robot", "--rpa", "--outputdir", str(outdir), "--loglevel", "INFO",
           "--console", "none"]
    for v in variables:
        cmd += ["--variable", v]
    return [*cmd, str(ROOT / suite)]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def item_seconds(admin: QueueAdmin, queue: str) -> list[float]:
    with admin.connection.cursor() as cur:
        cur.execute("SELECT extract(epoch FROM released_at - reserved_at) FROM invoicebot_workitems "
                    "WHERE queue = %s AND released_at IS NOT NULL", (queue,))
        return [float(s) for (s,) in cur.fetchall()]


def produce(mails: int, seed: int, work: Path, queue: str) -> tuple[int, float]:
    inbox = work / "inbox"
    subprocess.run([sys.executable, "-m", "invoicebot.cli", "make-inbox", "--out", str(inbox), "-n", str(mails),
                    "--seed", str(seed)], env=robot_env(), cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    (inbox / "manifest.json").unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(robot(work / "producer", "robot_tasks/producer.robot", f"MAIL_FOLDER:{inbox}",
                                f"STATE_DIR:{work / 'state'}"),
                          env=robot_env(output=queue), cwd=ROOT, check=False)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        print(f"bench-queue: the producer exited {proc.returncode}; see {work / 'producer'}/log.html", file=sys.stderr)
    return proc.returncode, wall


def consume(admin: QueueAdmin, source: str, n: int, work: Path, run: str, extractor: str) -> dict:
    queue = f"{run}-n{n}"
    count = admin.copy_queue(source, queue)
    load = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    procs = [subprocess.Popen(robot(work / f"n{n}" / f"consumer-{i}", "robot_tasks/consumer.robot",
                                    f"EXTRACTOR:{extractor}"),
                              env=robot_env(input=queue, output=f"{queue}.done", wait="drain"), cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for i in range(n)]
    rcs = [p.wait() for p in procs]
    wall = time.perf_counter() - start
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)  # the consumers and the processes they waited for
    cpu = (cpu_after.ru_utime - cpu_before.ru_utime) + (cpu_after.ru_stime - cpu_before.ru_stime)
    secs = item_seconds(admin, queue)
    states = admin.counts(queue)
    with admin.connection.cursor() as cur:
        cur.execute("SELECT coalesce(exception_code, 'done'), count(*) FROM invoicebot_workitems WHERE queue = %s "
                    "GROUP BY 1", (queue,))
        outcomes = Counter(dict(cur.fetchall()))
    return {"n": n, "load": load, "cpu": cpu, "items": count, "wall": wall, "secs": secs, "states": states, "rcs": rcs,
            "queue": queue, "outcomes": outcomes}


def _take_all(queue: str) -> None:
    from InvoiceLibrary.workqueue import PostgresAdapter, QueueConfig
    from RPA.Robocorp.WorkItems import EmptyQueue, State

    adapter = PostgresAdapter(QueueConfig.from_env({"INVOICEBOT_QUEUE_INPUT": queue, "INVOICEBOT_QUEUE_WAIT": "0"}))
    while True:
        try:
            item = adapter.reserve_input()
        except EmptyQueue:
            break
        adapter.load_payload(item)
        for name in adapter.list_files(item):
            adapter.get_file(item, name)
        adapter.create_output(item, {"from": item})
        adapter.release_input(item, State.DONE)
    adapter.close()


def queue_overhead(admin: QueueAdmin, source: str, ns: list[int], run: str) -> None:
    """The queue alone: N plain Python processes take, read (payload and file), answer and release every item."""
    from multiprocessing import get_context

    print("\nthe queue alone (take, read payload and file, one output, release; no work), same items:")
    print("| consumers | items | wall s | items/s | speed-up |")
    print("|---:|---:|---:|---:|---:|")
    base = None
    for n in ns:
        queue = f"{run}-q{n}"
        count = admin.copy_queue(source, queue)
        start = time.perf_counter()
        procs = [get_context("spawn").Process(target=_take_all, args=(queue,)) for _ in range(n)]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join()
        wall = time.perf_counter() - start
        done = admin.counts(queue)["COMPLETED"]
        admin.purge(queue, f"{queue}.done")
        base = base or count / wall
        print(f"| {n} | {done}/{count} | {wall:.1f} | {count / wall:.0f} | {count / wall / base:.2f}x |")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--mails", type=int, default=1000, help="generated mails (default 1000)")
    p.add_argument("--consumers", type=int, nargs="+", default=[1, 2, 4], help="consumer counts (default 1 2 4)")
    p.add_argument("--extractor", default="rules", help="rules (default), model or auto")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep", action="store_true", help="keep the work folder and the queues")
    p.add_argument("--queue-only", action="store_true",
                   help="after the robots, also time the queue alone (no Robot, no extraction) for each N")
    args = p.parse_args(argv)

    subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "start"], check=True)
    run = f"bench-{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix=f"{run}-", dir=ROOT / "output" if (ROOT / "output").is_dir() else None))
    source = f"{run}-src"
    admin = QueueAdmin()
    queues = [source]
    try:
        rc, produce_wall = produce(args.mails, args.seed, work, source)
        queued = admin.counts(source)["PENDING"]
        with_file = sum(1 for i in admin.items(source) if i["files"])
        print(f"producer: {args.mails} mails -> {queued} work items ({with_file} with a file, "
              f"{queued - with_file} duplicates without) in {produce_wall:.1f} s (exit {rc})")
        results = []
        for n in args.consumers:
            result = consume(admin, source, n, work, run, args.extractor)
            queues += [result["queue"], f"{result['queue']}.done"]
            results.append(result)
            left = {k: v for k, v in result["states"].items() if v and k not in ("COMPLETED", "FAILED")}
            print(f"  N={n}: {result['items']} items in {result['wall']:.1f} s; outcomes "
                  f"{dict(result['outcomes'].most_common())}; exits {result['rcs']}"
                  + (f"; NOT FINISHED {left}" if left else ""), flush=True)
        cores = os.cpu_count()
        print(f"\nqueue benchmark: {args.mails} mails, {queued} items, extractor {args.extractor}, "
              f"dry-run keying, on {cores} cores (PostgreSQL on the same machine)")
        print("| consumers | items | wall s | items/s | p50 s/item | p95 s/item | speed-up | CPU s/item | load before |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        base = None
        for r in results:
            tput = r["items"] / r["wall"] if r["wall"] else 0.0
            base = base or tput
            p50 = statistics.median(r["secs"]) if r["secs"] else float("nan")
            p95 = percentile(r["secs"], 0.95) if r["secs"] else float("nan")
            print(f"| {r['n']} | {r['items']} | {r['wall']:.1f} | {tput:.2f} | {p50:.3f} | {p95:.3f} | "
                  f"{tput / base:.2f}x | {r['cpu'] / max(r['items'], 1):.3f} | {r['load']:.1f} |")
        if args.queue_only:
            queue_overhead(admin, source, args.consumers, run)
    finally:
        if not args.keep:
            admin.purge(*queues)
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept: {work} and queues {', '.join(queues)}")
        admin.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
