"""The seed corpus of the fuzzer: documents and mails of the project itself, never public data sets.

- text PDFs: ``resources/samples/*.pdf`` and invoices that ``bench.make_invoice_pdf`` draws with reportlab
  (compressed and uncompressed content streams, one and two pages);
- a scanned PDF (a page image wrapped in a PDF by PIL), PNG, JPEG and TIFF pages rendered from those PDFs;
- mails: ``resources/demo_inbox/*.eml``.

Built once in the fuzzing process; the children that run the inputs inherit it.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from invoicebot.config import RESOURCES_DIR

SAMPLES_DIR = RESOURCES_DIR / "samples"
DEMO_INBOX = RESOURCES_DIR / "demo_inbox"


@dataclass
class Corpus:
    pdfs: list[tuple[str, bytes]] = field(default_factory=list)
    images: list[tuple[str, bytes]] = field(default_factory=list)  # (name with extension, bytes)
    mails: list[tuple[str, bytes]] = field(default_factory=list)

    def images_of(self, ext: str) -> list[tuple[str, bytes]]:
        return [i for i in self.images if i[0].endswith(ext)]


def _render(pdf: bytes, dpi: int):
    import pypdfium2 as pdfium

    doc = pdfium.PdfDocument(pdf)
    try:
        return [doc[i].render(scale=dpi / 72, grayscale=True).to_pil() for i in range(len(doc))]
    finally:
        doc.close()


def build_corpus() -> Corpus:
    from reportlab import rl_config

    from invoicebot.bench import make_invoice_pdf

    corpus = Corpus()
    for p in sorted(SAMPLES_DIR.glob("*.pdf")):
        corpus.pdfs.append((p.name, p.read_bytes()))
    with tempfile.TemporaryDirectory(prefix="invoicebot-fuzz-seeds-") as tmp:
        compression = rl_config.pageCompression
        try:
            for seed, pages, compress in ((0, 1, 1), (1, 2, 1), (2, 1, 0), (3, 2, 0)):
                rl_config.pageCompression = compress
                path = Path(tmp) / f"drawn-{seed}.pdf"
                make_invoice_pdf(path, seed=seed, pages=pages, items_per_page=6)
                corpus.pdfs.append((path.name, path.read_bytes()))
        finally:
            rl_config.pageCompression = compression
    # page images at a low resolution: a mutated image costs its decoding, not megapixels of OCR
    pages = _render(corpus.pdfs[-3][1], 60) + _render(corpus.pdfs[0][1], 50)
    for i, page in enumerate(pages[:3]):
        for fmt, ext, kw in (("PNG", ".png", {}), ("JPEG", ".jpg", {"quality": 70}),
                             ("TIFF", ".tif", {"compression": "tiff_lzw"})):
            buf = io.BytesIO()
            page.save(buf, format=fmt, dpi=(60, 60), **kw)
            corpus.images.append((f"page-{i}{ext}", buf.getvalue()))
    buf = io.BytesIO()
    pages[0].save(buf, format="TIFF", save_all=True, append_images=pages[1:3], compression="raw")
    corpus.images.append(("pages.tif", buf.getvalue()))
    buf = io.BytesIO()
    pages[0].convert("RGB").save(buf, format="PDF", resolution=60)
    corpus.pdfs.append(("scanned.pdf", buf.getvalue()))
    for p in sorted(DEMO_INBOX.glob("*.eml")):
        corpus.mails.append((p.name, p.read_bytes()))
    if not corpus.mails:
        raise FileNotFoundError(f"no demo mails in {DEMO_INBOX}; the mail family needs them as seeds")
    return corpus
