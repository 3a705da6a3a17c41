"""Build the synthetic training corpus: plan, render, read back, label, write one JSON per document.

Entry points: :func:`build_corpus` (Python) and :func:`main` (CLI, ``invoicebot make-corpus``).

Output, per document in the corpus folder: the rendered ``<id>.pdf`` or ``<id>.png`` (kept when
``keep_rendered``) and ``<id>.json``::

    {"id", "doc_type" (schema.DOCUMENT_TYPES), "language", "country" (the vendor's), "currency",
     "layout_engine": "html" | "reportlab" | "scan", "template", "vendor_id", "split": "train" | "val" | "test",
     "file", "pages",
     "fields": {canonical_field: {"value": canonical value (dates ISO, amounts "1234.56", currency ISO 4217,
                                  ids as printed without a leading '#', iban compact upper case),
                                  "raw": [printed strings], "words": [[page, word_index_on_page], ...],
                                  "occurrences": [[[page, index], ...], ...]   # one list per printed place}},
     "line_items": [{"description", "quantity", "unit_price", "amount",
                     "words": {"description": [[page, index], ...], ...}}],
     "document": schema.Document.to_dict() as read back by the project reader,
     "meta": {vendor_mode, paid_mode, date_order, scan degradation, alignment counts}}

A field that the document does not print is absent.  A field whose printed places could not be
read back (OCR damage) is present with empty ``words``.  One word may carry several fields (an
"Amount due" equal to the total is both ``amount_due`` and ``total_amount``).  Plus ``summary.json``
(counts, label coverage, docs/second per engine) and ``config.json`` (the config used).
Everything is deterministic by the seed in the config: the plan (document type, engine, template,
vendor, split) is made up front, and each document has its own random generator seeded by
``"{seed}:{index}"``, so the result does not depend on the number of worker processes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing as mp
import os
import random
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from invoicebot.config import MODELS_DIR, VOCABULARY_DIR
from invoicebot.errors import ConfigError
from invoicebot.schema import DOCUMENT_TYPES, HEADER_FIELDS
from invoicebot.synth.locales import COUNTRIES, COUNTRY_WEIGHTS

DEFAULT_CONFIG = MODELS_DIR / "configs" / "corpus.json"
HTML_TEMPLATES = ("html_classic", "html_boxes", "html_sidebar", "html_banner", "html_minimal", "html_letter", "html_grid")
RL_TEMPLATES = ("rl_compact", "rl_two_col", "rl_mono", "rl_grid", "rl_receipt")


@dataclass
class CorpusConfig:
    """What the corpus holds (models/configs/corpus.json); every key is optional."""

    seed: int = 20240601
    n: int = 2000
    doc_types: dict[str, float] = field(default_factory=lambda: {
        "invoice": 0.46, "receipt": 0.07, "credit_note": 0.07, "purchase_order": 0.1, "remittance_advice": 0.08,
        "statement": 0.1, "other": 0.12})
    engines: dict[str, float] = field(default_factory=lambda: {"html": 0.5, "reportlab": 0.35, "scan": 0.15})
    html_templates: list[str] = field(default_factory=lambda: list(HTML_TEMPLATES))
    reportlab_templates: list[str] = field(default_factory=lambda: list(RL_TEMPLATES))
    test_templates: list[str] = field(default_factory=lambda: ["html_banner", "html_minimal", "rl_grid"])
    test_share: float = 0.12
    vendors: int = 500
    test_vendor_share: float = 0.15
    val_vendor_share: float = 0.1
    customers: int = 300
    countries: dict[str, float] = field(default_factory=lambda: dict(COUNTRY_WEIGHTS))
    receipt_layout_share: float = 0.6
    scan: dict[str, Any] = field(default_factory=lambda: {
        "dpi_min": 170, "dpi_max": 220, "max_rotation_deg": 1.5, "jpeg_quality_min": 30, "jpeg_quality_max": 85,
        "pdf_share": 0.3})
    workers: int = 2
    keep_rendered: bool = True
    reader: str = "auto"  # text-layer PDFs: auto | project | builtin (project = invoicebot.readers.read_document)
    scan_reader: str = "auto"  # page images and scanned PDFs, same choices

    @classmethod
    def load(cls, path: str | Path) -> CorpusConfig:
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"corpus config {p} does not exist; pass --config or restore "
                              "models/configs/corpus.json from the repository", path=str(p)) from exc
        except json.JSONDecodeError as exc:
            raise ConfigError(f"corpus config {p} is not valid JSON ({exc}); fix the file", path=str(p)) from exc
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known - {"_comment"})
        if unknown:
            raise ConfigError(f"corpus config {p}: unknown keys {unknown}; known keys: {sorted(known)}", path=str(p))
        cfg = cls(**{k: v for k, v in data.items() if k in known})
        cfg.check(str(p))
        return cfg

    def check(self, where: str = "corpus config") -> None:
        bad = sorted(set(self.doc_types) - set(DOCUMENT_TYPES))
        if bad:
            raise ConfigError(f"{where}: doc_types {bad} are not document types; use {list(DOCUMENT_TYPES)}")
        bad = sorted(set(self.engines) - {"html", "reportlab", "scan"})
        if bad:
            raise ConfigError(f"{where}: engines {bad} unknown; use html, reportlab, scan")
        bad = sorted(set(self.html_templates) - set(HTML_TEMPLATES)) + sorted(set(self.reportlab_templates) - set(RL_TEMPLATES))
        if bad:
            raise ConfigError(f"{where}: templates {bad} unknown; known: {HTML_TEMPLATES + RL_TEMPLATES}")
        bad = sorted(set(self.test_templates) - set(self.html_templates) - set(self.reportlab_templates))
        if bad:
            raise ConfigError(f"{where}: test_templates {bad} are not among html_templates/reportlab_templates")
        for key in ("reader", "scan_reader"):
            if getattr(self, key) not in ("auto", "project", "builtin"):
                raise ConfigError(f"{where}: {key} must be auto, project or builtin, not {getattr(self, key)!r}")
        if not 0 <= self.test_share < 1 or not 0 <= self.test_vendor_share < 1:
            raise ConfigError(f"{where}: test_share and test_vendor_share must be between 0 and 1")
        bad = sorted(set(self.countries) - set(COUNTRIES))
        if bad:
            raise ConfigError(f"{where}: countries {bad} unknown; known: {sorted(COUNTRIES)}")


@dataclass
class Plan:
    index: int
    id: str
    doc_type: str
    engine: str
    template: str
    vendor: int
    customer: int
    split: str


def _weighted(rng: random.Random, weights: dict[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, [weights[k] for k in keys])[0]


def vendor_splits(cfg: CorpusConfig) -> list[str]:
    n = cfg.vendors
    n_test = max(1, round(n * cfg.test_vendor_share)) if cfg.test_share > 0 else 0
    n_val = max(1, round(n * cfg.val_vendor_share)) if cfg.val_vendor_share > 0 else 0
    return ["train"] * (n - n_test - n_val) + ["val"] * n_val + ["test"] * n_test


def make_plan(cfg: CorpusConfig, n: int) -> list[Plan]:
    rng = random.Random(f"{cfg.seed}:plan")
    vsplit = vendor_splits(cfg)
    pools = {s: [i for i, x in enumerate(vsplit) if x == s] for s in ("train", "val", "test")}
    test_tpl = set(cfg.test_templates)
    plans = []
    for i in range(n):
        dt = _weighted(rng, cfg.doc_types)
        engine = _weighted(rng, cfg.engines)
        is_test = rng.random() < cfg.test_share and bool(pools["test"])
        base = "html" if engine == "html" else "reportlab" if engine == "reportlab" else rng.choice(["html", "reportlab"])
        if dt == "receipt" and rng.random() < cfg.receipt_layout_share:
            base, choices = "reportlab", ["rl_receipt"]
        else:
            allowed = cfg.html_templates if base == "html" else [t for t in cfg.reportlab_templates if t != "rl_receipt"]
            choices = [t for t in allowed if (t in test_tpl) == is_test]
            if not choices:  # e.g. no reportlab test layout configured: take the other engine
                other = cfg.reportlab_templates if base == "html" else cfg.html_templates
                choices = [t for t in other if (t in test_tpl) == is_test and t != "rl_receipt"]
                base = "reportlab" if base == "html" else "html"
                if engine != "scan":
                    engine = base
            if dt == "receipt" and engine != "scan" and rng.random() < 0.5:
                engine = "scan"
        template = rng.choice(choices)
        if template == "rl_receipt" and is_test:
            is_test = False
        if is_test:
            vendor = rng.choice(pools["test"])
            split = "test"
        else:
            vendor = rng.choice(pools["train"] + pools["val"])
            split = vsplit[vendor]
        if engine != "scan":
            engine = "html" if template.startswith("html") else "reportlab"
        plans.append(Plan(i, f"{cfg.seed % 100000:05d}-{i:05d}", dt, engine, template, vendor,
                          rng.randrange(cfg.customers), split))
    return plans


# ------------------------------------------------------------------------------------------------------
# Worker side

_BROWSER = None


def _browser():
    global _BROWSER
    if _BROWSER is None:
        from multiprocessing import util

        from invoicebot.synth.html_engine import Chromium

        _BROWSER = Chromium()
        util.Finalize(None, _close_browser, exitpriority=10)
    return _BROWSER


def _close_browser() -> None:
    global _BROWSER
    if _BROWSER is not None:
        _BROWSER.close()
        _BROWSER = None


def _party_pool(cfg: CorpusConfig, kind: str, index: int):
    from invoicebot.synth.parties import make_party

    rng = random.Random(f"{cfg.seed}:{kind}:{index}")
    country = _weighted(rng, cfg.countries)
    lang = rng.choice(COUNTRIES[country].languages)
    pid = f"{'V' if kind == 'vendor' else 'C'}{index:04d}"
    return make_party(rng, pid, country, lang, company=kind == "vendor" or rng.random() < 0.85)


def render_one(cfg: CorpusConfig, plan: Plan, out_dir: Path) -> dict:
    """Generate, render, read back and label one document; write <id>.json (and the rendered file)."""
    from invoicebot.synth.align import align
    from invoicebot.synth.content import Builder
    from invoicebot.synth.readback import read_back

    t0 = time.perf_counter()
    rng = random.Random(f"{cfg.seed}:{plan.index}")
    vendor = _party_pool(cfg, "vendor", plan.vendor)
    customer = _party_pool(cfg, "customer", plan.customer)
    lang = vendor.lang
    builder = Builder(rng, plan.id, plan.doc_type, vendor, customer, lang)
    if plan.engine == "scan":
        builder.flags["single_page"] = True
    doc = builder.build()
    if plan.template.startswith("html"):
        from invoicebot.synth.html_engine import render_html

        state = rng.getstate()
        try:
            pdf, spans, pages = render_html(doc, plan.template, rng, _browser())
        except Exception:  # noqa: BLE001 - a crashed or hung browser: start a fresh one and try once more
            _close_browser()
            rng.setstate(state)
            pdf, spans, pages = render_html(doc, plan.template, rng, _browser())
    else:
        from invoicebot.synth.rl_engine import render_reportlab

        pdf, spans, pages = render_reportlab(doc, plan.template, rng)
    extra: dict[str, Any] = {}
    if plan.engine == "scan":
        from invoicebot.synth.scan import degrade, rasterise

        dpi = rng.randint(int(cfg.scan.get("dpi_min", 170)), int(cfg.scan.get("dpi_max", 220)))
        img, spans, extra = degrade(rasterise(pdf, dpi), rng, cfg.scan, spans)
        extra["dpi"] = dpi
        pages = 1
        if rng.random() < float(cfg.scan.get("pdf_share", 0.3)):
            path = out_dir / f"{plan.id}.pdf"
            img.save(path, "PDF", resolution=dpi)
        else:
            path = out_dir / f"{plan.id}.png"
            img.save(path, "PNG", dpi=(dpi, dpi), compress_level=1)
    else:
        path = out_dir / f"{plan.id}.pdf"
        path.write_bytes(pdf)
    t_render = time.perf_counter() - t0
    document = read_back(path, lang, cfg.scan_reader if plan.engine == "scan" else cfg.reader)
    scan = plan.engine == "scan"
    labels = align(doc, spans, document, ocr=scan, tol=4.0 if scan else 2.0, tol_y=1.5 if scan else 2.0,
                   unrotate=extra.get("unrotate"))
    record = {
        "id": plan.id, "doc_type": plan.doc_type, "language": lang, "country": vendor.country,
        "currency": doc.currency, "layout_engine": plan.engine, "template": plan.template, "vendor_id": vendor.id,
        "split": plan.split, "file": path.name if cfg.keep_rendered else None, "pages": pages,
        "fields": labels["fields"], "line_items": labels["line_items"], "document": document.to_dict(),
        "meta": {"vendor_mode": doc.vendor_mode, "paid_mode": doc.flags.get("paid_mode"), "date_order": doc.date_order,
                 "scan": extra, **labels["stats"]},
    }
    for name in record["fields"]:
        if name not in HEADER_FIELDS:
            raise ValueError(f"generator produced unknown field {name!r} for {plan.id}; fix invoicebot/synth/content.py")
    (out_dir / f"{plan.id}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    if not cfg.keep_rendered:
        path.unlink()
    return {"id": plan.id, "engine": plan.engine, "template": plan.template, "split": plan.split,
            "doc_type": plan.doc_type, "seconds": time.perf_counter() - t0, "render_seconds": t_render,
            "fields": labels["stats"]["fields"], "fields_found": labels["stats"]["fields_found"],
            "rejected": labels["stats"]["rejected_occurrences"],
            "found": sorted(k for k, v in labels["fields"].items() if v["words"]),
            "missing": sorted(k for k, v in labels["fields"].items() if not v["words"])}


def _work(args: tuple[CorpusConfig, Plan, str]) -> dict:
    cfg, plan, out = args
    try:
        return render_one(cfg, plan, Path(out))
    except Exception as exc:  # noqa: BLE001 - one bad document must not end a 2000-document build; reported below
        return {"id": plan.id, "engine": plan.engine, "template": plan.template, "error": f"{type(exc).__name__}: {exc}"}


def build_corpus(config_path: str | Path = DEFAULT_CONFIG, out_dir: str | Path = "var/corpus", n: int | None = None,
                 progress: bool = True, seed: int | None = None, workers: int | None = None) -> dict:
    """Build the corpus into ``out_dir``; return a summary (counts, alignment rates, docs/second per engine)."""
    cfg = CorpusConfig.load(config_path)
    if seed is not None:
        cfg.seed = seed
    if workers is not None:
        cfg.workers = workers
    total = cfg.n if n is None else n
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plans = make_plan(cfg, total)
    t0 = time.perf_counter()
    results: list[dict] = []
    jobs = [(cfg, p, str(out)) for p in plans]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(jobs), desc="corpus", unit="doc", file=sys.stderr)
    n_workers = max(1, min(cfg.workers, len(jobs)))
    if n_workers == 1:
        try:
            for j in jobs:
                results.append(_work(j))
                if bar:
                    bar.update(1)
        finally:
            _close_browser()
    else:
        # the scans (OCR) are the slow ones: hand them out first so the two workers finish together
        jobs.sort(key=lambda j: j[1].engine != "scan")
        with mp.get_context("spawn").Pool(n_workers) as pool:
            for r in pool.imap_unordered(_work, jobs, chunksize=2):
                results.append(r)
                if bar:
                    bar.update(1)
            pool.close()
            pool.join()
    if bar:
        bar.close()
    wall = time.perf_counter() - t0
    summary = summarise(results, wall, n_workers, cfg)
    summary["generator"] = generator_fingerprint(config_path, n)
    (out / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "config.json").write_text(json.dumps(asdict(cfg), indent=2), encoding="utf-8")
    return summary


def generator_fingerprint(config_path: str | Path = DEFAULT_CONFIG, n: int | None = None) -> str:
    """What made a corpus: the generator's code, the readers that read its documents back, the vocabulary its labels
    borrow from, the config and the size.

    Stored in ``summary.json``; a corpus whose fingerprint differs was made by another version and is built again
    (``invoicebot.train.ensure_corpus``) instead of training a new model on stale documents.
    """
    h = hashlib.sha256()
    readers = Path(__file__).parent.parent / "readers"
    files = (sorted(Path(__file__).parent.glob("*.py")) + sorted(readers.glob("*.py"))
             + sorted(Path(VOCABULARY_DIR).glob("*.yaml")))
    for p in [*files, Path(config_path)]:
        h.update(p.name.encode())
        h.update(p.read_bytes() if p.is_file() else b"")
    h.update(str(n).encode())
    return h.hexdigest()[:16]


def summarise(results: list[dict], wall: float, workers: int, cfg: CorpusConfig) -> dict:
    from invoicebot.synth.readback import reader_name

    ok = [r for r in results if "error" not in r]
    errors = [r for r in results if "error" in r]
    per_engine: dict[str, dict] = {}
    for r in ok:
        e = per_engine.setdefault(r["engine"], {"docs": 0, "seconds": 0.0, "fields": 0, "fields_found": 0})
        e["docs"] += 1
        e["seconds"] += r["seconds"]
        e["fields"] += r["fields"]
        e["fields_found"] += r["fields_found"]
    for e in per_engine.values():
        e["docs_per_second_per_worker"] = round(e["docs"] / e["seconds"], 2) if e["seconds"] else None
        e["label_coverage"] = round(e["fields_found"] / e["fields"], 4) if e["fields"] else None
        e["seconds"] = round(e["seconds"], 1)
    coverage: dict[str, list[int]] = {}
    for r in ok:
        for f in r.get("found", []):
            coverage.setdefault(f, [0, 0])[0] += 1
        for f in r.get("missing", []):
            coverage.setdefault(f, [0, 0])[1] += 1
    field_coverage = {f: round(a / (a + b), 4) for f, (a, b) in sorted(coverage.items())}
    field_docs = {f: a + b for f, (a, b) in sorted(coverage.items())}
    count = lambda key: {k: sum(1 for r in ok if r[key] == k) for k in sorted({r[key] for r in ok})}  # noqa: E731
    return {
        "documents": len(ok), "errors": len(errors), "error_examples": [f"{r['id']}: {r['error']}" for r in errors[:5]],
        "wall_seconds": round(wall, 1), "workers": workers,
        "docs_per_second": round(len(ok) / wall, 2) if wall else None,
        "per_engine": per_engine, "field_docs": field_docs, "field_coverage": field_coverage, "splits": count("split"), "doc_types": count("doc_type"), "templates": count("template"),
        "test_templates": cfg.test_templates, "seed": cfg.seed, "reader": reader_name(cfg.reader), "scan_reader": reader_name(cfg.scan_reader),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="invoicebot make-corpus", description="Generate the synthetic training corpus.")
    ap.add_argument("--out", required=True, help="output folder (one <id>.json per document, plus summary.json)")
    ap.add_argument("-n", type=int, default=None, help="number of documents (default: the config's n)")
    ap.add_argument("--seed", type=int, default=None, help="seed (default: the config's seed)")
    ap.add_argument("--config", default=str(DEFAULT_CONFIG), help="corpus config JSON (default: %(default)s)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: the config's workers)")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    a = ap.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    summary = build_corpus(a.config, a.out, n=a.n, progress=not a.no_progress, seed=a.seed, workers=a.workers)
    print(json.dumps(summary, indent=2))
    return 1 if summary["errors"] and not summary["documents"] else 0
