"""Mailbox intake: turn vendor emails into documents, each taken once.

The engine side of the mailbox (no Robot Framework or rpaframework here): parse one email
(bytes or an ``.eml`` file) into a :class:`Message` with its document attachments, save the new
ones, remember what was taken in an :class:`AttachmentLedger`, and read a folder of ``.eml``
files as the embedded default inbox.

What real vendor mail carries and how it is handled:

- file names in RFC 2231 form (``filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf``, continuations
  ``filename*0*=``) and in encoded words (``=?UTF-8?B?...?=``) are decoded, then sanitised;
- the media type is decided by the content's magic bytes, never by ``Content-Type`` (vendors
  send PDFs as ``application/octet-stream``);
- inline logos and signature images (referenced from the HTML body by ``cid:``, inside
  ``multipart/related``, or small and not attached) are skipped with a reason;
- forwarded messages (``message/rfc822``) are walked into;
- ``.zip`` archives are expanded within limits (members, total size, compression ratio, nesting,
  path names); an archive over a limit is rejected with the reason, never a crash;
- the same content twice (in one mail, across mails, across runs) is known by SHA-256 and taken once.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import quopri
import re
import shutil
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from invoicebot.errors import InvoiceBotError

from .readers.detect import JPEG, PDF, PNG, TIFF  # the media types the readers read
from .readers.detect import sniff as sniff_document

ZIP = "application/zip"

log = logging.getLogger(__name__)

#: Media types that are documents for the readers, with the extension a saved file gets.
DOCUMENT_TYPES: dict[str, str] = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", TIFF: ".tif"}

#: Largest email parsed (bytes); a larger one is refused with MessageTooLarge.
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
#: An image below this size that is not explicitly attached is taken for a logo or signature.
SMALL_INLINE_IMAGE_BYTES = 16 * 1024
#: MIME nested deeper than this is not walked further (the mail goes to review with the reason).
MAX_MIME_DEPTH = 30
#: A mail with more parts than this is not walked further (the mail goes to review with the reason).
MAX_MIME_PARTS = 2000
#: Most documents taken from one mail; a mail with more goes to review whole (nothing of it is queued).
MAX_DOCUMENTS_PER_MESSAGE = int(os.environ.get("INVOICEBOT_MAX_MAIL_DOCUMENTS") or 50)
#: The headers read from a mail that is too large or cannot be parsed (to name it in the report).
_HEAD_BYTES = 64 * 1024

#: Folder names under a ``.eml`` folder inbox for handled mail.
PROCESSED = "processed"
REVIEW = "review"


# --------------------------------------------------------------------------------------- errors


class MailError(InvoiceBotError):
    """An email or the mail state cannot be handled as it is."""

    code = "MAIL"


class MessageTooLarge(MailError):
    code = "MESSAGE_TOO_LARGE"


class LedgerError(MailError):
    """The seen-ledger file is unreadable; the robot must not guess what it has taken."""

    code = "LEDGER"
    retryable = False


# ----------------------------------------------------------------------------------------- data


@dataclass(frozen=True)
class ZipLimits:
    """Limits on expanding ``.zip`` attachments; an archive over any of them is rejected."""

    max_members: int = 50
    max_total_bytes: int = 100 * 1024 * 1024  # uncompressed, over all members and nested archives
    max_ratio: float = 100.0  # uncompressed / compressed, checked on members of 64 KiB and more
    max_depth: int = 2  # a zip in a zip is depth 2
    ratio_min_bytes: int = 64 * 1024


@dataclass
class Attachment:
    """One part of an email that might be a document, with what the intake decided about it."""

    file_name: str  # sanitised, safe to use as a file name
    original_name: str  # as the sender named it (decoded), "" when unnamed
    media_type: str  # by content (magic bytes)
    declared_type: str  # the part's Content-Type, for the record only
    size: int
    sha256: str
    origin: str  # where in the message: "part 2", "part 3 > forwarded 'Subject' > part 2", "part 2 > a.zip > b.pdf"
    skip_reason: str = ""  # empty: a document to take
    note: str = ""  # a warning that does not stop the intake (e.g. a PDF without an end marker)
    data: bytes = field(default=b"", repr=False)

    @property
    def is_document(self) -> bool:
        return not self.skip_reason

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("data")
        return d


@dataclass
class Message:
    """One email: who, what, when, and its candidate attachments (documents and skipped parts)."""

    sender: str  # the address, lower case
    sender_name: str
    subject: str
    date: str  # ISO 8601 with offset, "" when the Date header is missing or unreadable
    message_id: str  # without angle brackets; "no-id-<hash>" when the mail has none
    attachments: list[Attachment] = field(default_factory=list)
    source: str = ""  # the .eml path or the IMAP uid
    raw_sha256: str = ""
    defects: list[str] = field(default_factory=list)
    #: Why a person must open this mail (too large, broken MIME, too many documents ...); empty when none.
    problems: list[str] = field(default_factory=list)

    @property
    def documents(self) -> list[Attachment]:
        return [a for a in self.attachments if a.is_document]

    @property
    def skipped(self) -> list[Attachment]:
        return [a for a in self.attachments if not a.is_document]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["attachments"] = [a.to_dict() for a in self.attachments]
        return d


@dataclass
class SavedAttachment:
    """What :func:`save_attachments` did with one attachment: ``saved`` or ``skipped`` (with why)."""

    status: str  # "saved" | "skipped"
    reason: str  # empty when saved
    path: str  # the saved file ("" when skipped)
    file_name: str
    sha256: str
    media_type: str
    size: int
    origin: str
    sender: str
    subject: str
    date: str
    message_id: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ------------------------------------------------------------------------------------- sniffing


def sniff_media_type(data: bytes) -> str:
    """Return the media type of ``data`` from its first bytes (``application/octet-stream`` if unknown)."""
    head = data[:2048]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):  # before the loose PDF test: a stored zip holds "%PDF-"
        with contextlib.suppress(zipfile.BadZipFile, OSError, ValueError):
            names = zipfile.ZipFile(io.BytesIO(data)).namelist()
            if "[Content_Types].xml" in names:
                return "application/vnd.openxmlformats-officedocument"
            if "mimetype" in names:
                return "application/vnd.oasis.opendocument"
        return ZIP
    document = sniff_document(head)  # the readers' own test for the types they read: one place for it
    if document is not None:
        return document
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "application/x-ole-storage"
    if head.startswith(b"BEGIN:VCALENDAR"):
        return "text/calendar"
    if head[:5].lower() in (b"<?xml", b"<html", b"<!doc"):
        return "text/xml" if head[:5].lower() == b"<?xml" else "text/html"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain"


# ----------------------------------------------------------------------------------- file names

_EXTENSIONS = {PDF: (".pdf",), PNG: (".png",), JPEG: (".jpg", ".jpeg", ".jpe"), TIFF: (".tif", ".tiff")}
_BAD_CHARS = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def decode_file_name(raw: str | None) -> str:
    """Decode a file name that still holds encoded words (``=?UTF-8?B?...?=``); others pass through."""
    if not raw:
        return ""
    name = str(raw)
    if "=?" in name and "?=" in name:
        with contextlib.suppress(Exception):
            name = str(make_header(decode_header(name)))
    return name


def sanitize_file_name(name: str, media_type: str = "", max_bytes: int = 150) -> str:
    """Make ``name`` safe as a file name on Linux, macOS and Windows; keep letters like ``ä``.

    Drops folders (``../../etc/passwd`` -> ``passwd``), control and reserved characters, leading
    dots; caps the length in UTF-8 bytes keeping the extension; adds the extension that the
    content's media type calls for when the name lacks it.
    """
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = _BAD_CHARS.sub("_", name)
    name = re.sub(r"\s+", " ", name).strip().lstrip(".").strip()
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    want = DOCUMENT_TYPES.get(media_type, "")
    if want and ("." + ext.lower()) not in _EXTENSIONS[media_type]:
        stem, ext = name, want[1:]
    stem = stem.strip() or "attachment"
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    suffix = f".{ext}" if ext else ""
    while len((stem + suffix).encode("utf-8")) > max_bytes and stem:
        stem = stem[:-1]
    return stem.rstrip(" .") + suffix or "attachment"


# -------------------------------------------------------------------------------------- parsing


def _header(msg: EmailMessage, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a malformed header the parser could not model (get_all would parse it again): its raw text
        value = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "") if hasattr(msg, "raw_items") else ""
    if value is None:
        return ""
    return re.sub(r"\s+", " ", str(value)).strip()


def _iso_date(raw: str) -> str:
    if not raw:
        return ""
    try:
        dt = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return ""
    if dt is None:
        return ""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.isoformat()


def _parts(msg: EmailMessage, max_depth: int = MAX_MIME_DEPTH) -> Iterator[EmailMessage]:
    """Every part of ``msg``, depth-first, without recursion and not below ``max_depth`` levels."""
    stack = [(msg, 0)]
    while stack:
        part, depth = stack.pop()
        yield part
        if depth < max_depth and part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend((p, depth + 1) for p in reversed(payload) if isinstance(p, EmailMessage))


def _html_cids(msg: EmailMessage) -> set[str]:
    """Content-IDs that an HTML body refers to with ``cid:``."""
    cids: set[str] = set()
    for part in _parts(msg):
        if part.get_content_type() == "text/html" and not part.get_filename():
            try:
                payload = part.get_payload(decode=True) or b""
            except Exception:  # a broken transfer encoding: no references to read
                continue
            if not isinstance(payload, bytes):
                continue
            for m in re.finditer(rb"cid:([^\"'\s>)]+)", payload, re.IGNORECASE):
                cids.add(m.group(1).decode("ascii", "replace").strip("<>").lower())
    return cids


_BOUNDARY_LINE = re.compile(r"^--([0-9A-Za-z'()+_,./:=?-]{1,70}?)(--)?[ \t\r]*$", re.MULTILINE)


def _recover_multipart(part: EmailMessage) -> EmailMessage | None:
    """A multipart whose boundary is missing or does not match its body (the parser then sees one text blob):
    parse it again with the delimiter its body does use.  None when the body shows no delimiter."""
    body = part.get_payload()
    if not isinstance(body, str) or not body:
        return None
    found = [m.group(1) for m in _BOUNDARY_LINE.finditer(body)]
    if not found:
        return None
    boundary = max(set(found), key=found.count)
    head = f'Content-Type: {part.get_content_type()}; boundary="{boundary}"\r\n\r\n'
    raw = head.encode("ascii") + body.encode("utf-8", "surrogateescape")
    try:
        again = BytesParser(policy=policy.default).parsebytes(raw)
    except Exception:
        return None
    return again if again.is_multipart() and again.get_payload() else None


class _Walker:
    def __init__(self, limits: ZipLimits):
        self.limits = limits
        self.out: list[Attachment] = []
        self.seen: dict[str, str] = {}  # sha256 -> origin of the first copy in this message
        self.problems: list[str] = []
        self.parts = 0

    def add(self, att: Attachment) -> None:
        if att.is_document:
            first = self.seen.get(att.sha256)
            if first is not None:
                att.skip_reason = f"duplicate: the same file as {first} of this message"
            else:
                self.seen[att.sha256] = att.origin
        self.out.append(att)

    def walk(self, msg: EmailMessage, origin: str, cids: set[str], in_related: bool = False, depth: int = 0) -> None:
        self.parts += 1
        where = origin or "the mail"
        if self.parts > MAX_MIME_PARTS:
            if self.parts == MAX_MIME_PARTS + 1:  # said once
                self.problems.append(f"the mail has more than {MAX_MIME_PARTS} MIME parts; only the first were read")
            return
        if depth > MAX_MIME_DEPTH:
            self.problems.append(f"{where} is nested deeper than {MAX_MIME_DEPTH} MIME levels; what lies below was not read")
            return
        if msg.get_content_type() in ("message/rfc822", "message/global"):
            inner = msg.get_payload()
            inner_msgs = [m for m in (inner if isinstance(inner, list) else [inner]) if isinstance(m, EmailMessage)]
            cte = str(msg.get("Content-Transfer-Encoding", "")).strip().lower()
            if cte in ("base64", "quoted-printable"):  # a forwarded mail sent encoded: the parser left it so
                try:
                    encoded = b"".join(m.as_bytes() for m in inner_msgs) if inner_msgs else b""
                    data = base64.b64decode(re.sub(rb"\s+", b"", encoded)) if cte == "base64" else quopri.decodestring(encoded)
                    inner_msgs = [BytesParser(policy=policy.default).parsebytes(data)] if data.strip() else []
                except Exception as exc:
                    self.problems.append(f"the forwarded mail in {where} cannot be decoded from {cte} "
                                         f"({type(exc).__name__}); open it by hand")
                    return
            for j, m in enumerate(inner_msgs, start=1):
                subj = _header(m, "Subject")[:60]
                label = f"forwarded '{subj}'" if len(inner_msgs) == 1 else f"forwarded {j} '{subj}'"
                self.walk(m, f"{origin or 'body'} > {label}", _html_cids(m) | cids, depth=depth + 1)
            return
        if msg.get_content_maintype() == "multipart" and not msg.is_multipart():
            recovered = _recover_multipart(msg)
            if recovered is None:
                self.problems.append(
                    f"{where} is a {msg.get_content_type()} without a usable boundary; its parts cannot be told apart"
                )
                return
            msg = recovered
        if msg.is_multipart():
            related = in_related or msg.get_content_type() == "multipart/related"
            for i, sub in enumerate(msg.iter_parts(), start=1):
                self.walk(sub, f"{origin} > part {i}" if origin else f"part {i}", cids, related, depth + 1)
            return
        self.leaf(msg, origin, cids, in_related)

    def leaf(self, part: EmailMessage, origin: str, cids: set[str], in_related: bool) -> None:
        try:
            raw_name = part.get_filename()
        except Exception:
            raw_name = None
        name = decode_file_name(raw_name)
        disposition = (part.get_content_disposition() or "").lower()
        ctype = part.get_content_type()
        origin = origin or "body"
        try:
            data = part.get_payload(decode=True)
        except Exception:
            data = None
        if not isinstance(data, bytes):
            data = b""
        media = sniff_media_type(data) if data else "application/x-empty"
        # Body text is not an attachment at all; a nameless "text" part whose bytes are a document is one.
        if (not name and disposition != "attachment" and part.get_content_maintype() == "text"
                and media not in DOCUMENT_TYPES and media != ZIP):
            return
        att = Attachment(
            file_name=sanitize_file_name(name or f"attachment-{origin.split()[-1]}", media),
            original_name=name,
            media_type=media,
            declared_type=ctype,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            origin=origin,
            data=data,
        )
        if not data:
            att.skip_reason = "empty part: no content to save"
            self.out.append(att)
            return
        if media == ZIP:
            self.expand_zip(att, depth=1, budget=[self.limits.max_total_bytes])
            return
        if media.startswith("image/"):
            cid = (part.get("Content-ID") or "").strip().strip("<>").lower()
            if cid and cid in cids:
                att.skip_reason = "inline image shown in the HTML body (a logo or signature), not a document"
            elif in_related and disposition != "attachment":
                att.skip_reason = "inline image of the message body (a logo or signature), not a document"
            elif disposition != "attachment" and att.size < SMALL_INLINE_IMAGE_BYTES and (cid or not name):
                att.skip_reason = f"small inline image ({att.size} bytes) without a file name, taken for a logo"
        if not att.skip_reason and media not in DOCUMENT_TYPES:
            att.skip_reason = f"not a document: the content is {media} (declared {ctype})"
        if media == PDF and b"%%EOF" not in data[-2048:]:
            att.note = "the PDF has no end marker (%%EOF): it may be cut short; the reader decides"
        self.add(att)

    def expand_zip(self, zatt: Attachment, depth: int, budget: list[int]) -> None:
        reason = self._zip_problem(zatt, depth, budget)
        if reason:
            zatt.skip_reason = f"zip rejected: {reason}"
            self.out.append(zatt)
            return
        zf = zipfile.ZipFile(io.BytesIO(zatt.data))
        members = [i for i in zf.infolist() if not i.filename.endswith("/")]  # is_dir() fails on a nameless member
        for info in members:
            origin = f"{zatt.origin} > {zatt.original_name or zatt.file_name} > {info.filename}"
            try:
                with zf.open(info) as fh:
                    data = fh.read(min(budget[0], info.file_size) + 1)
            except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
                self.out.append(
                    Attachment(
                        sanitize_file_name(info.filename),
                        info.filename,
                        "application/octet-stream",
                        ZIP,
                        info.file_size,
                        "",
                        origin,
                        skip_reason=f"zip member unreadable: {exc}",
                    )
                )
                continue
            if len(data) > info.file_size or len(data) > budget[0]:
                zatt.skip_reason = (
                    f"zip rejected: member {info.filename!r} holds more than it declares or the "
                    f"total passes {self.limits.max_total_bytes} bytes"
                )
                self.out.append(zatt)
                return
            budget[0] -= len(data)
            media = sniff_media_type(data)
            att = Attachment(
                file_name=sanitize_file_name(info.filename, media),
                original_name=info.filename,
                media_type=media,
                declared_type=f"zip member of {zatt.file_name}",
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
                origin=origin,
                data=data,
            )
            if media == ZIP:
                self.expand_zip(att, depth + 1, budget)
                continue
            if media not in DOCUMENT_TYPES:
                att.skip_reason = f"not a document: the zip member is {media}"
            self.add(att)

    def _zip_problem(self, zatt: Attachment, depth: int, budget: list[int]) -> str:
        lim = self.limits
        if depth > lim.max_depth:
            return f"archives nested deeper than {lim.max_depth} levels"
        try:
            zf = zipfile.ZipFile(io.BytesIO(zatt.data))
            infos = zf.infolist()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            return f"not a readable zip archive ({exc})"
        files = [i for i in infos if not i.filename.endswith("/")]
        if len(files) > lim.max_members:
            return f"{len(files)} members, more than the limit of {lim.max_members}"
        for i in infos:
            n = i.filename
            parts = re.split(r"[/\\]", n)
            if n.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", n) or ".." in parts:
                return f"member name {n!r} points outside the archive (path traversal)"
            if i.flag_bits & 0x1:
                return f"member {n!r} is password-protected; ask the sender for the file without a password"
        total = sum(i.file_size for i in files)
        if total > budget[0]:
            return f"{total} bytes uncompressed, more than the limit of {lim.max_total_bytes}"
        for i in files:
            if i.file_size >= lim.ratio_min_bytes and i.file_size > lim.max_ratio * max(i.compress_size, 1):
                return (
                    f"member {i.filename!r} expands {i.file_size / max(i.compress_size, 1):.0f} times, "
                    f"more than the limit of {lim.max_ratio:.0f} (a zip bomb?)"
                )
        return ""


def _headers_only(raw: bytes) -> EmailMessage:
    """The headers of a mail whose body is not read (too large or unparseable), to name it in the report."""
    head = raw[:_HEAD_BYTES]
    cut = re.search(rb"\r?\n\r?\n", head)
    head = head[: cut.start()] if cut else head
    try:
        return BytesParser(policy=policy.default).parsebytes(head + b"\r\n\r\n", headersonly=True)
    except Exception:
        return EmailMessage()


def parse_message(source: bytes | str | os.PathLike[str], *, ref: str = "", limits: ZipLimits | None = None) -> Message:
    """Parse an email (raw bytes or the path of an ``.eml`` file) into a :class:`Message`.

    ``ref`` says where the mail came from (an IMAP uid); for a path it defaults to the path.  Whatever the
    mail holds, a Message comes back: one that is too large (over MAX_MESSAGE_BYTES), whose MIME cannot be
    parsed or walked, or that holds more than MAX_DOCUMENTS_PER_MESSAGE documents has its reasons in
    ``problems`` (and no documents), so that the robot sends it to a person instead of failing the run.
    Raises MailError only when an ``.eml`` file cannot be read at all.
    """
    if isinstance(source, bytes | bytearray):
        raw = bytes(source)
    else:
        path = Path(source)
        try:
            size = path.stat().st_size
            raw = path.read_bytes() if size <= MAX_MESSAGE_BYTES else _read_head(path)
        except OSError as exc:
            raise MailError(
                f"cannot read email file {path}: {exc.strerror}; check that it exists and is readable", path=str(path)
            ) from exc
        ref = ref or str(path)
        if size > MAX_MESSAGE_BYTES:
            return _problem_message(raw, ref, f"the mail is {size:,} bytes, more than the limit of "
                                    f"{MAX_MESSAGE_BYTES:,}; it was not opened: handle it by hand", whole=False)
    if len(raw) > MAX_MESSAGE_BYTES:
        return _problem_message(raw, ref, f"the mail is {len(raw):,} bytes, more than the limit of "
                                f"{MAX_MESSAGE_BYTES:,}; it was not opened: handle it by hand")
    try:
        msg = BytesParser(policy=policy.default).parsebytes(raw)
        walker = _Walker(limits or ZipLimits())
        walker.walk(msg, "", _html_cids(msg))
    except (RecursionError, MemoryError) as exc:
        return _problem_message(raw, ref, f"the mail's MIME structure is too deep or too large to read "
                                f"({type(exc).__name__}); open it by hand")
    except Exception as exc:  # the parser's and the walk's errors on malformed mail vary: never stop the intake
        return _problem_message(raw, ref, f"the mail cannot be parsed ({type(exc).__name__}: {exc}); open it by hand")
    message = _message_of(msg, raw, ref, walker.out)
    message.problems = list(walker.problems)
    documents = message.documents
    if len(documents) > MAX_DOCUMENTS_PER_MESSAGE:
        message.problems.append(f"the mail holds {len(documents)} documents, more than the limit of "
                                f"{MAX_DOCUMENTS_PER_MESSAGE} per mail (INVOICEBOT_MAX_MAIL_DOCUMENTS); none was "
                                "queued: split it or raise the limit")
        for att in documents:
            att.skip_reason = f"not taken: the mail holds more than {MAX_DOCUMENTS_PER_MESSAGE} documents"
    return message


def _read_head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(_HEAD_BYTES)


def _message_of(msg: EmailMessage, raw: bytes, ref: str, attachments: list[Attachment]) -> Message:
    raw_sha = hashlib.sha256(raw).hexdigest()
    try:
        addrs = getaddresses([_header(msg, "From")])
    except Exception:
        addrs = []
    sender_name, sender = addrs[0] if addrs else ("", "")
    message_id = _header(msg, "Message-ID").strip().strip("<>").strip()
    try:
        defects = [type(d).__name__ for d in msg.defects]
    except Exception:
        defects = []
    return Message(
        sender=sender.lower(),
        sender_name=sender_name,
        subject=_header(msg, "Subject"),
        date=_iso_date(_header(msg, "Date")),
        message_id=message_id or f"no-id-{raw_sha[:16]}",
        attachments=attachments,
        source=ref,
        raw_sha256=raw_sha,
        defects=defects,
    )


def _problem_message(raw: bytes, ref: str, problem: str, *, whole: bool = True) -> Message:
    """A mail that was not read: its headers, no attachments, and why (``whole``: ``raw`` is the whole mail)."""
    message = _message_of(_headers_only(raw), raw, ref, [])
    if not whole:  # only the head was read: the hash of the head does not name the mail
        message.raw_sha256 = ""
    message.problems = [problem]
    return message


# --------------------------------------------------------------------------------------- ledger


class AttachmentLedger:
    """What the robot has taken: sha256 -> first message id, file name, path, status, time.

    An append-only JSON Lines file: a line per attachment taken (``"op": "take"``) and a line per change of
    its status (``"op": "status"``), each batch appended under a lock and fsynced once, so that a mail's
    attachments cost one write whatever the ledger's size, and two runs do not lose each other's records.
    A last line cut short by a crash (no newline, no valid JSON) is dropped when read and cut off before
    the next write; a damaged line before it stops the robot with the line's number, because then the
    ledger no longer says what was taken.  A ledger of the earlier single-JSON format is read and rewritten
    as JSON Lines on the first write.

    ``status``: ``saved`` (the file is saved, its work item not yet made), then ``queued`` (the work item
    exists); later stages may set ``processed`` or ``review``.
    """

    VERSION = 2

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._entries: dict[str, dict[str, Any]] = {}
        self._offset = 0  # bytes of the file read so far
        self._inode: tuple[int, int] | None = None
        self._legacy = False
        with self._locked():
            self._refresh()

    # -- reading
    def _refresh(self) -> None:
        """Read what other writers appended since we last read (the whole file when it was replaced)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._entries, self._offset, self._inode = {}, 0, None
            return
        inode = (st.st_dev, st.st_ino)
        if inode != self._inode or st.st_size < self._offset:
            self._entries, self._offset, self._inode, self._legacy = {}, 0, inode, False
        if st.st_size == self._offset:
            return
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self._offset)
                chunk = fh.read()
        except OSError as exc:
            raise LedgerError(
                f"the attachment ledger {self.path} cannot be read ({exc.strerror}); check its permissions",
                path=str(self.path),
            ) from exc
        if self._offset == 0 and chunk.lstrip()[:1] == b"{" and b'"entries"' in chunk[:4096]:
            if self._read_legacy(chunk):
                self._offset = len(chunk)
                return
        lines = chunk.split(b"\n")
        complete, tail = lines[:-1], lines[-1]
        for n, line in enumerate(complete):
            if not line.strip():
                continue
            try:
                self._apply(json.loads(line))
            except (ValueError, TypeError, KeyError) as exc:
                raise LedgerError(
                    f"line {self._line_count_before() + n} of the attachment ledger {self.path} is damaged ({exc}); restore the file from a "
                    "backup, or remove that line (then that attachment may be taken again)",
                    path=str(self.path),
                ) from exc
        self._offset += len(chunk) - len(tail)
        if tail.strip():  # a last line without its newline: whole (the newline was lost) or cut short by a crash
            try:
                self._apply(json.loads(tail))
                self._offset += len(tail)
            except (ValueError, TypeError, KeyError):
                log.warning("%s: the last line was cut short (a crash while writing?); it is ignored", self.path)

    def _line_count_before(self) -> int:
        """The number of the first line not read yet (for an error message only: it reads what was read)."""
        if self._offset == 0:
            return 1
        with open(self.path, "rb") as fh:
            return fh.read(self._offset).count(b"\n") + 1

    def _read_legacy(self, chunk: bytes) -> bool:
        try:
            data = json.loads(chunk)
        except ValueError as exc:
            raise LedgerError(
                f"the attachment ledger {self.path} is unreadable ({exc}); restore it from a backup or "
                "move it aside to start afresh (then earlier attachments may be taken again)",
                path=str(self.path),
            ) from exc
        if not isinstance(data, dict) or not isinstance(data.get("entries"), dict):
            raise LedgerError(
                f"the attachment ledger {self.path} has no 'entries' object; it is not a ledger file",
                path=str(self.path),
            )
        self._entries = {k: dict(v) for k, v in data["entries"].items()}
        self._legacy = True
        return True

    def _apply(self, rec: dict[str, Any]) -> None:
        sha = rec["sha256"]
        if rec.get("op", "take") == "take":
            self._entries.setdefault(sha, {k: v for k, v in rec.items() if k not in ("op", "sha256")})
        elif sha in self._entries:
            self._entries[sha]["status"] = rec["status"]

    # -- writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock = self.path.with_name(self.path.name + ".lock")
        with open(lock, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _append(self, records: list[dict[str, Any]]) -> None:
        """Append ``records`` (under the lock, after a refresh) with one fsync; convert a legacy file first."""
        if not records and not self._legacy:
            return
        if self._legacy:
            records = [{"op": "take", "sha256": k, **v} for k, v in self._entries.items()] + records
            self._rewrite(records)
            return
        data = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n" for r in records)
        try:
            with open(self.path, "ab") as fh:
                end = fh.seek(0, os.SEEK_END)
                if end > self._offset:  # a torn last line: cut it off so that the new lines start clean
                    fh.truncate(self._offset)
                fh.write(data.encode("utf-8"))
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise LedgerError(
                f"cannot write the attachment ledger {self.path}: {exc.strerror}; check free space and "
                "permissions (nothing of this mail was recorded: it is taken again on the next run)",
                path=str(self.path),
            ) from exc
        st = self.path.stat()
        self._inode, self._offset = (st.st_dev, st.st_ino), st.st_size

    def _rewrite(self, records: list[dict[str, Any]]) -> None:
        fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                for r in records:
                    fh.write(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        self._legacy = False
        self._entries = {}
        self._offset, self._inode = 0, None
        self._refresh()

    # -- the ledger's API
    def __contains__(self, sha256: str) -> bool:
        return sha256 in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, sha256: str) -> dict[str, Any] | None:
        with self._locked():
            self._refresh()
        return self._entries.get(sha256)

    def record_many(self, items: list[dict[str, Any]]) -> set[str]:
        """Record attachments as taken (each a dict with ``sha256``, ``message_id``, ``file_name``, ``path`` and
        optionally ``status``) in one write; return the hashes that were new (the others another run took)."""
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._locked():
            self._refresh()
            new, records = set(), []
            for item in items:
                sha = item["sha256"]
                if sha in self._entries or sha in new:
                    continue
                new.add(sha)
                records.append({"op": "take", "sha256": sha, "message_id": item.get("message_id", ""),
                                "file_name": item.get("file_name", ""), "path": item.get("path", ""),
                                "status": item.get("status", "saved"), "first_seen": now})
            self._append(records)
            for r in records:
                self._apply(r)
        return new

    def record(self, sha256: str, *, message_id: str, file_name: str, path: str = "", status: str = "saved") -> bool:
        """Record ``sha256`` as taken; return False (and change nothing) when it was already there."""
        return bool(self.record_many([{"sha256": sha256, "message_id": message_id, "file_name": file_name,
                                       "path": path, "status": status}]))

    def set_status_many(self, sha256s: list[str], status: str) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        with self._locked():
            self._refresh()
            missing = [s for s in sha256s if s not in self._entries]
            if missing:
                raise LedgerError(f"attachment {missing[0][:12]}… is not in the ledger {self.path}; save it first")
            records = [{"op": "status", "sha256": s, "status": status, "time": now} for s in sha256s
                       if self._entries[s].get("status") != status]
            self._append(records)
            for r in records:
                self._apply(r)

    def set_status(self, sha256: str, status: str) -> None:
        self.set_status_many([sha256], status)


# ----------------------------------------------------------------------------------------- save


def _unique_target(out_dir: Path, name: str, sha256: str) -> tuple[Path, bool]:
    """Where to write ``name``; (path, True) when a file with the same content is already there."""
    target = out_dir / name
    if not target.exists():
        return target, False
    if hashlib.sha256(target.read_bytes()).hexdigest() == sha256:
        return target, True
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    alt = out_dir / f"{stem}-{sha256[:8]}{'.' + ext if ext else ''}"
    return alt, alt.exists()


#: Ledger statuses that say an attachment's work item exists (a rerun over the same mail queues it no more).
QUEUED_STATUSES = frozenset({"queued", "processed", "review"})


def _write_file(target: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".part-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise MailError(
            f"cannot write {target}: {exc.strerror}; check free space and permissions (nothing of this mail "
            "was recorded: it is taken again on the next run)", path=str(target)
        ) from exc


def save_attachments(
    message: Message, out_dir: str | os.PathLike[str], ledger: AttachmentLedger | None = None
) -> list[SavedAttachment]:
    """Save the new documents of ``message`` into ``out_dir``; report every attachment.

    A document whose SHA-256 the ledger holds from another mail is skipped as a duplicate (with the message
    it first came in).  One the ledger holds from this same mail is the work of an earlier run that was
    stopped: ``saved`` there (its work item was never made) it is saved again, to be queued; ``queued`` it
    is skipped as already queued.  Every file is written and fsynced before the ledger records it, and the
    whole mail is recorded in one ledger write.  Without a ledger only duplicates within this message are
    caught.  Returns one :class:`SavedAttachment` per attachment, saved or skipped, in message order.
    """
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MailError(
            f"cannot create the attachment folder {out}: {exc.strerror}; check the path and permissions", path=str(out)
        ) from exc
    results: list[SavedAttachment | None] = []
    pending: list[tuple[int, Attachment, Path, dict[str, Any]]] = []
    for att in message.attachments:
        base = dict(
            file_name=att.file_name,
            sha256=att.sha256,
            media_type=att.media_type,
            size=att.size,
            origin=att.origin,
            sender=message.sender,
            subject=message.subject,
            date=message.date,
            message_id=message.message_id,
        )
        if not att.is_document:
            results.append(SavedAttachment(status="skipped", reason=att.skip_reason, path="", **base))
            continue
        seen = ledger.get(att.sha256) if ledger is not None else None
        if seen is not None and seen.get("message_id") == message.message_id:
            if seen.get("status") in QUEUED_STATUSES:
                reason = f"already queued from this mail by an earlier run ({seen.get('first_seen')})"
                results.append(SavedAttachment(status="skipped", reason=reason, path="", **base))
                continue
            # saved by an earlier run of this mail that stopped before its work item was made: queue it now
            target = Path(seen.get("path") or out / seen.get("file_name", att.file_name))
            if not target.is_file() or hashlib.sha256(target.read_bytes()).hexdigest() != att.sha256:
                target, present = _unique_target(out, att.file_name, att.sha256)
                if not present:
                    _write_file(target, att.data)
            base["file_name"] = target.name
            results.append(SavedAttachment(status="saved", reason="", path=str(target), **base))
            continue
        if seen is not None:
            reason = (
                f"duplicate: already taken as {seen.get('file_name')!r} from message "
                f"{seen.get('message_id')} on {seen.get('first_seen')}"
            )
            results.append(SavedAttachment(status="skipped", reason=reason, path="", **base))
            continue
        target, present = _unique_target(out, att.file_name, att.sha256)
        if not present:
            _write_file(target, att.data)
        base["file_name"] = target.name
        pending.append((len(results), att, target, base))
        results.append(None)
    if ledger is not None and pending:
        new = ledger.record_many([{"sha256": att.sha256, "message_id": message.message_id,
                                   "file_name": target.name, "path": str(target)} for _, att, target, _ in pending])
    else:
        new = {att.sha256 for _, att, _, _ in pending}
    for i, att, target, base in pending:
        if att.sha256 in new:
            results[i] = SavedAttachment(status="saved", reason="", path=str(target), **base)
        else:
            results[i] = SavedAttachment(status="skipped", reason="duplicate: another run took it a moment ago",
                                         path="", **{**base, "file_name": att.file_name})
    return [r for r in results if r is not None]


def mark_queued(ledger: AttachmentLedger, sha256s: list[str]) -> None:
    """Record that the work items of these attachments exist (one ledger write)."""
    ledger.set_status_many(list(dict.fromkeys(sha256s)), "queued")


# ------------------------------------------------------------------------------ folder of .eml


def iter_eml_folder(folder: str | os.PathLike[str], *, limits: ZipLimits | None = None) -> Iterator[Message]:
    """Yield the messages of the ``.eml`` files directly in ``folder`` (not in processed/ or review/), by name."""
    root = Path(folder)
    if not root.is_dir():
        raise MailError(
            f"mail folder {root} does not exist or is not a folder; give the folder that holds the .eml files",
            path=str(root),
        )
    for path in sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() == ".eml"):
        yield parse_message(path, limits=limits)


def mark_eml(message_or_path: Message | str | os.PathLike[str], where: str = PROCESSED) -> Path:
    """Move an ``.eml`` file into ``processed/`` or ``review/`` beside it (never deletes); return the new path."""
    if where not in (PROCESSED, REVIEW):
        raise MailError(f"unknown mail folder {where!r}; use {PROCESSED!r} or {REVIEW!r}")
    src = Path(message_or_path.source if isinstance(message_or_path, Message) else message_or_path)
    if not src.is_file():
        raise MailError(f"email file {src} is not there any more; was it moved already?", path=str(src))
    dest_dir = src.parent / where
    dest_dir.mkdir(exist_ok=True)
    dest = dest_dir / src.name
    n = 1
    while dest.exists():
        dest = dest_dir / f"{src.stem}.{n}{src.suffix}"
        n += 1
    shutil.move(str(src), str(dest))
    return dest
