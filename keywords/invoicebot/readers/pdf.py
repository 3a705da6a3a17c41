"""Read PDFs: the text layer with pdfplumber, page by page, and OCR where a page has no usable text."""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.utils.text import WordExtractor

from invoicebot.config import ReaderSettings
from invoicebot.errors import CorruptDocument, EncryptedDocument, ImageTooLarge, TooManyPages
from invoicebot.readers.grouping import RawWord, build_words
from invoicebot.readers.ocr import ocr_image
from invoicebot.schema import Page, Word

log = logging.getLogger("invoicebot.readers")

#: pdfplumber's word options.  Words are cut in the order the PDF draws its characters
#: (use_text_flow=True): a value drawn on top of a label ("prélèvement :" and "29.99" in
#: free_fiber.pdf) then stays two words instead of interleaving its letters with the label's,
#: which sorting characters by x does.  Visual order is restored afterwards by grouping the words
#: into lines (grouping.py), where pieces of one word drawn apart are joined again.  3 pt is
#: pdfplumber's default tolerance; words are split at the PDF's space characters anyway.
WORD_OPTIONS: dict[str, Any] = {"x_tolerance": 3, "y_tolerance": 3, "keep_blank_chars": False, "use_text_flow": True}

_EXTRACTOR = WordExtractor(**WORD_OPTIONS)


def _encrypted(path: Path) -> EncryptedDocument:
    return EncryptedDocument(
        f"{path} is a password-protected PDF and cannot be opened without the password; "
        "ask the sender for an unprotected copy",
        path=str(path),
    )


def _corrupt(path: Path, why: object) -> CorruptDocument:
    return CorruptDocument(
        f"{path} is a damaged or incomplete PDF ({why}); ask the sender to send it again",
        path=str(path),
    )


def open_pdfium(data: bytes, path: Path, settings: ReaderSettings) -> pdfium.PdfDocument:
    """Open with PDFium (fast, C): tells encrypted and damaged files apart and counts the pages
    before any page is parsed, so that an over-long document is refused at once."""
    try:
        doc = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == pdfium_c.FPDF_ERR_PASSWORD:
            raise _encrypted(path) from exc
        raise _corrupt(path, exc) from exc
    count = len(doc)
    if count == 0:
        doc.close()
        raise _corrupt(path, "it has no pages")
    if count > settings.max_pages:
        doc.close()
        raise TooManyPages(
            f"{path} has {count} pages, more than the limit of {settings.max_pages}; it is probably not "
            "a single invoice: split it, or raise INVOICEBOT_MAX_PAGES",
            path=str(path),
        )
    return doc


def open_pdfplumber(data: bytes, path: Path) -> pdfplumber.PDF:
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        return pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        cause = exc.args[0] if exc.args else exc
        if isinstance(cause, PDFPasswordIncorrect):
            raise _encrypted(path) from exc
        raise _corrupt(path, cause) from exc
    except PDFPasswordIncorrect as exc:
        raise _encrypted(path) from exc
    except Exception as exc:  # pdfminer raises a zoo of errors on broken files
        raise _corrupt(path, exc) from exc


def text_layer_words(page: pdfplumber.page.Page) -> list[RawWord]:
    # In text-flow order the stray spaces that some generators draw over a label's first letters
    # (coolblue's "F actuurnummer:") come after the label in the stream and split nothing.
    out = []
    for w in _EXTRACTOR.extract_words(page.chars):
        out.append(
            RawWord(text=w["text"], x0=w["x0"], top=w["top"], x1=w["x1"], bottom=w["bottom"], upright=w["upright"])
        )
    return out


def is_usable(words: list[RawWord], settings: ReaderSettings) -> bool:
    """A text layer is used when it has enough words and they are not just glyph codes."""
    if len(words) < settings.min_text_words:
        return False
    coded = sum(1 for w in words if "(cid:" in w.text)
    return coded <= 0.3 * len(words)


def render_page(doc: pdfium.PdfDocument, index: int, path: Path, settings: ReaderSettings):
    """Render page ``index`` to a grayscale PIL image at ``settings.ocr_dpi`` (lowered for huge pages)."""
    page = doc[index]
    try:
        w_pt, h_pt = page.get_size()
        dpi = float(settings.ocr_dpi)
        pixels = (w_pt * dpi / 72) * (h_pt * dpi / 72)
        if pixels > settings.max_image_pixels:
            dpi = dpi * (settings.max_image_pixels / pixels) ** 0.5
            if dpi < 72:
                raise ImageTooLarge(
                    f"{path}: page {index + 1} measures {w_pt / 72:.0f} x {h_pt / 72:.0f} inches, too large to render "
                    f"for OCR within {settings.max_image_pixels:,} pixels; raise INVOICEBOT_MAX_IMAGE_PIXELS "
                    "or ask the sender for an ordinary page size",
                    path=str(path),
                )
            log.warning("%s page %d is very large; rendering it at %.0f dpi for OCR", path, index + 1, dpi)
        try:
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            image = bitmap.to_pil()
        except pdfium.PdfiumError as exc:
            raise _corrupt(path, f"page {index + 1} cannot be rendered: {exc}") from exc
        return image, dpi
    finally:
        page.close()


def ocr_pdf_page(
    doc: pdfium.PdfDocument, index: int, path: Path, settings: ReaderSettings
) -> tuple[list[Word], int, float, float]:
    image, dpi = render_page(doc, index, path, settings)
    return ocr_image(
        image,
        page=index + 1,
        dpi=int(round(dpi)),
        languages=settings.ocr_languages,
        detect_rotation_=settings.detect_rotation,
        unit_per_pixel=72.0 / dpi,
    )


def read_pdf(data: bytes, path: Path, settings: ReaderSettings) -> list[Page]:
    doc = open_pdfium(data, path, settings)
    try:
        with open_pdfplumber(data, path) as pdf:
            try:
                plumber_pages = pdf.pages
            except Exception as exc:
                raise _corrupt(path, exc) from exc
            pages = []
            for index, ppage in enumerate(plumber_pages):
                pages.append(_read_page(doc, index, ppage, path, settings))
                ppage.close()
            return pages
    finally:
        doc.close()


def _read_page(
    doc: pdfium.PdfDocument, index: int, ppage: pdfplumber.page.Page, path: Path, settings: ReaderSettings
) -> Page:
    started = time.perf_counter()
    number = index + 1
    try:
        raw = text_layer_words(ppage)
        width, height = float(ppage.width), float(ppage.height)
    except Exception as exc:  # a broken content stream: OCR what PDFium can draw
        log.warning("%s page %d: the text layer cannot be read (%s); reading it by OCR", path, number, exc)
        raw, width, height = [], 0.0, 0.0
    if is_usable(raw, settings):
        words = build_words(raw, width=width, height=height, page=number, source="text")
        source, rotation = "text", 0
    else:
        if raw:
            log.info("%s page %d: the text layer is not usable (%d words); reading it by OCR", path, number, len(raw))
        words, rotation, width, height = ocr_pdf_page(doc, index, path, settings)
        source = "ocr"
    return Page(
        number=number,
        width=width,
        height=height,
        source=source,
        words=words,
        rotation=rotation,
        seconds=round(time.perf_counter() - started, 4),
    )
