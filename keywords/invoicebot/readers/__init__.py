"""Document readers: a file in, pages of words with boxes out.

``read_document`` tells the file type from its content (never from its name), then hands it to
the reader for that type: PDFs are read from their text layer page by page, with OCR for pages
that have no usable text; PNG, JPEG and TIFF images are read by OCR.  Every refusal is a
:class:`~invoicebot.errors.InvoiceBotError` whose message names the file and what to do.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from pathlib import Path

from invoicebot.config import ReaderSettings
from invoicebot.errors import DocumentNotFound, EmptyDocument, FileTooLarge
from invoicebot.readers.detect import (
    HEAD_BYTES,
    JPEG,
    PDF,
    PNG,
    SUPPORTED,
    TIFF,
    extension_matches,
    sniff,
    unsupported_error,
)
from invoicebot.readers.image import read_image
from invoicebot.readers.pdf import read_pdf
from invoicebot.schema import Document, Page

log = logging.getLogger("invoicebot.readers")

Reader = Callable[[bytes, Path, ReaderSettings], list[Page]]

#: One reader per media type, all with the same small contract.
READERS: dict[str, Reader] = {PDF: read_pdf, PNG: read_image, JPEG: read_image, TIFF: read_image}

__all__ = ["READERS", "SUPPORTED", "ReaderSettings", "detect_type", "read_document"]


def _load(path: Path, settings: ReaderSettings) -> bytes:
    try:
        st = path.stat()
    except FileNotFoundError as exc:
        raise DocumentNotFound(
            f"{path} does not exist; check the path (was the attachment saved?)", path=str(path)
        ) from exc
    except OSError as exc:
        raise DocumentNotFound(f"{path} cannot be accessed ({exc.strerror}); check the path", path=str(path)) from exc
    if path.is_dir():
        raise DocumentNotFound(f"{path} is a folder, not a document file; pass the path of a file", path=str(path))
    if st.st_size == 0:
        raise EmptyDocument(f"{path} is empty (0 bytes); ask the sender to send the document again", path=str(path))
    if st.st_size > settings.max_file_bytes:
        raise FileTooLarge(
            f"{path} has {st.st_size:,} bytes, more than the limit of {settings.max_file_bytes:,}; "
            "ask the sender for a smaller file, or raise INVOICEBOT_MAX_FILE_BYTES",
            path=str(path),
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DocumentNotFound(
            f"{path} cannot be read ({exc.strerror}); check its permissions", path=str(path)
        ) from exc


def detect_type(path: str | os.PathLike[str]) -> str:
    """The media type of ``path`` from its first bytes; raises UnsupportedDocument for other files."""
    p = Path(path)
    data = _load(p, ReaderSettings.from_env())
    media = sniff(data[:HEAD_BYTES])
    if media is None:
        raise unsupported_error(p, data[:HEAD_BYTES], data)
    return media


def read_document(
    path: str | os.PathLike[str], settings: ReaderSettings | None = None, *, ocr_images: bool | None = None
) -> Document:
    """Read a PDF, PNG, JPEG or TIFF file into a :class:`Document` of pages of words with boxes.

    ``ocr_images``: also OCR the pictures on PDF pages that have a text layer (a logo that holds
    the vendor's name); words found there have source "ocr".  Default: the ``ocr_images``
    reader setting when there is one, else off (it costs one OCR pass per page with pictures).

    Raises DocumentNotFound, EmptyDocument, FileTooLarge, UnsupportedDocument, CorruptDocument,
    EncryptedDocument, TooManyPages, ImageTooLarge (the document) or OcrUnavailable (the set-up).
    """
    settings = settings or ReaderSettings.from_env()
    p = Path(path)
    data = _load(p, settings)
    if not data.strip(b" \t\r\n\x00"):
        raise EmptyDocument(
            f"{p} holds only blank bytes, no document; ask the sender to send the document again", path=str(p)
        )
    head = data[:HEAD_BYTES]
    media = sniff(head)
    if media is None:
        raise unsupported_error(p, head, data)
    if not extension_matches(p, media):
        log.warning(
            "%s is named %r but its content is %s; reading it as %s",
            p,
            p.suffix or "(no extension)",
            media,
            media,
        )
    if media == PDF:
        if ocr_images is None:
            ocr_images = bool(getattr(settings, "ocr_images", False))
        pages = read_pdf(data, p, settings, ocr_images=ocr_images)
    else:
        pages = READERS[media](data, p, settings)
    return Document(path=str(p), media_type=media, pages=pages, sha256=hashlib.sha256(data).hexdigest())
