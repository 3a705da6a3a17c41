"""Shared fixtures for the unit tests.

Test documents are BUILT at test time (reportlab, pypdfium2, PIL, pypdf) into temporary
folders; no binary fixture is committed.  Keep fixtures here small and grouped by area.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from invoicebot.config import ReaderSettings

# --------------------------------------------------------------------------- readers

#: OCR at a lower resolution and in English only keeps the OCR tests at about a second each.
TEST_DPI = 200


@pytest.fixture(scope="session")
def reader_settings() -> ReaderSettings:
    """Reader settings for tests: English OCR at 200 dpi, other limits as shipped."""
    return ReaderSettings(ocr_languages="eng", ocr_dpi=TEST_DPI)


class DocumentFactory:
    """Builds test documents on demand into one folder; each is built once per session."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._cache: dict[str, Path] = {}

    def _once(self, name: str, build) -> Path:
        if name not in self._cache:
            path = self.folder / name
            build(path)
            self._cache[name] = path
        return self._cache[name]

    # ---- text PDFs
    def text_pdf(self, seed: int = 0, pages: int = 1) -> Path:
        from invoicebot.bench import make_invoice_pdf

        return self._once(f"invoice_{seed}_{pages}.pdf", lambda p: make_invoice_pdf(p, seed=seed, pages=pages))

    def page_images(self, seed: int = 0, pages: int = 1, dpi: int = TEST_DPI) -> list:
        from invoicebot.bench import render_pdf_pages

        return render_pdf_pages(self.text_pdf(seed, pages), dpi=dpi)

    # ---- scans
    def scan_png(self, seed: int = 0, angle: int = 0, name: str | None = None) -> Path:
        def build(path: Path) -> None:
            image = self.page_images(seed)[0]
            if angle:
                image = image.rotate(angle, expand=True, fillcolor=255)
            image.save(path, format="PNG", dpi=(TEST_DPI, TEST_DPI))

        return self._once(name or f"scan_{seed}_{angle}.png", build)

    def scan_tiff(self) -> Path:
        """A two-page TIFF: both pages of a two-page invoice."""

        def build(path: Path) -> None:
            first, *rest = self.page_images(seed=1, pages=2)
            first.save(
                path, format="TIFF", save_all=True, append_images=rest, compression="tiff_lzw", dpi=(TEST_DPI, TEST_DPI)
            )

        return self._once("scan.tiff", build)

    def mixed_pdf(self) -> Path:
        """Page 1 has a text layer; page 2 is only an image of an invoice page (a scan)."""

        def build(path: Path) -> None:
            from reportlab.lib.pagesizes import A4
            from reportlab.lib.utils import ImageReader
            from reportlab.pdfgen import canvas

            c = canvas.Canvas(str(path), pagesize=A4)
            c.setFont("Helvetica", 12)
            c.drawString(72, 760, "Cover letter from Northwind Office Supplies Ltd")
            c.drawString(72, 740, "Please find our invoice attached on the next page.")
            c.showPage()
            image = self.page_images(seed=0)[0]
            c.drawImage(ImageReader(image), 0, 0, width=A4[0], height=A4[1])
            c.showPage()
            c.save()

        return self._once("mixed.pdf", build)

    def logo_pdf(self) -> Path:
        """A text page whose vendor name and address exist only in a picture (as in saeco.pdf)."""

        def build(path: Path) -> None:
            from reportlab.lib.pagesizes import A4
            from reportlab.lib.utils import ImageReader
            from reportlab.pdfgen import canvas

            page = self.page_images(seed=0)[0]  # 200 dpi: the vendor block is the top left corner
            logo = page.crop((0, 0, int(300 * TEST_DPI / 72), int(140 * TEST_DPI / 72)))
            c = canvas.Canvas(str(path), pagesize=A4)
            c.drawImage(ImageReader(logo), 40, A4[1] - 150, width=300, height=140)
            c.setFont("Helvetica", 10)
            y = 600
            for text in ("Invoice number: 4711", "Invoice date: 2024-05-01", "Total due: 99.00 EUR"):
                c.drawString(72, y, text)
                y -= 16
            c.showPage()
            c.save()

        return self._once("logo.pdf", build)

    def spaced_pdf(self) -> Path:
        """Letter-spaced heading and spaces drawn over a label's first letters (as coolblue's PDFs do)."""

        def build(path: Path) -> None:
            from reportlab.lib.pagesizes import A4
            from reportlab.pdfgen import canvas

            c = canvas.Canvas(str(path), pagesize=A4)
            t = c.beginText(72, 760)
            t.setFont("Helvetica-Bold", 20)
            t.setCharSpace(8)
            t.textOut("INVOICE")
            t.setCharSpace(0)
            c.drawText(t)
            c.setFont("Helvetica", 8)
            c.drawString(72, 700, "Factuurnummer: 993548900")
            c.drawString(72, 700, "  ")  # two spaces over the "F" and the "a"
            c.drawString(72, 680, "Klantnummer: 6669263")
            c.drawString(72, 660, "Total due 1,234.56 EUR")
            c.showPage()
            c.save()

        return self._once("spaced.pdf", build)

    # ---- bad inputs
    def encrypted_pdf(self, user_password: str = "secret") -> Path:
        def build(path: Path) -> None:
            from pypdf import PdfWriter

            writer = PdfWriter(clone_from=str(self.text_pdf()))
            writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-256")
            writer.write(path)

        return self._once(f"encrypted_{bool(user_password)}.pdf", build)

    def long_pdf(self, pages: int = 500) -> Path:
        def build(path: Path) -> None:
            from pypdf import PdfWriter

            writer = PdfWriter()
            for _ in range(pages):
                writer.add_blank_page(width=595, height=842)
            writer.write(path)

        return self._once(f"long_{pages}.pdf", build)

    def png_header(self, width: int, height: int) -> Path:
        """A PNG whose header claims ``width`` x ``height`` pixels, with almost no pixel data: cheap to
        make, and a reader that decodes it before checking its size would blow up."""

        def chunk(kind: bytes, data: bytes) -> bytes:
            return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

        def build(path: Path) -> None:
            ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grayscale
            idat = zlib.compress(b"\x00" * 64)
            path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))

        return self._once(f"header_{width}x{height}.png", build)

    def docx(self) -> Path:
        def build(path: Path) -> None:
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
                zf.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')

        return self._once("invoice.docx", build)

    def copy_as(self, source: Path, name: str) -> Path:
        target = self.folder / name
        target.write_bytes(source.read_bytes())
        return target


@pytest.fixture(scope="session")
def documents(tmp_path_factory: pytest.TempPathFactory) -> DocumentFactory:
    """Factory of generated test documents (text PDFs, scans, TIFF, mixed and bad PDFs), session-wide."""
    return DocumentFactory(tmp_path_factory.mktemp("documents"))


def _model_artifact(folder: Path, layers: int = 1, seed: int = 0) -> Path:
    """A model artifact laid out as train.py's ``save()`` writes it: the first ``layers`` pretrained MiniLM layers
    and untrained heads."""
    import json

    import torch
    from invoicebot.model import ModelConfig, load_tokenizer
    from invoicebot.network import CandidateRanker, build_encoder, save_weights

    cfg = ModelConfig(num_layers=layers, max_tokens=16)
    torch.manual_seed(seed)
    net = CandidateRanker(build_encoder(cfg), cfg)
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(net, folder / "model.safetensors")
    load_tokenizer().save_pretrained(folder / "tokenizer")
    net.encoder.config.save_pretrained(folder / "tokenizer")
    card = {"config": {"model": {"num_layers": layers, "max_tokens": 16, "hidden": cfg.hidden}},
            "thresholds": {}, "temperature": 1.0, "strategies": {}}
    (folder / "model_card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture(scope="session")
def model_artifact():
    """Makes model artifacts: ``model_artifact(folder, layers=1, seed=0)``."""
    return _model_artifact
