"""``invoicebot fuzz``: hostile inputs through the engine and the mail intake, each in its own child process.

Families: ``pdf`` (bit flips, truncation, broken xref, lying sizes, deep nesting, 2,000 pages, flate bombs,
broken filters, fonts and encryption), ``image`` (corrupt PNG/JPEG/TIFF, decompression bombs, IFD loops),
``zip`` (zip bombs, nested zips, ``../`` and NUL member names, lying headers; attached to a mail),
``mail`` (malformed MIME, 10,000 parts, deep nesting, RFC 2231 names with path traversal or NUL, huge
attachments, forwarded ``message/rfc822``) and ``xml`` (XXE and entity expansion: refused unread).

Every input is made from a seed (the project's sample PDFs, demo mails and documents it draws itself) by
a random generator seeded with ``--seed`` and the input's id, so ``--replay ID`` makes it again.  Each
input runs in a child forked from this process, under INVOICEBOT_MAX_MEMORY_MB of address space and
INVOICEBOT_DOC_TIMEOUT_S seconds; its result lands in ``--out/results/<id>.json``.  A traceback (an
uncaught exception, or the engine's INTERNAL), a hang, a crash, a file read or written where it must not
be, or a peak RSS over 2 GB fails the run (exit 1) and the input is kept under ``--out/failures/``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from .harness import FAILURES, MEMORY_FAIL_MB, FuzzInput, Limits, Runner, env_limits

FAMILIES = ("pdf", "image", "zip", "mail", "xml")
#: Shares of ``--count`` per family.
WEIGHTS = {"pdf": 4, "image": 2, "zip": 1, "mail": 2, "xml": 1}


def kinds(family: str) -> dict:
    from . import documents, messages

    return {"pdf": documents.PDF_KINDS, "image": documents.IMAGE_KINDS, "zip": messages.ZIP_KINDS,
            "mail": messages.MAIL_KINDS, "xml": messages.XML_KINDS}[family]


def _cycle(family: str) -> list[str]:
    """The kinds of a family in a fixed order, each as often as its weight: input n of the family is of kind
    ``cycle[n % len(cycle)]``, so every kind is reached early and an id names its kind."""
    out: list[str] = []
    table = kinds(family)
    for round_ in range(max(w for _, w in table.values())):
        out += [k for k, (_, w) in table.items() if w > round_]
    return out


def make_input(family: str, index: int, seed: int, corpus) -> FuzzInput:
    cycle = _cycle(family)
    kind = cycle[index % len(cycle)]
    rng = random.Random(f"{seed}/{family}/{index}")
    name, data = kinds(family)[kind][0](rng, corpus)
    return FuzzInput(id=f"{family}-{index:05d}-{kind}", family=family, kind=kind, name=_safe_name(name), data=data or b"\0")


def _safe_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:80] or "input"


def parse_id(text: str) -> tuple[str, int]:
    family, _, rest = text.partition("-")
    number = rest.split("-")[0]
    if family not in FAMILIES or not number.isdigit():
        raise SystemExit(f"invoicebot fuzz: {text!r} is not an input id (like pdf-00042-bitflip); see summary.json")
    return family, int(number)


def schedule(families: list[str], count: int) -> list[tuple[str, int]]:
    """(family, index) for ``count`` inputs, the families interleaved by weight so a time bound cuts all evenly."""
    total = sum(WEIGHTS[f] for f in families)
    quota = {f: count * WEIGHTS[f] // total for f in families}
    for f in families[: count - sum(quota.values())]:
        quota[f] += 1
    out, made = [], Counter()
    while len(out) < count:
        for f in families:
            for _ in range(WEIGHTS[f]):
                if made[f] < quota[f]:
                    out.append((f, made[f]))
                    made[f] += 1
    return out


# --------------------------------------------------------------------------------------------- report


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def summarize(results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    by_family: dict[str, list[dict]] = defaultdict(list)
    for r in results:
        by_family[r["family"]].append(r)
    families = {}
    for fam, rows in by_family.items():
        mem = [r["peak_rss_mb"] for r in rows]
        families[fam] = {
            "inputs": len(rows), "codes": dict(Counter(r["code"] for r in rows).most_common()),
            "tracebacks": sum(r["code"] in ("TRACEBACK", "INTERNAL", "CRASH", "WORKER_CRASHED") for r in rows),
            "hangs": sum(r["code"] == "HANG" for r in rows),
            "unsafe": sum(r["code"] in ("UNSAFE", "UNEXPECTED") for r in rows),
            "over_memory": sum(bool(r.get("over_memory")) for r in rows),
            "peak_rss_mb_max": max(mem), "peak_rss_mb_p95": _p95(mem),
            "slowest_s": max(r["wall_s"] for r in rows),
            # mails the intake could not parse, caught by its last-resort handler (not a traceback: the mail goes
            # to a person with the exception's name; listed so that the parser can learn them)
            "intake_catch_all": [r["id"] for r in rows if any("cannot be parsed (" in p for p in r.get("problems", []))],
        }
    failures = [r["id"] for r in results if r["code"] in FAILURES or r.get("over_memory")]
    return {"inputs": len(results), "seconds": round(seconds, 1),
            "inputs_per_s": round(len(results) / seconds, 2) if seconds else 0.0,
            "peak_rss_mb_max": max((r["peak_rss_mb"] for r in results), default=0.0),
            "families": families, "failures": failures}


def format_table(summary: dict[str, Any]) -> str:
    head = f"{'family':<7} {'inputs':>6} {'trace':>5} {'hangs':>5} {'unsafe':>6} {'mem max':>8} {'mem p95':>8} " \
           f"{'slowest':>8}  codes"
    lines = [head, "-" * len(head)]
    for fam, s in summary["families"].items():
        codes = ", ".join(f"{c} {n}" for c, n in s["codes"].items())
        lines.append(f"{fam:<7} {s['inputs']:>6} {s['tracebacks']:>5} {s['hangs']:>5} {s['unsafe']:>6} "
                     f"{s['peak_rss_mb_max']:>6.0f}MB {s['peak_rss_mb_p95']:>6.0f}MB {s['slowest_s']:>7.1f}s  {codes}")
    lines.append(f"{summary['inputs']} inputs in {summary['seconds']} s ({summary['inputs_per_s']} inputs/s); "
                 f"peak memory of one input {summary['peak_rss_mb_max']:.0f} MB (limit {MEMORY_FAIL_MB} MB); "
                 f"{len(summary['failures'])} failures")
    caught = [i for s in summary["families"].values() for i in s.get("intake_catch_all", [])]
    if caught:
        lines.append(f"{len(caught)} mails went to a person through the intake's catch-all (an exception while "
                     "parsing): " + " ".join(caught[:10]))
    if summary["failures"]:
        lines.append("failures (replay with --replay ID): " + " ".join(summary["failures"][:30]))
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------- main


def _families(text: str) -> list[str]:
    out = [f.strip() for f in text.split(",") if f.strip()]
    bad = [f for f in out if f not in FAMILIES]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"unknown families {bad or text!r}; choose from {','.join(FAMILIES)}")
    return out


def build_parser() -> argparse.ArgumentParser:
    memory, timeout = env_limits()
    p = argparse.ArgumentParser(prog="invoicebot fuzz", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--count", type=int, default=1000, help="inputs to run (default 1000)")
    p.add_argument("--seconds", type=float, default=None, help="start no input after this many seconds")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--families", type=_families, default=list(FAMILIES), help="comma-separated: " + ",".join(FAMILIES))
    p.add_argument("--out", type=Path, default=Path("output/fuzz"), help="results folder (default output/fuzz)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="inputs at a time (default: one per core)")
    p.add_argument("--memory-mb", type=int, default=memory,
                   help=f"address-space limit of a child (default INVOICEBOT_MAX_MEMORY_MB, {memory}; 0: none)")
    p.add_argument("--timeout", type=float, default=timeout,
                   help=f"seconds before a child counts as a hang (default INVOICEBOT_DOC_TIMEOUT_S, {timeout:g})")
    p.add_argument("--ocr", choices=("stub", "real"), default="stub",
                   help="stub (default): pages are rendered and written for Tesseract but not read, so that "
                   "thousands of inputs fit in minutes; real: run Tesseract")
    p.add_argument("--replay", metavar="ID", action="append", help="run only these inputs again (repeatable)")
    p.add_argument("--guided", choices=("pdf", "image", "mail"),
                   help="coverage-guided instead (atheris, optional): fuzz this reader for --seconds (default 60)")
    p.add_argument("--replay-file", type=Path, action="append", help="with --guided: run a saved crash-* again")
    p.add_argument("-q", "--quiet", action="store_true", help="print only the table")
    return p


def _preload(engine, corpus) -> None:
    """Load here what every child would load again: the mail intake, Pillow's plugins, and what the engine loads
    on its first document (month names of every language, pdfminer's lazily imported parts)."""
    from PIL import Image

    from invoicebot.mail import parse_message

    Image.init()
    with tempfile.TemporaryDirectory(prefix="invoicebot-fuzz-warm-") as tmp:
        path = Path(tmp) / corpus.pdfs[0][0]
        path.write_bytes(corpus.pdfs[0][1])
        engine.process(path)
    parse_message(corpus.mails[0][1])


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.count < 0 or args.jobs < 1:
        print("invoicebot fuzz: --count must be 0 or more and --jobs 1 or more", file=sys.stderr)
        return 2
    from invoicebot.pipeline import Engine

    from .seeds import build_corpus

    corpus = build_corpus()
    if args.guided:
        from .guided import run_guided

        found = run_guided(args.guided, seconds=args.seconds or 60.0, out=args.out, seed=args.seed,
                           memory_mb=args.memory_mb, timeout_s=args.timeout, corpus=corpus, replay=args.replay_file)
        return 2 if found < 0 else int(found > 0)
    engine = Engine("rules")
    _preload(engine, corpus)
    if args.ocr == "real":
        from invoicebot.readers.ocr import resolve_languages

        resolve_languages(engine.settings.ocr_languages)  # once here, not in every child
    out = args.out
    results_dir, failures_dir = out / "results", out / "failures"
    results_dir.mkdir(parents=True, exist_ok=True)
    plan = [parse_id(i) for i in args.replay] if args.replay else schedule(args.families, args.count)
    if not args.replay:  # the results of an earlier run in the same folder would mix with these
        for old in results_dir.glob("*.json"):
            old.unlink()
    results: list[dict[str, Any]] = []
    seen: set[str] = set()

    def on_done(inp: FuzzInput, result: dict[str, Any], work: Path) -> None:
        target = results_dir / f"{inp.id}.json"
        if inp.id in seen:
            raise RuntimeError(f"two inputs share the result file {target}: input ids must be unique")
        seen.add(inp.id)
        target.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
        results.append(result)
        failed = result["code"] in FAILURES or result.get("over_memory")
        if failed:
            keep = failures_dir / inp.id
            keep.mkdir(parents=True, exist_ok=True)
            (keep / inp.name).write_bytes(inp.data)
            (keep / "result.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
            if (work / "stderr.txt").exists():
                (keep / "stderr.txt").write_bytes((work / "stderr.txt").read_bytes()[-20000:])
        if args.replay or (failed and not args.quiet):
            print(json.dumps(result, indent=1, ensure_ascii=False) if args.replay else
                  f"FAIL {inp.id}: {result['code']} {result.get('message', '')[:200]}", file=sys.stderr)
        elif not args.quiet and len(results) % 500 == 0:
            print(f"{len(results)} inputs ...", file=sys.stderr)

    started = time.monotonic()
    limits = Limits(memory_mb=args.memory_mb, timeout_s=args.timeout, ocr=args.ocr)
    with tempfile.TemporaryDirectory(prefix="invoicebot-fuzz-") as scratch:
        runner = Runner(engine, limits, args.jobs, Path(scratch), on_done)
        stopped = ""
        for family, index in plan:
            if args.seconds is not None and time.monotonic() - started > args.seconds:
                stopped = f"stopped after {args.seconds:g} s"
                break
            runner.submit(make_input(family, index, args.seed, corpus))
        runner.drain()
    summary = summarize(results, time.monotonic() - started)
    summary.update(seed=args.seed, families_asked=args.families, planned=len(plan), stopped=stopped,
                   memory_limit_mb=args.memory_mb, timeout_s=args.timeout, ocr=args.ocr,
                   result_files=len(list(results_dir.glob("*.json"))))
    if not args.replay:
        (out / "summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    print(format_table(summary) if results else "no inputs run")
    if stopped:
        print(f"{stopped}: {len(results)} of {len(plan)} inputs run")
    bad = summary["failures"] or any(s["over_memory"] for s in summary["families"].values())
    return 1 if bad else 0
