"""The archive, mail and XML families: each kind returns (file name, bytes).

Archives and mails go through the intake (``mail.parse_message`` + ``save_attachments``); a zip input is
attached to a mail as a vendor would send it.  XML inputs carry XXE and entity-expansion attacks: the
engine has no e-invoice reader yet, so they must be refused as UNSUPPORTED_TYPE without any file read.
"""

from __future__ import annotations

import base64
import functools
import io
import random
import struct
import warnings
import zipfile

from .documents import _deflated
from .mutate import bit_flips, byte_splices, chunk_shuffle, havoc, truncate
from .seeds import Corpus

# ------------------------------------------------------------------------------------------ archives


def _pdf(corpus: Corpus, rng: random.Random) -> bytes:
    return rng.choice(corpus.pdfs[:9])[1]


def _zip(members: list[tuple[str, bytes]], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", compression) as zf:
        warnings.simplefilter("ignore", UserWarning)  # duplicate names are what some kinds want
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def zip_bomb(rng, corpus):
    """One member that inflates 1,000 times or more (ratio), or many that sum past the size limit."""
    if rng.random() < 0.5:
        size = rng.choice((8, 128, 512)) << 20
        return "invoices.zip", _zip_of_zeros(size, 1)
    return "invoices.zip", _zip_of_zeros(40 << 20, rng.choice((3, 8)))


@functools.lru_cache(maxsize=8)
def _zip_of_zeros(size: int, members: int) -> bytes:
    """A zip of ``members`` members of ``size`` zero bytes each, built from one deflate stream (no 512 MB in memory)."""
    body = _deflated(size, b"\x00")
    crc = 0
    block = b"\x00" * (1 << 20)
    import zlib

    for _ in range(size >> 20):
        crc = zlib.crc32(block, crc)
    out, central = bytearray(), bytearray()
    for i in range(members):
        name = b"invoice-%d.pdf" % i
        offset = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, crc, len(body), size, len(name), 0) + name
        out += body
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, crc, len(body), size,
                               len(name), 0, 0, 0, 0, 0, offset) + name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, len(central), len(out), 0)
    return bytes(out + central + end)


def zip_nested(rng, corpus):
    """Zips in zips, 2 to 8 deep, or 42.zip-style (each level holds several copies of the one below)."""
    depth = rng.randint(2, 8)
    copies = rng.choice((1, 1, 4))
    data, name = _pdf(corpus, rng), "invoice.pdf"
    for level in range(depth):
        data = _zip([(f"{level}-{i}-{name}", data) for i in range(copies)])
        name = f"level{level}.zip"
    return "nested.zip", data


TRAVERSAL = ["../../../../tmp/evil.pdf", "/etc/cron.d/evil.pdf", "..\\..\\windows\\evil.pdf", "a/../../b.pdf",
             "in\x00voice.pdf", "x" * 1000 + ".pdf", "CON.pdf", ".pdf", "..", "/", "", "~/.ssh/authorized_keys",
             "\u202eFDP.exe", "Rechnung M\u00e4rz.pdf", "./././invoice.pdf", "dir/", "a:b.pdf"]


def zip_paths(rng, corpus):
    """Member names that climb out (``../``), are absolute, hold NUL or are reserved on Windows."""
    names = rng.sample(TRAVERSAL, rng.randint(1, 4))
    return "invoices.zip", _zip([(n, _pdf(corpus, rng)) for n in names])


def zip_many(rng, corpus):
    """Thousands of members (the limit is 50)."""
    count = rng.choice((51, 1000, 10_000))
    pdf = _pdf(corpus, rng)[:200]
    return "invoices.zip", _zip([(f"{i}.pdf", pdf) for i in range(count)], zipfile.ZIP_STORED)


def zip_lying(rng, corpus):
    """Headers that lie: sizes, CRCs, the count of entries, the encryption flag, offsets."""
    data = bytearray(_zip([("invoice.pdf", _pdf(corpus, rng)), ("b.pdf", _pdf(corpus, rng))]))
    cd = data.find(b"PK\x01\x02")
    how = rng.choice(("size", "crc", "count", "encrypted", "offset", "method"))
    if how == "size":
        struct.pack_into("<I", data, cd + 24, rng.choice((0, 2**32 - 1, 10**9)))
    elif how == "crc":
        struct.pack_into("<I", data, cd + 16, rng.getrandbits(32))
    elif how == "count":
        end = data.rfind(b"PK\x05\x06")
        struct.pack_into("<HH", data, end + 8, 65535, 65535)
    elif how == "encrypted":
        struct.pack_into("<H", data, cd + 8, 1)
    elif how == "offset":
        struct.pack_into("<I", data, cd + 42, rng.choice((2**32 - 1, len(data) - 5)))
    else:
        struct.pack_into("<H", data, cd + 10, rng.choice((12, 14, 95, 99, 65535)))
    return "invoices.zip", bytes(data)


def zip_mutated(rng, corpus):
    data = _zip([("invoice.pdf", _pdf(corpus, rng)), ("invoice2.pdf", _pdf(corpus, rng))])
    return "invoices.zip", rng.choice((bit_flips, byte_splices, truncate, havoc))(data, rng)


def zip_odd(rng, corpus):
    """A zip with a comment of 64 KB, duplicate names, an empty zip, a zip named .pdf, a docx shell."""
    how = rng.choice(("comment", "dupes", "empty", "named-pdf", "docx"))
    if how == "comment":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("invoice.pdf", _pdf(corpus, rng))
            zf.comment = b"%PDF-1.7 " * 7000
        return "invoices.zip", buf.getvalue()
    if how == "dupes":
        return "invoices.zip", _zip([("invoice.pdf", _pdf(corpus, rng)), ("invoice.pdf", _pdf(corpus, rng))])
    if how == "empty":
        return "invoices.zip", _zip([])
    if how == "named-pdf":
        return "invoice.pdf", _zip([("invoice.pdf", _pdf(corpus, rng))])
    return "invoice.docx", _zip([("[Content_Types].xml", b"<Types/>"), ("word/document.xml", b"<w/>")])


ZIP_KINDS = {
    "bomb": (zip_bomb, 1), "nested": (zip_nested, 3), "paths": (zip_paths, 4), "many": (zip_many, 1),
    "lying": (zip_lying, 4), "mutated": (zip_mutated, 5), "odd": (zip_odd, 3),
}

# --------------------------------------------------------------------------------------------- mails

HEAD = (b"From: Vendor <billing@vendor.example>\r\nTo: ap@buyer.example\r\nSubject: Invoice %d\r\n"
        b"Date: Mon, 4 Mar 2024 10:00:00 +0100\r\nMessage-ID: <fuzz-%d@vendor.example>\r\nMIME-Version: 1.0\r\n")


def _b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def attachment(data: bytes, *, ctype: bytes = b"application/pdf", disposition: bytes | None = None,
               cte: bytes = b"base64") -> bytes:
    disp = b'attachment; filename="invoice.pdf"' if disposition is None else disposition
    body = _b64(data) if cte == b"base64" else data
    head = b"Content-Type: " + ctype + b"\r\nContent-Transfer-Encoding: " + cte + b"\r\n"
    if disp:
        head += b"Content-Disposition: " + disp + b"\r\n"
    return head + b"\r\n" + body


def multipart(parts: list[bytes], boundary: bytes = b"b0", sub: bytes = b"mixed", header: bytes | None = None) -> bytes:
    head = header if header is not None else b'Content-Type: multipart/%s; boundary="%s"\r\n' % (sub, boundary)
    body = b"".join(b"--" + boundary + b"\r\n" + p + b"\r\n" for p in parts) + b"--" + boundary + b"--\r\n"
    return head + b"\r\n" + body


def mail_with(body_entity: bytes, rng: random.Random) -> bytes:
    n = rng.randrange(10**6)
    return HEAD % (n, n) + body_entity


def text_part(text: bytes = b"Please find the invoice attached.") -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\n\r\n" + text


def mail_mutated(rng, corpus):
    name, data = rng.choice(corpus.mails)
    return name, rng.choice((bit_flips, byte_splices, chunk_shuffle, truncate, havoc))(data, rng)


def mail_boundaries(rng, corpus):
    """No boundary parameter, a boundary the body does not use, an unterminated multipart, one of 200 chars."""
    pdf = _pdf(corpus, rng)
    parts = [text_part(), attachment(pdf)]
    how = rng.choice(("missing", "mismatch", "unterminated", "long", "empty", "nested-same"))
    if how == "missing":
        ent = multipart(parts, header=b"Content-Type: multipart/mixed\r\n")
    elif how == "mismatch":
        ent = multipart(parts, header=b'Content-Type: multipart/mixed; boundary="other"\r\n')
    elif how == "unterminated":
        ent = multipart(parts)[: -len(b"--b0--\r\n")]
    elif how == "long":
        ent = multipart(parts, boundary=b"x" * 200)
    elif how == "empty":
        ent = multipart([], boundary=b"b0")
    else:
        ent = multipart([multipart(parts), attachment(pdf)])
    return "boundaries.eml", mail_with(ent, rng)


def mail_deep(rng, corpus):
    """Multiparts nested 50 to 5,000 deep, or forwarded messages nested 50 deep."""
    depth = rng.choice((50, 200, 1000, 5000))
    ent = attachment(_pdf(corpus, rng))
    if rng.random() < 0.7:
        for level in range(depth):
            ent = multipart([ent], boundary=b"d%d" % level)
    else:
        for level in range(min(depth, 50)):
            ent = b"Content-Type: message/rfc822\r\n\r\n" + HEAD % (level, level) + ent
    return "deep.eml", mail_with(ent, rng)


def mail_many_parts(rng, corpus):
    """10,000 parts: attachments (one tiny PDF each, all different) or empty parts."""
    count = rng.choice((1000, 10_000))
    small = _pdf(corpus, rng)
    parts = [attachment(small + b"%%%d" % i, disposition=b'attachment; filename="i%d.pdf"' % i)
             if rng.random() < 0.5 else b"Content-Type: text/plain\r\n\r\n" for i in range(count)]
    return "many-parts.eml", mail_with(multipart(parts), rng)


FILENAMES = [
    b"filename*=UTF-8''..%2F..%2F..%2Fetc%2Fpasswd", b"filename*=UTF-8''in%00voice.pdf", b"filename*=''%00",
    b"filename*0*=UTF-8''..%2F..%2F; filename*1*=tmp%2Fevil.pdf", b"filename*=bogus-charset''%FF%FE.pdf",
    b'filename="=?utf-8?b?Li4vLi4vZXZpbC5wZGY=?="', b'filename="=?utf-8?q?a=00b.pdf?="',
    b"filename*=UTF-8''" + b"%41" * 3000 + b".pdf", b'filename="C:\\\\Windows\\\\evil.pdf"', b'filename="/dev/null"',
    b'filename=".."', b'filename=""', b"filename*99999999*=x", b"filename*0=a; filename*2=c",
    b'filename="\xff\xfe\x00.pdf"', b"filename*=UTF-8'en'%E2%80%AEfdp.exe", b"name*=UTF-8''..%2F..%2Fx.pdf",
]


def mail_names(rng, corpus):
    """RFC 2231 and encoded-word file names with path traversal, NUL, bogus charsets, 3,000 characters."""
    param = rng.choice(FILENAMES)
    where = rng.choice((b"disposition", b"type"))
    disp = b"attachment; " + param if where == b"disposition" else b"attachment"
    ctype = b"application/pdf" if where == b"disposition" else b"application/octet-stream; " + param
    return "names.eml", mail_with(multipart([text_part(), attachment(_pdf(corpus, rng), ctype=ctype,
                                                                    disposition=disp)]), rng)


def mail_huge(rng, corpus):
    """An attachment of 20 to 70 MB (the mail limit is 64 MB), or one line of 8 MB without a line break."""
    if rng.random() < 0.5:
        size = rng.choice((20, 70)) << 20
        return "huge.eml", mail_with(multipart([text_part(), attachment(_big_pdf(size))]), rng)
    return "long-line.eml", mail_with(text_part(b"A" * (8 << 20)), rng)


@functools.lru_cache(maxsize=2)
def _big_pdf(size: int) -> bytes:
    return b"%PDF-1.4\n" + b"0" * size


def mail_forwarded(rng, corpus):
    """Forwarded message/rfc822, plain, base64- or quoted-printable-encoded, with a broken inner message."""
    name, inner = rng.choice(corpus.mails)
    how = rng.choice(("plain", "base64", "qp", "broken", "empty", "as-attachment"))
    if how == "plain":
        part = b"Content-Type: message/rfc822\r\n\r\n" + inner
    elif how == "base64":
        part = b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" + _b64(inner)
    elif how == "qp":
        import quopri

        part = b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" + \
            quopri.encodestring(inner)
    elif how == "broken":
        part = b"Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n" + truncate(_b64(inner), rng)
    elif how == "empty":
        part = b"Content-Type: message/rfc822\r\n\r\n"
    else:
        part = (b'Content-Type: message/rfc822; name="fwd.eml"\r\nContent-Disposition: attachment; '
                b'filename="fwd.eml"\r\n\r\n' + inner)
    return "forwarded.eml", mail_with(multipart([text_part(b"FYI"), part]), rng)


def mail_bodies(rng, corpus):
    """A PDF as the whole body (scanner to mail), a nameless text/* part holding a PDF, bad encodings."""
    pdf = _pdf(corpus, rng)
    how = rng.choice(("single-pdf", "text-holds-pdf", "bad-base64", "bad-cte", "bad-charset", "binary", "no-body"))
    if how == "single-pdf":
        ent = attachment(pdf, disposition=b"")
    elif how == "text-holds-pdf":
        ent = multipart([text_part(), attachment(pdf, ctype=b"text/plain", disposition=b"")])
    elif how == "bad-base64":
        ent = multipart([text_part(), b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
                         b'Content-Disposition: attachment; filename="a.pdf"\r\n\r\n' + b"!!!%%%" + _b64(pdf)[7:]])
    elif how == "bad-cte":
        ent = multipart([attachment(pdf, cte=rng.choice((b"x-uuencode", b"bogus", b"7bit", b"binary")))])
    elif how == "bad-charset":
        ent = b"Content-Type: text/plain; charset=utf-99\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=FE=0"
    elif how == "binary":
        ent = multipart([attachment(pdf, cte=b"8bit", disposition=b'attachment; filename="a.pdf"')])
    else:
        ent = b"Content-Type: application/pdf\r\n"
    return "bodies.eml", mail_with(ent, rng)


def mail_headers(rng, corpus):
    """Headers that break parsers: 10,000 addresses, NUL, a 1 MB Subject, garbage dates, folded forever."""
    how = rng.choice(("addresses", "nul", "subject", "date", "folding", "no-headers", "message-id"))
    body = multipart([text_part(), attachment(_pdf(corpus, rng))])
    if how == "addresses":
        head = b"From: " + b", ".join(b"a%d@x.example" % i for i in range(10_000)) + b"\r\n"
    elif how == "nul":
        head = b"From: a\x00b@x.example\r\nSubject: \x00\x00\r\nMessage-ID: <\x00>\r\n"
    elif how == "subject":
        head = b"Subject: =?utf-8?b?" + base64.b64encode(b"x" * (1 << 20)) + b"?=\r\n"
    elif how == "date":
        head = b"Date: " + rng.choice((b"Mon, 99 Foo 99999 99:99:99 +9999", b"\xff\xfe", b"0", b"-1")) + b"\r\n"
    elif how == "message-id":  # found by --guided mail: the header parser raises IndexError on these
        head = b"Message-ID: " + rng.choice((b"<@x>", b"<(a)@x>", b"<[@x>", b"<,@x>", b"<:@x>", b"<>", b"<")) + b"\r\n"
    elif how == "folding":
        head = b"Subject: a\r\n" + b" b\r\n" * 100_000
    else:
        return "no-headers.eml", body
    return "headers.eml", head + b"MIME-Version: 1.0\r\n" + body


MAIL_KINDS = {
    "mutated": (mail_mutated, 10), "boundaries": (mail_boundaries, 5), "deep": (mail_deep, 2),
    "many-parts": (mail_many_parts, 1), "names": (mail_names, 5), "huge": (mail_huge, 1),
    "forwarded": (mail_forwarded, 4), "bodies": (mail_bodies, 5), "headers": (mail_headers, 3),
}

# ----------------------------------------------------------------------------------------------- XML

#: A marker the XML inputs try to pull in through entities.  The child writes it into a file of its own
#: (the canary); the result must never hold it, and /etc/passwd's first line neither.
CANARY_TEXT = "invoicebot-fuzz-canary-5f1c"
#: Where the canary lies; the harness sets it to a file in its work folder before it makes any input.
CANARY_PATH = "/tmp/invoicebot-fuzz-canary"


def xml_attack(rng, corpus):
    canary = CANARY_PATH
    how = rng.choice(("xxe-passwd", "xxe-canary", "laughs", "quadratic", "parameter", "xinclude", "utf16", "ubl"))
    root = rng.choice((b"Invoice", b"rsm:CrossIndustryInvoice", b"ubl:Invoice"))
    ns = b' xmlns="urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"'
    if how == "xxe-passwd":
        doc = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n<%s%s><ID>&e;</ID></%s>' % (
            root, ns, root)
    elif how == "xxe-canary":
        doc = b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file://%s">]>\n<%s><Note>&e;</Note></%s>' % (
            canary.encode(), root, root)
    elif how == "laughs":
        ents = [b'<!ENTITY lol "lol">'] + [b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                                           for i in range(1, 10)]
        doc = b'<?xml version="1.0"?>\n<!DOCTYPE lolz [' + b"".join(ents) + b"]>\n<%s>&lol9;</%s>" % (root, root)
    elif how == "quadratic":
        doc = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY a "' + b"A" * 50_000 + b'">]>\n<%s>' % root
               + b"&a;" * 20_000 + b"</%s>" % root)
    elif how == "parameter":
        doc = (b'<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY % p SYSTEM "file:///etc/passwd"> '
               b'<!ENTITY % d SYSTEM "http://127.0.0.1:1/evil.dtd"> %p; %d;]>\n<Invoice/>')
    elif how == "xinclude":
        doc = (b'<?xml version="1.0"?>\n<Invoice xmlns:xi="http://www.w3.org/2001/XInclude">'
               b'<xi:include href="file:///etc/passwd" parse="text"/></Invoice>')
    elif how == "utf16":
        doc = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
               "<Invoice>&e;</Invoice>").encode("utf-16")
    else:
        doc = (b'<?xml version="1.0" encoding="UTF-8"?>\n<?xml-stylesheet href="file:///etc/passwd"?>\n<Invoice' + ns
               + b"><cbc:ID>INV-1</cbc:ID><cbc:IssueDate>2024-03-01</cbc:IssueDate>"
               b'<cac:LegalMonetaryTotal><cbc:PayableAmount currencyID="EUR">24.00</cbc:PayableAmount>'
               b"</cac:LegalMonetaryTotal></Invoice>")
    name = rng.choice(("invoice.xml", "invoice.xml", "xrechnung.xml", "invoice.pdf", "factur-x.xml"))
    return f"{how}-{name}", doc


XML_KINDS = {"attack": (xml_attack, 1)}
