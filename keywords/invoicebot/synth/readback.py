"""Read a rendered document back into words with boxes, the way the robot will read it.

``read_back`` uses the project reader (``invoicebot.readers.read_document``) when it is installed,
and otherwise a built-in reader (pdfplumber for the text layer, Tesseract for images) that gives
the same :class:`~invoicebot.schema.Document` shape.  Switch with ``INVOICEBOT_SYNTH_READER``
(``auto``, ``project`` or ``builtin``).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from invoicebot.schema import Document, Page, Word

TESS_LANG = {"en": "eng", "de": "deu", "fr": "fra", "nl": "nld", "es": "spa", "it": "ita",
             "pl": "pol"}


def _assign_lines(words: list[Word]) -> list[Word]:
    """Sort words into reading order and number their lines (words whose vertical centres are close)."""
    words = sorted(words, key=lambda w: ((w.bbox[1] + w.bbox[3]) / 2, w.bbox[0]))
    lines: list[list[Word]] = []
    for w in words:
        cy = (w.bbox[1] + w.bbox[3]) / 2
        h = max(w.bbox[3] - w.bbox[1], 1.0)
        if lines:
            last = lines[-1]
            ly = sum((x.bbox[1] + x.bbox[3]) / 2 for x in last) / len(last)
            if abs(cy - ly) < 0.45 * h:
                last.append(w)
                continue
        lines.append([w])
    out = []
    for i, ln in enumerate(lines):
        for w in sorted(ln, key=lambda x: x.bbox[0]):
            w.line = i
            out.append(w)
    return out


def read_pdf_builtin(path: Path) -> Document:
    import pdfplumber

    pages = []
    with pdfplumber.open(str(path)) as pdf:
        for i, page in enumerate(pdf.pages, start=1):
            W, H = float(page.width), float(page.height)
            words = []
            for w in page.extract_words(x_tolerance=1.5, y_tolerance=2, keep_blank_chars=False, use_text_flow=False):
                box = (round(w["x0"] / W * 1000, 1), round(w["top"] / H * 1000, 1), round(w["x1"] / W * 1000, 1),
                       round(w["bottom"] / H * 1000, 1))
                words.append(Word(text=w["text"], bbox=box, page=i, source="text"))
            pages.append(Page(number=i, width=W, height=H, source="text", words=_assign_lines(words)))
    return Document(path=path.name, media_type="application/pdf", pages=pages, sha256=_sha(path))


def read_image_builtin(path: Path, lang: str = "en", image=None) -> Document:
    import pytesseract
    from PIL import Image

    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    img = image if image is not None else Image.open(path)
    W, H = img.size
    data = pytesseract.image_to_data(img, lang=TESS_LANG.get(lang, "eng"), config="--psm 3",
                                     output_type=pytesseract.Output.DICT)
    words = []
    line_keys: dict[tuple[int, int, int], int] = {}
    for j, text in enumerate(data["text"]):
        text = (text or "").strip()
        if not text:
            continue
        conf = float(data["conf"][j])
        x, y, w, h = data["left"][j], data["top"][j], data["width"][j], data["height"][j]
        key = (data["block_num"][j], data["par_num"][j], data["line_num"][j])
        line = line_keys.setdefault(key, len(line_keys))
        box = (round(x / W * 1000, 1), round(y / H * 1000, 1), round((x + w) / W * 1000, 1), round((y + h) / H * 1000, 1))
        words.append(Word(text=text, bbox=box, page=1, source="ocr", confidence=max(conf, 0) / 100, line=line,
                          block=data["block_num"][j]))
    media = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".pdf": "application/pdf"}.get(path.suffix.lower(), "image/png")
    return Document(path=path.name, media_type=media, pages=[Page(1, float(W), float(H), "ocr", words)], sha256=_sha(path))


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _project_reader():
    try:
        from invoicebot.readers import read_document  # type: ignore[attr-defined]
    except ImportError:
        return None
    return read_document


def read_back(path: str | Path, lang: str = "en", mode: str | None = None) -> Document:
    """Read a rendered PDF or page image into a Document (words with 0..1000 boxes and line numbers).

    ``mode``: "auto" (the project reader when importable), "project" or "builtin"; default from
    ``INVOICEBOT_SYNTH_READER`` or "auto".
    """
    path = Path(path)
    mode = mode or os.environ.get("INVOICEBOT_SYNTH_READER", "auto")
    if mode not in ("auto", "project", "builtin"):
        raise ValueError(f"reader mode {mode!r} unknown; use auto, project or builtin")
    if mode != "builtin":
        reader = _project_reader()
        if reader is not None:
            from dataclasses import replace

            from invoicebot.config import ReaderSettings

            # the document's own language (+ English) keeps Tesseract fast; the page is upright already
            settings = replace(ReaderSettings.from_env(), ocr_languages=TESS_LANG.get(lang, "eng"), detect_rotation=False)
            doc = reader(path, settings)
            doc.path = path.name
            return doc
        if mode == "project":
            raise RuntimeError("INVOICEBOT_SYNTH_READER=project but invoicebot.readers.read_document is not importable")
    if path.suffix.lower() == ".pdf":
        doc = read_pdf_builtin(path)
        if len(doc.pages) == 1 and not doc.pages[0].words:  # a scanned page: OCR its image
            import pypdfium2 as pdfium

            pdf = pdfium.PdfDocument(str(path))
            try:
                img = pdf[0].render(scale=200 / 72).to_pil().convert("L")
            finally:
                pdf.close()
            return read_image_builtin(path, lang, image=img)
        return doc
    return read_image_builtin(path, lang)


def reader_name(mode: str | None = None) -> str:
    mode = mode or os.environ.get("INVOICEBOT_SYNTH_READER", "auto")
    if mode != "builtin" and _project_reader() is not None:
        return "invoicebot.readers.read_document"
    return "builtin (pdfplumber / pytesseract)"
