"""Byte-level mutations shared by the families, and a minimal PDF writer for hand-built structures."""

from __future__ import annotations

import random
import re
import zlib

#: Tokens that parsers treat specially; spliced into inputs in place of random bytes.
INTERESTING = [
    b"0", b"-1", b"4294967295", b"4294967296", b"9223372036854775808", b"999999999999999", b"1e308", b"NaN",
    b"()", b"(", b")", b"<<", b">>", b"[", b"]", b"R", b" 0 R", b"obj", b"endobj", b"stream", b"endstream",
    b"\x00", b"\xff" * 4, b"%%EOF", b"xref", b"trailer", b"/", b"\\", b"\r\n", b"\n\n", b"=?", b"--", b"\x80",
]


def bit_flips(data: bytes, rng: random.Random, most: int = 32) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, most)):
        i = rng.randrange(len(out))
        out[i] ^= 1 << rng.randrange(8)
    return bytes(out)


def byte_splices(data: bytes, rng: random.Random, most: int = 8) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, most)):
        i = rng.randrange(len(out))
        token = rng.choice(INTERESTING) if rng.random() < 0.7 else rng.randbytes(rng.randint(1, 16))
        cut = rng.randint(0, 8)
        out[i:i + cut] = token
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randint(1, max(1, len(data) - 1))]


def chunk_shuffle(data: bytes, rng: random.Random) -> bytes:
    """Duplicate, drop or move one line-sized chunk (structure-aware enough for text formats)."""
    lines = data.split(b"\n")
    if len(lines) < 3:
        return bit_flips(data, rng)
    i = rng.randrange(len(lines))
    op = rng.choice(("drop", "dup", "move"))
    if op == "drop":
        del lines[i]
    elif op == "dup":
        lines.insert(i, lines[i] * rng.choice((1, 2, 50)))
    else:
        lines.insert(rng.randrange(len(lines)), lines.pop(i))
    return b"\n".join(lines)


def splice(a: bytes, b: bytes, rng: random.Random) -> bytes:
    """Crossover: a head of one input with a tail of another."""
    return a[: rng.randint(1, len(a))] + b[rng.randint(0, len(b) - 1):]


def havoc(data: bytes, rng: random.Random) -> bytes:
    """A few mutations stacked, as AFL's havoc stage does."""
    for _ in range(rng.randint(2, 5)):
        data = rng.choice((bit_flips, byte_splices, chunk_shuffle))(data, rng) or b"\x00"
    return data


def sub_numbers(data: bytes, key: bytes, rng: random.Random, values: list[bytes]) -> bytes:
    """Replace the number after ``key`` (``/Length 123``) with one of ``values``, at every place."""
    return re.sub(re.escape(key) + rb"\s+-?\d+", lambda m: key + b" " + rng.choice(values), data)


# --------------------------------------------------------------------------------------- PDF writer

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def text_content(lines: list[str]) -> bytes:
    ops = [b"BT /F1 11 Tf 60 780 Td 14 TL"]
    for line in lines:
        ops.append(b"(" + line.encode("latin-1").replace(b"(", b"[").replace(b")", b"]") + b") '")
    ops.append(b"ET")
    return b"\n".join(ops)


def stream(body: bytes, extra: bytes = b"", compress: bool = False, length: int | None = None) -> bytes:
    if compress:
        body = zlib.compress(body, 9)
        extra += b" /Filter /FlateDecode"
    n = len(body) if length is None else length
    return b"<< /Length %d%s >>\nstream\n" % (n, extra) + body + b"\nendstream"


def build_pdf(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF with a classic xref table of ``objects`` (numbered from 1)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, root, trailer_extra, xref)
    return bytes(out)


def invoice_lines(rng: random.Random) -> list[str]:
    n = rng.randint(1000, 99999)
    return ["ACME Supplies Ltd", "1 Main Street, Bristol", f"Invoice number: INV-{n}", "Invoice date: 2024-03-01",
            "Item  Qty  Amount", "Widgets  2  20.00", "Total: 24.00 EUR", "VAT 20%: 4.00"]


def pages_pdf(count: int, rng: random.Random, *, declared: int | None = None) -> bytes:
    """``count`` pages of a little text each, one flat page tree (``/Count`` says ``declared``)."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", FONT]
    kids = []
    content = stream(text_content(invoice_lines(rng)))
    objects.append(content)  # one content stream shared by every page: 2,000 pages stay small
    for _ in range(count):
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (count if declared is None else declared, b" ".join(kids))
    return build_pdf(objects)


def deep_page_tree(depth: int, rng: random.Random) -> bytes:
    """A page tree ``depth`` levels deep with one page at the bottom."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(depth):
        number = 2 + level
        objects.append(b"<< /Type /Pages /Count 1 /Kids [%d 0 R] %s>>" % (
            number + 1, b"/Parent %d 0 R " % (number - 1) if level else b""))
    page = 2 + depth
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                   b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (page - 1, page + 1, page + 2))
    objects.append(stream(text_content(invoice_lines(rng))))
    objects.append(FONT)
    return build_pdf(objects)


def one_page_pdf(content: bytes, rng: random.Random, *, resources: bytes = b"/Font << /F1 3 0 R >>",
                 extra_objects: list[bytes] | None = None, media_box: bytes = b"[0 0 595 842]",
                 page_extra: bytes = b"", trailer_extra: bytes = b"") -> bytes:
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>", FONT,
               b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 5 0 R /Resources << %s >> %s>>" % (
                   media_box, resources, page_extra),
               content]
    objects += extra_objects or []
    return build_pdf(objects, trailer_extra=trailer_extra)
