"""Read PDFs: the text layer with pdfplumber, page by page, and OCR where a page has no usable text."""

from __future__ import annotations

import io
import logging
import re
import time
import unicodedata
import zlib
from pathlib import Path
from typing import Any

import pdfplumber
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pdfplumber.utils.text import WordExtractor

from invoicebot.config import ReaderSettings
from invoicebot.errors import CorruptDocument, EncryptedDocument, FileTooLarge, ImageTooLarge, TooManyPages
from invoicebot.readers.grouping import RawWord, build_words
from invoicebot.readers.ocr import ocr_image, ocr_raw
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


#: How much one Flate stream that is not an image (page content, a font, an object stream: pdfminer parses them in
#: Python) may inflate to.  An invoice's page content is some kilobytes; a scan's is a line.
MAX_INFLATED_STREAM_BYTES = 16 * 1024 * 1024
#: An image stream may inflate to this many bytes per pixel of the reader's pixel limit (RGB).
_IMAGE_BYTES_PER_PIXEL = 3
_STREAM_START = re.compile(rb"(?<!end)stream\r?\n")
_FEED = 64 * 1024
#: A PNG or TIFF predictor's /Columns is an image's width or an xref stream's few fields: 99,999,999 columns of
#: 4 colours made pdfminer allocate 900 MB for a 1 KB file.
_COLUMNS = re.compile(rb"/Columns\s+(\d{7,})")
_MAX_PREDICTOR_COLUMNS = 1_000_000


def check_inflated_sizes(data: bytes, path: Path, settings: ReaderSettings) -> None:
    """Refuse a compression bomb before any parser inflates it: every Flate stream is inflated here into nothing,
    1 MiB at a time, and counted against its limit (a 1 MB file could otherwise make gigabytes of page content that
    pdfminer holds in memory, or an image that PDFium decodes in full, and abort the process)."""
    image_limit = _IMAGE_BYTES_PER_PIXEL * settings.max_image_pixels
    for m in _COLUMNS.finditer(data):  # pdfminer allocates a predictor's row before it reads a byte
        if int(m.group(1)) > _MAX_PREDICTOR_COLUMNS:
            raise _corrupt(path, f"a stream's predictor declares {int(m.group(1)):,} columns")
    for m in _STREAM_START.finditer(data):
        head = data[max(0, m.start() - 2048): m.start()]
        head = head[head.rfind(b"obj") + 1:]  # the stream's own dictionary (after "N 0 obj")
        if b"/Fl" not in head:  # /FlateDecode, or its abbreviation /Fl
            continue
        image = b"/Image" in head
        limit = image_limit if image else MAX_INFLATED_STREAM_BYTES
        inflater = zlib.decompressobj()
        total, pos = 0, m.end()
        while pos < len(data) and not inflater.eof:
            feed = data[pos:pos + _FEED]
            pos += _FEED
            while feed and not inflater.eof:  # past the end, the rest stays in unconsumed_tail: stop there
                try:
                    total += len(inflater.decompress(feed, 1 << 20))
                except zlib.error:  # broken data: the parsers report it, or read around it
                    feed, pos = b"", len(data)
                    break
                if total > limit:
                    what = "an image" if image else "a stream"
                    cls = ImageTooLarge if image else FileTooLarge
                    raise cls(
                        f"{path}: {what} in this PDF inflates to more than {limit:,} bytes from "
                        f"{pos - m.end():,} compressed (a compression bomb?); ask the sender for an ordinary PDF"
                        + (", or raise INVOICEBOT_MAX_IMAGE_PIXELS if the file is trusted" if image else ""),
                        path=str(path),
                    )
                feed = inflater.unconsumed_tail


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


def page_turn(chars: list[dict[str, Any]]) -> int:
    """Degrees (counter-clockwise) that turn the page's text upright: 90 or 270 when most text
    runs down or up the page (a page displayed with /Rotate, a table printed sideways), 180 when
    it is upside down, else 0."""
    visible = [c for c in chars if not c["text"].isspace()]
    if not visible:
        return 0
    sideways = [c for c in visible if not c["upright"]]
    if len(sideways) > 0.5 * len(visible):
        steps = [
            b["top"] - a["top"] for a, b in zip(sideways, sideways[1:], strict=False) if abs(b["x0"] - a["x0"]) < 1
        ]
        down = sum(1 for s in steps if s > 0)
        return 90 if down >= len(steps) - down else 270
    flipped = sum(1 for c in visible if c.get("matrix") and c["matrix"][0] < 0 and c["matrix"][3] < 0)
    if flipped > 0.5 * len(visible):
        return 180
    return 0


def turn_chars(chars: list[dict[str, Any]], turn: int, width: float, height: float) -> list[dict[str, Any]]:
    """Character boxes on the page turned ``turn`` degrees counter-clockwise, marked upright."""
    out = []
    for c in chars:
        x0, x1, top, bottom = c["x0"], c["x1"], c["top"], c["bottom"]
        if turn == 90:  # text ran down the page: the right edge becomes the top
            box = (top, width - x1, bottom, width - x0)
        elif turn == 270:  # text ran up the page: the left edge becomes the top
            box = (height - bottom, x0, height - top, x1)
        else:  # 180
            box = (width - x1, height - bottom, width - x0, height - top)
        out.append(
            {**c, "x0": box[0], "top": box[1], "x1": box[2], "bottom": box[3], "doctop": box[1], "upright": True}
        )
    return out


def page_chars(page: pdfplumber.page.Page) -> list[dict[str, Any]]:
    """The page's characters as ``page.chars`` gives them, with only the keys the reader uses (text, x0, x1,
    top, bottom, doctop, upright, size, matrix): pdfplumber's own layout of the page, without its
    conversion of every attribute of every character (two thirds of the time it takes to read a text page)."""
    from pdfminer.layout import LTChar, LTContainer

    mb_x0, mb_top = page.mediabox[:2]
    height, doctop = page.height, page.initial_doctop
    norm = page.pdf.unicode_norm
    out: list[dict[str, Any]] = []

    def walk(objs) -> None:
        for obj in objs:
            if isinstance(obj, LTContainer):
                walk(obj._objs)
            elif isinstance(obj, LTChar):
                text = obj.get_text()
                top = (height - obj.y1) + mb_top
                out.append({
                    "text": unicodedata.normalize(norm, text) if norm is not None else text,
                    "x0": obj.x0 + mb_x0 if mb_x0 != 0 else obj.x0,
                    "x1": obj.x1 + mb_x0 if mb_x0 != 0 else obj.x1,
                    "top": top, "bottom": (height - obj.y0) + mb_top, "doctop": doctop + top,
                    "upright": obj.upright, "size": obj.size, "matrix": obj.matrix,
                })

    walk(page.layout._objs)
    return out


def text_layer_words(page: pdfplumber.page.Page) -> tuple[list[RawWord], int, float, float]:
    """The text layer's words in upright page coordinates, the turn that made them upright, and
    the upright page's width and height."""
    width, height = float(page.width), float(page.height)
    chars = page_chars(page)
    turn = page_turn(chars)
    if turn:
        chars = turn_chars(chars, turn, width, height)
        if turn in (90, 270):
            width, height = height, width
    # In text-flow order the stray spaces that some generators draw over a label's first letters
    # (coolblue's "F actuurnummer:") come after the label in the stream and split nothing.
    spaces = [c for c in chars if c["text"].isspace()]
    out = []
    for w, _ in join_letter_spaced(list(_EXTRACTOR.iter_extract_tuples(chars)), spaces):
        out.append(
            RawWord(text=w["text"], x0=w["x0"], top=w["top"], x1=w["x1"], bottom=w["bottom"], upright=w["upright"])
        )
    return out, turn, width, height


def _letter_gaps(chars: list[dict]) -> list[float]:
    return [b["x0"] - a["x1"] for a, b in zip(chars, chars[1:], strict=False)]


def _spaced_continuation(prev: tuple[dict, list[dict]], cur: tuple[dict, list[dict]], spaces: list[dict]) -> bool:
    """Whether ``cur`` continues the letter-spaced word ``prev`` ("REMIT" "TANCE", "FAT" "TURA", "D" "E"): the
    letters on both sides of the break stand apart by a visible, even letter spacing, the break is no wider than
    that spacing (plus kerning), and no space character stands in it."""
    (a, ac), (b, bc) = prev, cur
    last, first = ac[-1], bc[0]
    size = max(last["size"], first["size"])
    if size <= 0 or abs(last["size"] - first["size"]) > 0.15 * size or abs(a["bottom"] - b["bottom"]) > 0.25 * size:
        return False
    if not (last["text"].isalpha() and first["text"].isalpha()):
        return False
    gap = first["x0"] - last["x1"]
    if not 0.08 * size <= gap <= 0.45 * size:
        return False
    pitch = _letter_gaps(ac[-3:]) + _letter_gaps(bc[:3])  # the letter spacing on both sides of the break
    if pitch and (min(pitch) < 0.08 * size or gap > max(pitch) + 0.12 * size):
        return False  # ordinary letters (no spacing between them) or a break wider than the spacing
    on_line = [s for s in spaces if abs(s["bottom"] - b["bottom"]) < 0.5 * size]
    if not pitch and not on_line:
        return False  # two single letters on a line drawn without space characters: words placed apart ("A" "B")
    return not any(s["x0"] >= last["x1"] - 0.5 and s["x1"] <= first["x0"] + 0.5 for s in on_line)


def join_letter_spaced(items: list[tuple[dict, list[dict]]], spaces: list[dict]) -> list[tuple[dict, list[dict]]]:
    """Join the pieces of letter-spaced words.  With letter spacing near pdfplumber's ``x_tolerance`` a spaced
    heading falls apart at uneven places ("REMIT TANCE ADVICE", "AVIS D E PAIEMENT"); the space characters that
    the PDF draws between the words tell the word breaks from the letter breaks.  ``items``: pdfplumber's
    (word, chars) pairs; ``spaces``: the page's space characters."""
    out: list[tuple[dict, list[dict]]] = []
    for word, chars in items:
        if out and chars and out[-1][1] and _spaced_continuation(out[-1], (word, chars), spaces):
            prev, prev_chars = out[-1]
            merged = {**prev, "text": prev["text"] + word["text"], "x1": max(prev["x1"], word["x1"]),
                      "top": min(prev["top"], word["top"]), "bottom": max(prev["bottom"], word["bottom"])}
            out[-1] = (merged, prev_chars + chars)
        else:
            out.append((word, chars))
    return out


def is_usable(words: list[RawWord], settings: ReaderSettings) -> bool:
    """A text layer is used when it has enough words and they are not just glyph codes."""
    if len(words) < settings.min_text_words:
        return False
    coded = sum(1 for w in words if "(cid:" in w.text)
    return coded <= 0.3 * len(words)


def render_page(doc: pdfium.PdfDocument, index: int, path: Path, settings: ReaderSettings):
    """Render page ``index`` to a grayscale PIL image at ``settings.ocr_dpi`` (lowered for huge pages)."""
    try:
        page = doc[index]
    except pdfium.PdfiumError as exc:  # PDFium counted the page but cannot load it
        raise _corrupt(path, f"page {index + 1} cannot be loaded: {exc}") from exc
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


#: An embedded image smaller than this (points) is a bullet or an icon, not worth OCR.
_MIN_IMAGE_SIDE = (30.0, 10.0)


def image_regions(page: pdfplumber.page.Page, words: list[RawWord]) -> list[tuple[float, float, float, float]]:
    """Boxes (points) of the page's embedded images that are large enough to hold text and that no
    text-layer word lies on (an image under a text layer is already read)."""
    regions = []
    for im in page.images:
        x0, top, x1, bottom = (
            max(0.0, float(im["x0"])),
            max(0.0, float(im["top"])),
            min(float(page.width), float(im["x1"])),
            min(float(page.height), float(im["bottom"])),
        )
        if x1 - x0 < _MIN_IMAGE_SIDE[0] or bottom - top < _MIN_IMAGE_SIDE[1]:
            continue
        covered = any(x0 <= (w.x0 + w.x1) / 2 <= x1 and top <= (w.top + w.bottom) / 2 <= bottom for w in words)
        if not covered:
            regions.append((x0, top, x1, bottom))
    return regions


def ocr_embedded_images(
    doc: pdfium.PdfDocument,
    index: int,
    ppage: pdfplumber.page.Page,
    words: list[RawWord],
    path: Path,
    settings: ReaderSettings,
) -> list[RawWord]:
    """OCR the text that a text page holds only in pictures (a logo with the vendor's name and
    address).  The page is rendered once; only the image areas are kept, and read in one pass."""
    from PIL import Image

    try:
        regions = image_regions(ppage, words)
    except Exception as exc:  # pdfminer cannot list the page's images: the text layer is read already
        log.warning("%s page %d: the pictures cannot be listed (%s); they are not read", path, index + 1, exc)
        return []
    if not regions:
        return []
    rendered, dpi = render_page(doc, index, path, settings)
    scale = dpi / 72.0
    # One pass over the smallest area that holds every picture: the blank rest costs Tesseract time.
    margin = 4.0
    ux0 = max(0, int((min(r[0] for r in regions) - margin) * scale))
    uy0 = max(0, int((min(r[1] for r in regions) - margin) * scale))
    ux1 = min(rendered.width, int((max(r[2] for r in regions) + margin) * scale) + 1)
    uy1 = min(rendered.height, int((max(r[3] for r in regions) + margin) * scale) + 1)
    canvas = Image.new("L", (ux1 - ux0, uy1 - uy0), 255)
    for x0, top, x1, bottom in regions:
        box = (int(x0 * scale), int(top * scale), int(x1 * scale) + 1, int(bottom * scale) + 1)
        canvas.paste(rendered.crop(box), (box[0] - ux0, box[1] - uy0))
    found, _, _ = ocr_raw(
        canvas, page=index + 1, dpi=int(round(dpi)), languages=settings.ocr_languages, detect_rotation_=False
    )
    out = []
    for w in found:
        out.append(
            RawWord(
                text=w.text,
                x0=(w.x0 + ux0) / scale,
                top=(w.top + uy0) / scale,
                x1=(w.x1 + ux0) / scale,
                bottom=(w.bottom + uy0) / scale,
                confidence=w.confidence,
                unit=("image", w.unit),
                source="ocr",
            )
        )
    return out


def read_pdf(data: bytes, path: Path, settings: ReaderSettings, *, ocr_images: bool = False) -> list[Page]:
    """Read every page: its text layer where usable, else OCR.  ``ocr_images``: also OCR the
    embedded images of text pages (logos holding the vendor's name), at the cost of one OCR pass
    per page that has such images.

    PDFium decides how many pages there are (it counted them against the page limit); pages that
    pdfminer finds beyond those (objects outside the page tree) are not read."""
    doc = open_pdfium(data, path, settings)
    try:
        check_inflated_sizes(data, path, settings)
        try:
            pdf = open_pdfplumber(data, path)
        except CorruptDocument as exc:
            # PDFium opened the file but pdfminer cannot parse it: PDFium can still draw the pages.
            log.warning("%s: the text layer cannot be parsed (%s); reading every page by OCR", path, exc.__cause__)
            return [_ocr_only_page(doc, index, path, settings) for index in range(len(doc))]
        try:
            plumber_pages = _plumber_pages(pdf, path)
            if plumber_pages is None:
                return [_ocr_only_page(doc, index, path, settings) for index in range(len(doc))]
            if len(plumber_pages) != len(doc):
                log.warning("%s: pdfminer finds %d pages where PDFium finds %d; reading PDFium's %d", path,
                            len(plumber_pages), len(doc), len(doc))
            pages = []
            for index in range(len(doc)):
                if index < len(plumber_pages):
                    pages.append(_read_page(doc, index, plumber_pages[index], path, settings, ocr_images))
                    _close_quietly(plumber_pages[index])
                else:
                    pages.append(_ocr_only_page(doc, index, path, settings))
            return pages
        finally:
            _close_quietly(pdf)  # pdfplumber's close() parses the page tree again: it fails as pdf.pages did
    finally:
        doc.close()


def _plumber_pages(pdf: pdfplumber.PDF, path: Path) -> list[pdfplumber.page.Page] | None:
    """pdfminer's pages, or None (said in the log) when its page tree cannot be parsed."""
    try:
        return list(pdf.pages)
    except Exception as exc:  # a zoo of errors on broken files, RecursionError on a deep page tree
        log.warning("%s: the page tree cannot be parsed by pdfminer (%s); reading every page by OCR", path, exc)
        return None


def _close_quietly(obj) -> None:
    try:
        obj.close()
    except Exception as exc:  # closing must not turn a document that was read into an error
        log.debug("closing %r failed: %s", obj, exc)


def _ocr_only_page(doc: pdfium.PdfDocument, index: int, path: Path, settings: ReaderSettings) -> Page:
    started = time.perf_counter()
    words, rotation, width, height = ocr_pdf_page(doc, index, path, settings)
    return Page(
        number=index + 1,
        width=width,
        height=height,
        source="ocr",
        words=words,
        rotation=rotation,
        seconds=round(time.perf_counter() - started, 4),
    )


def _read_page(
    doc: pdfium.PdfDocument,
    index: int,
    ppage: pdfplumber.page.Page,
    path: Path,
    settings: ReaderSettings,
    ocr_images: bool = False,
) -> Page:
    started = time.perf_counter()
    number = index + 1
    try:
        raw, turn, width, height = text_layer_words(ppage)
    except Exception as exc:  # a broken content stream: OCR what PDFium can draw
        log.warning("%s page %d: the text layer cannot be read (%s); reading it by OCR", path, number, exc)
        raw, turn, width, height = [], 0, 0.0, 0.0
    if is_usable(raw, settings):
        if ocr_images and not turn:
            raw = raw + ocr_embedded_images(doc, index, ppage, raw, path, settings)
        words = build_words(raw, width=width, height=height, page=number, source="text")
        source, rotation = "text", turn
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
