"""Tell what a file is from its first bytes (magic numbers), never from its name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from invoicebot.errors import UnsupportedDocument

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TIFF = "image/tiff"

#: Media types the readers accept, with the extensions such a file normally has.
SUPPORTED: dict[str, tuple[str, ...]] = {
    PDF: (".pdf",),
    PNG: (".png",),
    JPEG: (".jpg", ".jpeg", ".jpe", ".jfif"),
    TIFF: (".tif", ".tiff"),
}

SUPPORTED_TEXT = "PDF, PNG, JPEG or TIFF"

#: How many bytes of the head to read for sniffing (a PDF header may follow some junk).
HEAD_BYTES = 2048

# (prefix, description, hint) of formats people send that we do not read.
_KNOWN_UNSUPPORTED: tuple[tuple[bytes, str, str], ...] = (
    (b"MZ", "a Windows program (.exe/.dll)", "do not open it; report the email as suspicious"),
    (b"\x7fELF", "a Linux program (ELF)", "do not open it; report the email as suspicious"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Microsoft Office file (.doc/.xls/.msg)", "ask the sender for a PDF"),
    (b"GIF87a", "a GIF image", "convert it to PNG or ask the sender for a PDF"),
    (b"GIF89a", "a GIF image", "convert it to PNG or ask the sender for a PDF"),
    (b"BM", "a BMP image", "convert it to PNG or ask the sender for a PDF"),
    (b"{\\rtf", "an RTF document", "ask the sender for a PDF"),
    (b"Rar!", "a RAR archive", "unpack it and pass the PDF inside"),
    (b"\x1f\x8b", "a gzip archive", "unpack it and pass the PDF inside"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive", "unpack it and pass the PDF inside"),
    (b"%!PS", "a PostScript file", "convert it to PDF"),
)


def sniff(head: bytes) -> str | None:
    """Return the supported media type that ``head`` (the file's first bytes) starts, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")):
        return TIFF
    # The PDF spec lets the header sit anywhere in the first 1024 bytes.
    if b"%PDF-" in head[:1024]:
        return PDF
    return None


def describe_unsupported(head: bytes, data: bytes | None = None) -> tuple[str, str]:
    """Say in words what an unsupported file is, and what to do about it."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _describe_zip(data if data is not None else head)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image", "convert it to PNG or ask the sender for a PDF"
    for prefix, what, hint in _KNOWN_UNSUPPORTED:
        if head.startswith(prefix):
            return what, hint
    stripped = head.lstrip()
    lowered = stripped[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "an HTML page", "print it to PDF or ask the sender for a PDF"
    if lowered.startswith(b"<?xml"):
        if b"<invoice" in lowered or b"urn:oasis:names:specification:ubl" in lowered:
            return "an XML (e-)invoice", "import it with an e-invoice tool, or ask the sender for a PDF"
        return "an XML file", "ask the sender for a PDF"
    if _looks_like_text(head):
        return "plain text", "ask the sender for a PDF"
    return "a file of unknown type", "ask the sender for a PDF"


def _describe_zip(data: bytes) -> tuple[str, str]:
    names: list[str] = []
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        pass
    if any(n.startswith("word/") for n in names):
        return "a Word document (.docx)", "save it as PDF or ask the sender for a PDF"
    if any(n.startswith("xl/") for n in names):
        return "an Excel workbook (.xlsx)", "save it as PDF or ask the sender for a PDF"
    if any(n.startswith("ppt/") for n in names):
        return "a PowerPoint file (.pptx)", "save it as PDF or ask the sender for a PDF"
    if "mimetype" in names or "content.xml" in names:
        return "an OpenDocument file (.odt/.ods)", "save it as PDF or ask the sender for a PDF"
    return "a ZIP archive", "unpack it and pass the PDF inside"


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        try:
            text = head[:-3].decode("utf-8")  # the head may cut a multi-byte character
        except UnicodeDecodeError:
            return False
    printable = sum(ch.isprintable() or ch in "\r\n\t\f" for ch in text)
    return printable >= 0.95 * len(text)


def unsupported_error(path: Path, head: bytes, data: bytes | None = None) -> UnsupportedDocument:
    what, hint = describe_unsupported(head, data)
    return UnsupportedDocument(
        f"{path} is {what}, not a document the robot can read; supported are {SUPPORTED_TEXT}. What to do: {hint}.",
        path=str(path),
    )


def extension_matches(path: Path, media_type: str) -> bool:
    return path.suffix.lower() in SUPPORTED.get(media_type, ())
