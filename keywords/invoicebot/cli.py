"""The ``invoicebot`` command line.  Exit codes a robot can act on:

0  everything done;  1  an unexpected internal error;  2  wrong usage (bad arguments, missing files);
3  finished, but some documents could not be read (their JSON says why);  4  a set-up problem
(OCR missing, no model, invalid vocabulary) that a retry after fixing the set-up can cure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
from collections import Counter
from pathlib import Path

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_SOME_FAILED, EXIT_SETUP = 0, 1, 2, 3, 4

SUPPORTED_SUFFIXES = {".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff"}

log = logging.getLogger("invoicebot")


def _expand(paths: list[str]) -> list[Path]:
    """Files as given; folders expand to the documents inside them (sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            out.append(p)
    return out


def _workers(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes; give 1, 2, ... or 0 for one per core")
    return int(text) or (os.cpu_count() or 1)


def _progress(items, desc: str, enabled: bool, total: int | None = None):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="doc", file=sys.stderr, leave=False, total=total)


#: The file of ``invoicebot extract`` that says which result file belongs to which input.
INDEX_FILE = "index.json"


def result_names(files: list[Path]) -> list[str]:
    """One result file name per input, never two alike (letter case aside, for file systems that ignore it), the
    same for the same batch: ``<stem>.json`` where the stem is unique in the batch (what ``invoicebot evaluate``
    matches), else ``<name>.json`` (``a.pdf.json`` beside ``a.png.json``), else ``<folder>__<name>.json``
    (``sub1__x.pdf.json``), else ``<name>.<hash of the full path>.json``.  A name that clashes moves on to the next
    form; of names that clash, those already further along move first, so a unique stem keeps ``<stem>.json``."""
    def form(path: Path, level: int) -> str:
        if level == 0:
            return f"{path.stem}.json"
        if level == 1:
            return f"{path.name}.json"
        if level == 2:
            return f"{path.resolve().parent.name or 'root'}__{path.name}.json"
        digest = hashlib.sha1(str(path.resolve()).encode("utf-8", "surrogateescape")).hexdigest()
        return f"{path.name}.{digest[:8 if level == 3 else 40]}.json"

    stems = Counter(p.stem.casefold() for p in files)
    level = [0 if stems[p.stem.casefold()] == 1 else 1 for p in files]
    while True:
        names = [form(p, n) for p, n in zip(files, level, strict=True)]
        groups: dict[str, list[int]] = {}
        for i, name in enumerate(names):
            groups.setdefault(name.casefold(), []).append(i)
        groups.setdefault(INDEX_FILE, []).append(-1)  # the index's own name is taken
        clashes = [g for g in groups.values() if len(g) > 1]
        if not clashes:
            return names
        for group in clashes:
            members = [i for i in group if i >= 0]
            top = max(level[i] for i in members)
            movers = [i for i in members if level[i] == top] if len(members) > 1 else members
            if all(level[i] == 4 for i in movers):
                raise ValueError(f"{files[movers[0]]} is in the batch twice; give each file once")
            for i in movers:
                level[i] = min(level[i] + 1, 4)


def _unique_inputs(files: list[Path]) -> list[Path]:
    """The inputs without repeats of one file (given twice, or as a file and in its folder), in their order."""
    seen: set[Path] = set()
    out = []
    for p in files:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            out.append(p)
    return out


def cmd_extract(args) -> int:
    from .pipeline import process_many

    files = _unique_inputs(_expand(args.paths))
    if not files:
        print(f"invoicebot extract: no documents found in {' '.join(args.paths)}", file=sys.stderr)
        return EXIT_USAGE
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    names = result_names(files)
    failed = 0
    rows = []
    peaks: list = []
    index: dict[str, str] = {}
    results = process_many(files, workers=getattr(args, "workers", 1), extractor=args.extractor, peaks=peaks)
    try:
        for path, name, result in zip(files, names, _progress(results, "extract", not args.quiet and len(files) > 1,
                                                              len(files)), strict=True):
            (out_dir / name).write_text(json.dumps(result.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
            index[str(path)] = name
            if result.error:
                failed += 1
            rows.append(result)
    finally:  # a batch stopped half-way (Ctrl-C, an engine that cannot start again) still says whose files are there
        tmp = out_dir / f".{INDEX_FILE}.tmp"
        tmp.write_text(json.dumps(index, indent=2, ensure_ascii=False), encoding="utf-8")
        tmp.replace(out_dir / INDEX_FILE)
    if not args.quiet:
        print(_results_table(rows))
        known = [p for p in peaks if p is not None]
        peak = f"; peak memory of one document {max(known):.0f} MB" if known else ""
        print(f"{len(rows)} documents, {failed} failed; JSON in {out_dir} ({INDEX_FILE}: which file is whose){peak}")
    return EXIT_SOME_FAILED if failed else EXIT_OK


def _results_table(results) -> str:
    cols = ("document_type", "vendor_name", "invoice_number", "invoice_date", "total_amount", "currency")
    lines = [f"{'document':<28} " + " ".join(f"{c[:14]:<16}" for c in cols) + " issues"]
    for r in results:
        name = Path(r.document).name[:27]
        if r.error:
            lines.append(f"{name:<28} ERROR {r.error['code']}: {r.error['message']}")
            continue
        vals = [r.document_type or ""] + [(r.value(c) or "")[:15] for c in cols[1:]]
        issues = ",".join(i.code for i in r.issues) or "-"
        lines.append(f"{name:<28} " + " ".join(f"{v:<16}" for v in vals) + f" {issues}")
    return "\n".join(lines)


def cmd_classify(args) -> int:
    from .pipeline import Engine

    files = _expand(args.paths)
    if not files:
        print(f"invoicebot classify: no documents found in {' '.join(args.paths)}", file=sys.stderr)
        return EXIT_USAGE
    engine = Engine(extractor=args.extractor)
    failed = 0
    out = []
    for path in _progress(files, "classify", not args.json and len(files) > 1):
        doc_type, conf, error = engine.classify_path(path)
        failed += bool(error)
        out.append({"document": str(path), "document_type": doc_type, "confidence": round(conf, 3), "error": error})
    if args.json:
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for o in out:
            tail = f"ERROR {o['error']['code']}: {o['error']['message']}" if o["error"] else f"{o['document_type']:<18} {o['confidence']:.2f}"
            print(f"{o['document']:<60} {tail}")
    return EXIT_SOME_FAILED if failed else EXIT_OK


def cmd_evaluate(args) -> int:
    from .evaluate import evaluate_dirs

    try:
        report = evaluate_dirs(args.gt, args.pred)
    except FileNotFoundError as exc:
        print(f"invoicebot evaluate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(report.table())
    if args.errors:
        for e in report.errors:
            print(f"  {e['document']:<28} {e['field']:<16} expected {e['expected']!r:<28} got {e['got']!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    return EXIT_OK


def cmd_read(args) -> int:
    from .readers import read_document

    doc = read_document(args.path)
    if args.json:
        print(json.dumps(doc.to_dict(), indent=2, ensure_ascii=False))
    else:
        print(doc.text)
    return EXIT_OK


def cmd_demo(args) -> int:
    from .config import RESOURCES_DIR

    samples = RESOURCES_DIR / "samples"
    out = Path(args.out)
    ns = argparse.Namespace(paths=[str(samples)], out=str(out), extractor="auto", quiet=False)
    code = cmd_extract(ns)
    return EXIT_OK if code in (EXIT_OK, EXIT_SOME_FAILED) else code


def _delegate(module: str):
    def run(args) -> int:
        import importlib

        return importlib.import_module(f"invoicebot.{module}").main(args.rest)

    return run


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="invoicebot", description="Invoice robot engine: read, classify, extract, evaluate.")
    p.add_argument("-v", "--verbose", action="store_true", help="log what happens")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("extract", help="extract the canonical fields of documents into one JSON each")
    e.add_argument("paths", nargs="+", help="PDF or image files, or folders of them")
    e.add_argument("--out", required=True,
                   help="folder for one JSON result per document (<stem>.json where the stem is unique in the batch, "
                        f"else a longer name) and {INDEX_FILE}, which maps each input to its result file")
    e.add_argument("--extractor", choices=("auto", "model", "rules"), default="auto")
    e.add_argument("--workers", type=_workers, default=1, metavar="N",
                   help="processes that share the batch, each with its own engine (default 1; 0: one per core); "
                        "each document runs in one of them within INVOICEBOT_MAX_MEMORY_MB (default 1536) and "
                        "INVOICEBOT_DOC_TIMEOUT_S (default 120)")
    e.add_argument("-q", "--quiet", action="store_true")
    e.set_defaults(func=cmd_extract)

    c = sub.add_parser("classify", help="tell the document type of each document")
    c.add_argument("paths", nargs="+")
    c.add_argument("--extractor", choices=("auto", "model", "rules"), default="auto")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_classify)

    v = sub.add_parser("evaluate", help="score predictions against ground truth")
    v.add_argument("--gt", required=True, help="folder of ground-truth JSON (canonical keys)")
    v.add_argument("--pred", required=True, help="folder of the engine's result JSON")
    v.add_argument("--errors", action="store_true", help="list each wrong or missing value")
    v.add_argument("--json", help="also write the report as JSON to this file")
    v.set_defaults(func=cmd_evaluate)

    r = sub.add_parser("read", help="print a document's words as the readers see them")
    r.add_argument("path")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_read)

    d = sub.add_parser("demo", help="run the engine over the shipped samples")
    d.add_argument("--out", default="output/demo")
    d.set_defaults(func=cmd_demo)

    for name, (module, help_) in DELEGATED.items():
        s = sub.add_parser(name, help=help_ + f" (see `invoicebot {name} --help`)", add_help=False)
        s.add_argument("rest", nargs=argparse.REMAINDER)
        s.set_defaults(func=_delegate(module))
    return p


#: Sub-commands that have their own argument parser in their own module.
DELEGATED = {
    "bench": ("bench", "pages per second, beside the floor measured in the same run"),
    "train": ("train", "build the fine-tuned model"),
    "make-corpus": ("synth.corpus", "generate the synthetic training corpus"),
    "make-inbox": ("mailgen", "generate an inbox of vendor emails"),
    "review": ("review", "import corrections made by a person"),
    "fuzz": ("fuzz", "hostile inputs through the engine and the mail intake, each in a child process"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"] and "OMP_THREAD_LIMIT" not in os.environ:
        # OpenMP reads its thread limit once, when torch loads it: loaded before the limit is set, the training
        # runs on every core (0.47 s a step instead of 0.80 on the 2-core machine), while Tesseract, a child
        # process that the corpus runs, still gets the limit of one thread set below
        import torch  # noqa: F401
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    parser = build_parser()
    if argv and argv[0] in DELEGATED:  # their own parsers read the rest, options included
        args = argparse.Namespace(command=argv[0], verbose=False, rest=argv[1:], func=_delegate(DELEGATED[argv[0]][0]))
    else:
        args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    from .errors import ConfigError, InvoiceBotError, ModelNotFound, OcrUnavailable

    try:
        return args.func(args)
    except (ConfigError, ModelNotFound, OcrUnavailable) as exc:
        print(f"invoicebot {args.command}: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except InvoiceBotError as exc:
        print(f"invoicebot {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the last line of defence: say what broke, with the type
        log.exception("internal error")
        print(f"invoicebot {args.command}: internal error {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
