"""Read the text inside the images of a born-digital PDF page (logos, letterheads, stamps).

On many real invoices the vendor's name is only in the logo image: the text layer never
holds it.  The pipeline calls this when the text layer gave no vendor, so the extra OCR
costs time only on the documents that need it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from .config import ReaderSettings
from .schema import Document, Word

log = logging.getLogger(__name__)

MIN_AREA = 0.004  # share of the page: smaller images are icons and rules
MAX_AREA = 0.6  # larger ones are page scans, which the reader OCRs already
MIN_CONFIDENCE = 0.55


def ocr_page_images(doc: Document, settings: ReaderSettings, pages: tuple[int, ...] = (1,)) -> int:
    """OCR the images on the given pages of a PDF and add their words to ``doc``; returns how many were added."""
    if doc.media_type != "application/pdf":
        return 0
    try:
        import pdfplumber
        import pypdfium2
        import pytesseract
    except ImportError:  # pragma: no cover - pinned dependencies
        return 0
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    added = 0
    try:
        with pdfplumber.open(doc.path) as pdf:
            boxes = {}
            for number in pages:
                if number > len(pdf.pages) or number > len(doc.pages) or doc.pages[number - 1].source != "text":
                    continue
                page = pdf.pages[number - 1]
                area = float(page.width * page.height) or 1.0
                found = []
                for im in page.images:
                    x0, top, x1, bottom = (max(0.0, float(im["x0"])), max(0.0, float(im["top"])),
                                           min(float(page.width), float(im["x1"])), min(float(page.height), float(im["bottom"])))
                    share = (x1 - x0) * (bottom - top) / area
                    if MIN_AREA <= share <= MAX_AREA:
                        found.append((x0 / page.width, top / page.height, x1 / page.width, bottom / page.height))
                if found:
                    boxes[number] = found
        if not boxes:
            return 0
        pdf = pypdfium2.PdfDocument(str(doc.path))
        langs = _languages(settings)
        try:
            for number, found in boxes.items():
                image = pdf[number - 1].render(scale=settings.ocr_dpi / 72).to_pil().convert("L")
                w, h = image.size
                page = doc.pages[number - 1]
                next_line = max((wd.line for wd in page.words), default=-1) + 1
                for fx0, fy0, fx1, fy1 in found:
                    crop = image.crop((int(fx0 * w), int(fy0 * h), int(fx1 * w), int(fy1 * h)))
                    if crop.width < 20 or crop.height < 10:
                        continue
                    data = pytesseract.image_to_data(crop, lang=langs, config="--psm 6",
                                                     output_type=pytesseract.Output.DICT)
                    lines: dict[tuple, int] = {}
                    for i, text in enumerate(data["text"]):
                        conf = float(data["conf"][i]) / 100
                        if not text.strip() or conf < MIN_CONFIDENCE:
                            continue
                        key = (data["block_num"][i], data["par_num"][i], data["line_num"][i])
                        if key not in lines:
                            lines[key] = next_line
                            next_line += 1
                        cx0 = (fx0 + data["left"][i] / w) * 1000
                        cy0 = (fy0 + data["top"][i] / h) * 1000
                        bbox = (cx0, cy0, cx0 + data["width"][i] / w * 1000, cy0 + data["height"][i] / h * 1000)
                        page.words.append(Word(text, bbox, number, "ocr", conf, lines[key]))
                        added += 1
        finally:
            pdf.close()
    except Exception as exc:  # the extra OCR is a bonus: never fail a document over it
        log.warning("could not read the images of %s: %s", Path(doc.path).name, exc)
    return added


def _languages(settings: ReaderSettings) -> str:
    try:
        import pytesseract

        installed = set(pytesseract.get_languages(config=""))
    except Exception:
        return "eng"
    wanted = [lang for lang in settings.ocr_languages.split("+") if lang in installed]
    return "+".join(wanted) or "eng"
