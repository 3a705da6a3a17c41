"""Reading benchmark: pages per second of the engine beside the floor measured in the same run.

The floor is what the underlying tools cost on their own, on the same pages:

* text PDFs: pdfplumber opening the file and ``page.extract_words()`` on every page;
* scanned pages: ``pytesseract.image_to_data`` on the same page image, at the same dpi and
  languages that the reader uses.

``run_bench()`` returns the numbers as a dict and ``format_table()`` prints them.  With no
arguments it uses the text PDFs in ``resources/samples/`` when there are any, else invoice-like
PDFs that it generates with reportlab into a temporary folder; the scans are those PDFs
rasterised to PNG, a few of them degraded (noise, blur, a slight skew).

Run it with ``python -m invoicebot.bench`` (options: ``--help``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from invoicebot.config import RESOURCES_DIR, ReaderSettings

SAMPLES_DIR = RESOURCES_DIR / "samples"

_VENDORS = [
    ("Northwind Office Supplies Ltd", "12 Harbour Road", "Bristol BS1 5TT", "GB123456789", "GBP", "en"),
    ("Müller & Söhne GmbH", "Industriestraße 7", "80331 München", "DE811907980", "EUR", "de"),
    ("Van der Berg Techniek B.V.", "Keizersgracht 221", "1016 DV Amsterdam", "NL854502130B01", "EUR", "nl"),
    ("Atelier Dupont SARL", "18 rue des Lilas", "69003 Lyon", "FR40303265045", "EUR", "fr"),
    ("Acme Cloud Services Inc.", "500 Market Street", "San Francisco, CA 94105", "US-EIN 94-1234567", "USD", "en"),
]

_LABELS = {
    "en": (
        "INVOICE",
        "Invoice number",
        "Invoice date",
        "Due date",
        "Bill to",
        "Description",
        "Qty",
        "Unit price",
        "Amount",
        "Subtotal",
        "VAT",
        "Total due",
        "Payment terms: 30 days net",
    ),
    "de": (
        "RECHNUNG",
        "Rechnungsnummer",
        "Rechnungsdatum",
        "Fällig am",
        "Rechnung an",
        "Beschreibung",
        "Menge",
        "Einzelpreis",
        "Betrag",
        "Zwischensumme",
        "MwSt",
        "Gesamtbetrag",
        "Zahlbar innerhalb 14 Tagen",
    ),
    "nl": (
        "FACTUUR",
        "Factuurnummer",
        "Factuurdatum",
        "Vervaldatum",
        "Factuur aan",
        "Omschrijving",
        "Aantal",
        "Prijs",
        "Bedrag",
        "Subtotaal",
        "BTW",
        "Totaal",
        "Betaling binnen 30 dagen",
    ),
    "fr": (
        "FACTURE",
        "Numéro de facture",
        "Date de facture",
        "Échéance",
        "Facturer à",
        "Désignation",
        "Qté",
        "Prix unitaire",
        "Montant",
        "Sous-total",
        "TVA",
        "Total TTC",
        "Paiement à 30 jours",
    ),
}

_ITEMS = [
    "Printer paper A4 80g (box of 5 reams)",
    "Toner cartridge black HP 305A",
    "Consulting services March",
    "Office chair ergonomic model X2",
    "Cloud storage 2 TB annual plan",
    "USB-C docking station",
    "Desk lamp LED dimmable",
    "Software licence (12 months)",
    "Shipping and handling",
    "Whiteboard markers (set of 8)",
    "Network switch 24 ports",
    "Maintenance contract Q2",
    "Laptop stand aluminium",
    "Coffee beans 1 kg",
]


def _money(value: float, currency: str, lang: str) -> str:
    text = f"{value:,.2f}"
    if lang in ("de", "nl", "fr"):
        text = text.replace(",", "_").replace(".", ",").replace("_", ".")
    symbol = {"EUR": "€", "GBP": "£", "USD": "$"}[currency]
    return f"{symbol} {text}" if lang in ("en", "nl") else f"{text} {symbol}"


def make_invoice_pdf(path: Path, *, seed: int = 0, pages: int = 1, items_per_page: int = 12) -> Path:
    """Write an invoice-like PDF (vendor block, header, line-item table, totals, footer) with reportlab."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    rng = random.Random(seed)
    name, street, city, tax_id, currency, lang = _VENDORS[seed % len(_VENDORS)]
    labels = _LABELS[lang]
    width, height = A4
    c = canvas.Canvas(str(path), pagesize=A4)
    c.setTitle(f"{labels[0]} {seed}")
    number = f"INV-{2024 + seed % 3}-{1000 + seed * 37:05d}"
    subtotal = 0.0
    for page in range(pages):
        y = height - 60
        c.setFont("Helvetica-Bold", 14)
        c.drawString(50, y, name)
        c.setFont("Helvetica-Bold", 22)
        c.drawRightString(width - 50, y - 4, labels[0])
        c.setFont("Helvetica", 10)
        for text in (street, city, f"VAT {tax_id}", "IBAN DE89 3704 0044 0532 0130 00"):
            y -= 14
            c.drawString(50, y, text)
        meta_y = height - 90
        for label, value in (
            (labels[1], number),
            (labels[2], f"2024-{1 + seed % 12:02d}-{10 + seed % 18:02d}"),
            (labels[3], f"2024-{1 + (seed + 1) % 12:02d}-{10 + seed % 18:02d}"),
        ):
            c.drawString(width - 250, meta_y, f"{label}:")
            c.drawRightString(width - 50, meta_y, value)
            meta_y -= 14
        y -= 30
        c.setFont("Helvetica-Bold", 10)
        c.drawString(50, y, labels[4])
        c.setFont("Helvetica", 10)
        for text in ("Globex Corporation", "Attn. Accounts Payable", "221B Baker Street", "London NW1 6XE"):
            y -= 14
            c.drawString(50, y, text)
        y -= 34
        c.setFont("Helvetica-Bold", 10)
        c.drawString(50, y, labels[5])
        c.drawRightString(360, y, labels[6])
        c.drawRightString(450, y, labels[7])
        c.drawRightString(width - 50, y, labels[8])
        c.line(50, y - 4, width - 50, y - 4)
        c.setFont("Helvetica", 10)
        for _ in range(items_per_page):
            y -= 18
            qty = rng.randint(1, 12)
            unit = round(rng.uniform(3, 400), 2)
            amount = qty * unit
            subtotal += amount
            c.drawString(50, y, rng.choice(_ITEMS))
            c.drawRightString(360, y, str(qty))
            c.drawRightString(450, y, _money(unit, currency, lang))
            c.drawRightString(width - 50, y, _money(amount, currency, lang))
        if page == pages - 1:
            tax = round(subtotal * 0.2, 2)
            y -= 30
            for label, value in ((labels[9], subtotal), (f"{labels[10]} 20%", tax), (labels[11], subtotal + tax)):
                c.setFont("Helvetica-Bold" if label == labels[11] else "Helvetica", 10)
                c.drawString(330, y, label)
                c.drawRightString(width - 50, y, _money(value, currency, lang))
                y -= 16
            c.setFont("Helvetica", 9)
            c.drawString(50, 80, labels[12])
        c.setFont("Helvetica", 8)
        c.drawString(50, 50, f"{name} · {street} · {city} · {tax_id}")
        c.drawRightString(width - 50, 50, f"{page + 1} / {pages}")
        c.showPage()
    c.save()
    return path


def render_pdf_pages(pdf: Path, dpi: int = 300) -> list[Any]:
    """Rasterise every page of ``pdf`` to a grayscale PIL image (pypdfium2)."""
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(str(pdf))
    try:
        return [doc[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(doc))]
    finally:
        doc.close()


def degrade(image: Any, *, seed: int = 0, skew: float = 1.2, noise: float = 0.02, blur: float = 0.7) -> Any:
    """Make a clean page image look scanned: a slight skew, blur and salt-and-pepper noise."""
    import numpy as np
    from PIL import ImageFilter

    img = image.convert("L").rotate(skew, resample=3, expand=True, fillcolor=255)
    if blur:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.array(img)
    rng = np.random.default_rng(seed)
    mask = rng.random(arr.shape)
    arr[mask < noise / 2] = 0
    arr[mask > 1 - noise / 2] = 255
    from PIL import Image

    return Image.fromarray(arr)


def make_samples(folder: Path, *, documents: int = 5, scans: int = 4, dpi: int = 300) -> tuple[list[Path], list[Path]]:
    """Generate ``documents`` text PDFs (one of them two pages long) and ``scans`` PNG page scans
    (every other one degraded) into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    pdfs = [
        make_invoice_pdf(folder / f"invoice_{i}.pdf", seed=i, pages=2 if i == 1 else 1, items_per_page=10 + i)
        for i in range(documents)
    ]
    pngs: list[Path] = []
    for i in range(scans):
        image = render_pdf_pages(pdfs[i % len(pdfs)], dpi=dpi)[0]
        if i % 2:
            image = degrade(image, seed=i)
        out = folder / f"scan_{i}.png"
        image.save(out, dpi=(dpi, dpi))
        pngs.append(out)
    return pdfs, pngs


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (Tesseract runs as a child)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _time(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of ``repeat`` runs.  CPU time hardly moves when other
    work shares the machine; wall time does."""
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        started, cpu = time.perf_counter(), _cpu()
        fn()
        run = (time.perf_counter() - started, _cpu() - cpu)
        best = min(best, run)
    return best


def _floor_text(pdf: Path) -> int:
    import pdfplumber

    with pdfplumber.open(pdf) as doc:
        for page in doc.pages:
            page.extract_words()
        return len(doc.pages)


def _floor_scan(image_path: Path, settings: ReaderSettings) -> Callable[[], Any]:
    import pytesseract
    from PIL import Image

    from invoicebot.readers.image import image_dpi
    from invoicebot.readers.ocr import resolve_languages

    with Image.open(image_path) as img:
        img.load()
        image = img.copy()
    config = f"--dpi {image_dpi(image)}"
    lang = resolve_languages(settings.ocr_languages)
    return lambda: pytesseract.image_to_data(image, lang=lang, config=config)


def _pages(path: Path) -> int:
    from invoicebot.readers.detect import PDF, sniff

    with path.open("rb") as fh:
        head = fh.read(2048)
    if sniff(head) == PDF:
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(str(path))
        try:
            return len(doc)
        finally:
            doc.close()
    from PIL import Image

    with Image.open(path) as img:
        return getattr(img, "n_frames", 1)


def _measure(
    paths: Iterable[Path], engine: Callable[[Path], Any], floor: Callable[[Path], Callable[[], Any]], repeat: int
) -> dict[str, Any]:
    paths = list(paths)
    pages = sum(_pages(p) for p in paths)
    engine_s = floor_s = engine_cpu = floor_cpu = 0.0
    per_doc = []
    for p in paths:
        floor_fn = floor(p)
        floor_fn()  # warm caches (imports, fonts, Tesseract's models in the page cache) for both sides
        engine(p)
        # Interleave the two so that a busy neighbour on the machine slows both alike.
        f, fc = _time(floor_fn, repeat)
        e, ec = _time(lambda p=p: engine(p), repeat)
        floor_s += f
        engine_s += e
        floor_cpu += fc
        engine_cpu += ec
        per_doc.append(
            {
                "file": p.name,
                "engine_ms": round(e * 1000, 1),
                "floor_ms": round(f * 1000, 1),
                "engine_cpu_ms": round(ec * 1000, 1),
                "floor_cpu_ms": round(fc * 1000, 1),
            }
        )
    return {
        "documents": len(paths),
        "pages": pages,
        "engine_seconds": round(engine_s, 4),
        "floor_seconds": round(floor_s, 4),
        "engine_pages_per_s": round(pages / engine_s, 2) if engine_s else 0.0,
        "floor_pages_per_s": round(pages / floor_s, 2) if floor_s else 0.0,
        "engine_ms_per_page": round(1000 * engine_s / pages, 1) if pages else 0.0,
        "floor_ms_per_page": round(1000 * floor_s / pages, 1) if pages else 0.0,
        "ratio": round(engine_s / floor_s, 3) if floor_s else 0.0,
        "engine_cpu_seconds": round(engine_cpu, 4),
        "floor_cpu_seconds": round(floor_cpu, 4),
        "cpu_ratio": round(engine_cpu / floor_cpu, 3) if floor_cpu else 0.0,
        "per_document": per_doc,
    }


def _floor_text_str(path: str) -> int:
    return _floor_text(Path(path))


def measure_batch(paths: list[Path], workers: int, extractor: str, *, repeat: int = 3, rounds: int | None = None,
                  settings: ReaderSettings | None = None) -> dict[str, Any]:
    """Throughput of a batch on ``workers`` processes (``pipeline.EnginePool``, each process with its own engine,
    started and warmed before the clock runs), beside the floor run on as many processes over the same batch.
    The batch is ``paths`` ``rounds`` times over (default: enough for four documents per process); each document
    starts with the model's string cache empty.  The fastest of ``repeat`` runs counts, for both sides."""
    from concurrent.futures import ProcessPoolExecutor

    from invoicebot.pipeline import EnginePool, process_context

    rounds = rounds or max(1, -(-4 * workers // len(paths)))
    batch = [str(p) for p in paths] * rounds
    pages = sum(_pages(p) for p in paths) * rounds
    floor_s = engine_s = float("inf")
    with ProcessPoolExecutor(workers, mp_context=process_context()) as floor_pool, \
            EnginePool(workers, extractor, settings=settings, warm=paths[0], fresh_cache=True) as pool:
        list(floor_pool.map(_floor_text_str, batch[: 2 * workers]))  # start and warm the floor's processes
        for _ in range(repeat):  # interleaved, so that a busy neighbour slows both alike
            started = time.perf_counter()
            list(floor_pool.map(_floor_text_str, batch))
            floor_s = min(floor_s, time.perf_counter() - started)
            started = time.perf_counter()
            failed = sum(1 for r in pool.process(batch) if r.error)
            engine_s = min(engine_s, time.perf_counter() - started)
    return {
        "workers": workers,
        "documents": len(batch),
        "pages": pages,
        "failed": failed,
        "engine_seconds": round(engine_s, 4),
        "floor_seconds": round(floor_s, 4),
        "engine_pages_per_s": round(pages / engine_s, 2),
        "floor_pages_per_s": round(pages / floor_s, 2),
        "engine_ms_per_page": round(1000 * engine_s / pages, 1),
        "floor_ms_per_page": round(1000 * floor_s / pages, 1),
        "ratio": round(engine_s / floor_s, 3),
    }


def run_bench(
    text_pdfs: list[Path] | None = None,
    scans: list[Path] | None = None,
    engine: Callable[[Path], Any] | None = None,
    *,
    settings: ReaderSettings | None = None,
    repeat: int | None = None,
) -> dict[str, Any]:
    """Measure the engine's pages/s on text PDFs and on scanned pages beside the floor.

    ``text_pdfs`` / ``scans``: None for the default samples, an empty list to skip that kind.
    ``engine`` is any ``callable(path)``; by default ``read_document``.  ``repeat``: how many
    timed runs per document (the best counts); default 3 for text PDFs and 2 for scans.
    Returns ``{"text": {...}, "scan": {...}, "settings": {...}}``; the ratio is engine / floor.
    """
    from invoicebot.readers import read_document

    settings = settings or ReaderSettings.from_env()
    engine = engine or (lambda p: read_document(p, settings))
    tmp: tempfile.TemporaryDirectory[str] | None = None
    try:
        samples = sorted(SAMPLES_DIR.glob("*.pdf")) if SAMPLES_DIR.is_dir() else []
        if scans is None or (text_pdfs is None and not samples):
            tmp = tempfile.TemporaryDirectory(prefix="invoicebot-bench-")
            gen_pdfs, gen_scans = make_samples(Path(tmp.name), scans=4 if scans is None else 0, dpi=settings.ocr_dpi)
            if text_pdfs is None:
                text_pdfs = samples or gen_pdfs
            if scans is None:
                scans = gen_scans
        elif text_pdfs is None:
            text_pdfs = samples
        result: dict[str, Any] = {
            "settings": {"ocr_dpi": settings.ocr_dpi, "ocr_languages": settings.ocr_languages},
        }
        if text_pdfs:
            result["text"] = _measure(
                text_pdfs, engine, lambda p: lambda: _floor_text(p), repeat if repeat is not None else 3
            )
        if scans:
            result["scan"] = _measure(
                scans, engine, lambda p: _floor_scan(p, settings), repeat if repeat is not None else 2
            )
        return result
    finally:
        if tmp is not None:
            tmp.cleanup()


def format_table(result: dict[str, Any]) -> str:
    """The bench result as a small text table."""
    head = (
        f"{'kind':<6} {'docs':>4} {'pages':>5} {'engine p/s':>10} {'ms/page':>8} {'floor p/s':>9} {'ms/page':>8} "
        f"{'ratio':>6} {'cpu ratio':>9}"
    )
    rows = [head, "-" * len(head)]
    for kind in ("text", "scan", "batch"):
        r = result.get(kind)
        if not r:
            continue
        name = f"text*{r['workers']}" if kind == "batch" else kind
        cpu = f"{r['cpu_ratio']:>9.2f}" if "cpu_ratio" in r else f"{'-':>9}"
        rows.append(
            f"{name:<6} {r['documents']:>4} {r['pages']:>5} {r['engine_pages_per_s']:>10.2f} "
            f"{r['engine_ms_per_page']:>8.1f} {r['floor_pages_per_s']:>9.2f} {r['floor_ms_per_page']:>8.1f} "
            f"{r['ratio']:>6.2f} {cpu}"
        )
    s = result.get("settings", {})
    rows.append(
        f"(floor: pdfplumber extract_words / pytesseract image_to_data; OCR at {s.get('ocr_dpi')} dpi, "
        f"languages {s.get('ocr_languages')}; ratio = engine wall time / floor wall time, target <= 1.5; "
        "cpu ratio: the same in CPU seconds, steadier on a busy machine)"
    )
    if result.get("batch"):
        b = result["batch"]
        rows.append(
            f"(text*{b['workers']}: the text PDFs as one batch of {b['documents']} documents on {b['workers']} "
            f"processes, each with its own engine, started and warmed before the clock runs (`invoicebot extract "
            f"--workers {b['workers']}`); its floor is extract_words on as many processes; ms/page = wall time per page "
            "of the batch)"
        )
    return "\n".join(rows)


def cold_start_seconds(pdf: Path, extractor: str) -> tuple[float, str]:
    """Wall time of a fresh process that imports the engine, loads the model and extracts one document, and what
    ran the extraction ("rules", or the model's backend: "numpy", "torch")."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom invoicebot.pipeline import Engine\n"
        "e = Engine(sys.argv[2])\nr = e.process(sys.argv[1])\n"
        "print(e.model.backend if e.model is not None else 'rules')\nsys.exit(0 if r.error is None else 3)"
    )
    start = time.perf_counter()
    run = subprocess.run([sys.executable, "-c", code, str(pdf), extractor], check=True, capture_output=True, text=True)
    seconds = round(time.perf_counter() - start, 3)
    return seconds, (run.stdout.strip().splitlines() or ["?"])[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m invoicebot.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--pdf", action="append", type=Path, help="a text PDF to measure (repeatable)")
    parser.add_argument("--scan", action="append", type=Path, help="a scanned page image to measure (repeatable)")
    parser.add_argument(
        "--engine",
        metavar="MODULE:FUNCTION",
        help="what to time instead of read_document: a callable(path), e.g. invoicebot.pipeline:process_document",
    )
    parser.add_argument(
        "--pipeline",
        choices=("read", "rules", "model", "auto"),
        default="auto",
        help="what the engine does per document: read only, or read + classify + extract + validate with the "
        "rules, the model, or the model when one is built (default)",
    )
    parser.add_argument("--text-only", action="store_true", help="measure text PDFs only")
    parser.add_argument("--scans-only", action="store_true", help="measure scanned pages only")
    parser.add_argument("--repeat", type=int, default=None, help="timed runs per document (best counts)")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="also time the text PDFs as one batch on this many processes (default: one per core; 1: do not)",
    )
    parser.add_argument("--json", type=Path, help="also write the result as JSON here")
    parser.add_argument("--per-document", action="store_true", help="print the time of each document")
    args = parser.parse_args(argv)
    text_pdfs = [] if args.scans_only else args.pdf
    scans = [] if args.text_only else args.scan
    engine = None
    if args.engine:
        import importlib

        module, _, name = args.engine.partition(":")
        try:
            engine = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            parser.error(f"--engine {args.engine}: cannot import it ({exc}); give MODULE:FUNCTION")
    if engine is None and args.pipeline != "read":
        from invoicebot.pipeline import Engine

        pipeline = Engine(args.pipeline)

        def engine(path: Path):
            # timed runs repeat a document: start each with the model's string cache empty, or the repeat
            # would find every context already encoded
            if pipeline.model is not None:
                pipeline.model.clear_cache()
            return pipeline.process(path)

    result = run_bench(text_pdfs, scans, engine, repeat=args.repeat)
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if workers > 1 and args.pipeline != "read" and not args.engine and result.get("text"):
        batch_pdfs = args.pdf or sorted(SAMPLES_DIR.glob("*.pdf"))
        if batch_pdfs:
            result["batch"] = measure_batch(batch_pdfs, workers, args.pipeline)
    model = pipeline.model if args.pipeline != "read" and not args.engine else None
    how = f"model on {model.backend}, {model.ranker.precision}" if model is not None else "model not built: rules"
    label = args.engine or (f"full pipeline ({pipeline.extractor}, {how})" if args.pipeline != "read" else "read_document")
    print(f"engine: {label}")
    print(format_table(result))
    if args.pipeline != "read" and not args.engine and result.get("text"):
        first = (args.pdf or sorted(SAMPLES_DIR.glob("*.pdf")) or [None])[0]
        if first is not None:
            cold, ran_on = cold_start_seconds(Path(first), args.pipeline)
            result["cold_start_seconds"], result["cold_start_backend"] = cold, ran_on
            print(f"first extraction {cold:.2f} s after process start (new interpreter, imports and model load included; "
                  f"{Path(first).name}; extracted by {ran_on})")
    if args.per_document:
        for kind in ("text", "scan"):
            for row in result.get(kind, {}).get("per_document", []):
                print(
                    f"  {kind:<5} {row['file']:<40} engine {row['engine_ms']:>8.1f} ms  floor {row['floor_ms']:>8.1f} ms"
                    f"  (cpu {row['engine_cpu_ms']:.1f} / {row['floor_cpu_ms']:.1f} ms)"
                )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

__all__ = ["format_table", "make_invoice_pdf", "make_samples", "measure_batch", "render_pdf_pages", "run_bench"]
