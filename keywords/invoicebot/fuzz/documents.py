"""The PDF and image families: each kind takes a random generator and the seed corpus and returns
(file name, bytes).  Kinds that cost more to run (bombs, 2,000 pages) have a lower weight."""

from __future__ import annotations

import functools
import io
import random
import re
import struct
import zlib

from .mutate import (
    FONT,
    bit_flips,
    build_pdf,
    byte_splices,
    chunk_shuffle,
    deep_page_tree,
    havoc,
    invoice_lines,
    one_page_pdf,
    pages_pdf,
    splice,
    stream,
    sub_numbers,
    text_content,
    truncate,
)
from .seeds import Corpus

HUGE = [b"0", b"-1", b"2147483647", b"4294967296", b"99999999999", b"9223372036854775807"]


def _seed(corpus: Corpus, rng: random.Random) -> tuple[str, bytes]:
    return rng.choice(corpus.pdfs)


# ---------------------------------------------------------------------------------------------- PDF


def pdf_bitflip(rng, corpus):
    name, data = _seed(corpus, rng)
    return name, bit_flips(data, rng)


def pdf_splice_tokens(rng, corpus):
    name, data = _seed(corpus, rng)
    return name, byte_splices(data, rng)


def pdf_truncate(rng, corpus):
    name, data = _seed(corpus, rng)
    return name, truncate(data, rng)


def pdf_lines(rng, corpus):
    name, data = _seed(corpus, rng)
    return name, chunk_shuffle(data, rng)


def pdf_havoc(rng, corpus):
    name, data = _seed(corpus, rng)
    return name, havoc(data, rng)


def pdf_crossover(rng, corpus):
    (name, a), (_, b) = _seed(corpus, rng), _seed(corpus, rng)
    return name, splice(a, b, rng)


def pdf_broken_xref(rng, corpus):
    """startxref pointing anywhere, xref entries garbled, the xref table gone, or two xref sections that
    disagree (an incremental update pointing the page at another object)."""
    name, data = _seed(corpus, rng)
    how = rng.choice(("startxref", "entries", "drop", "update"))
    if how == "startxref":
        data = re.sub(rb"startxref\s+\d+", b"startxref\n" + rng.choice(HUGE + [b"%d" % rng.randrange(len(data))]),
                      data)
    elif how == "entries":
        data = re.sub(rb"\d{10} \d{5} [nf]", lambda m: b"%010d 00000 n" % rng.randrange(10 ** rng.randint(1, 10))
                      if rng.random() < 0.3 else m.group(0), data)
    elif how == "drop":
        start = data.rfind(b"xref")
        end = data.find(b"trailer", start)
        data = data[:start] + data[end:] if start >= 0 and end > start else data[: len(data) // 2]
    else:
        obj = rng.randint(1, 12)
        data += (b"\n%d 0 obj\n<< /Type /Page /Parent 999 0 R /Contents 12345 0 R >>\nendobj\n"
                 b"xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size 3 /Prev %s /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                 % (obj, obj, len(data) + 1, rng.choice(HUGE), len(data) + 60))
    return name, data


def pdf_huge_sizes(rng, corpus):
    """Declared sizes that lie: /Length, /Count, /Size, /W, /MediaBox, /Width and /Height of images."""
    name, data = _seed(corpus, rng)
    key = rng.choice((b"/Length", b"/Count", b"/Size", b"/N", b"/First"))
    data = sub_numbers(data, key, rng, HUGE)
    if rng.random() < 0.4:
        data = re.sub(rb"/MediaBox\s*\[[^\]]*\]", b"/MediaBox [0 0 " + rng.choice(
            [b"1e9 1e9", b"14400 14400", b"-5 -5", b"0 0", b"99999999999 1"]) + b"]", data)
    return name, data


def pdf_deep_nesting(rng, corpus):
    """Arrays or dictionaries nested thousands deep in the page, the content stream or a page tree."""
    depth = rng.choice((100, 1000, 10_000, 100_000))
    where = rng.choice(("array", "dict", "content", "tree"))
    if where == "tree":
        return "deep-tree.pdf", deep_page_tree(min(depth, 5000), rng)
    if where == "content":
        ops = b"q " * depth + text_content(invoice_lines(rng)) + b" Q" * depth
        return "deep-content.pdf", one_page_pdf(stream(ops), rng)
    nest = b"[" * depth + b"1" + b"]" * depth if where == "array" else b"<</A " * depth + b"1" + b">>" * depth
    return f"deep-{where}.pdf", one_page_pdf(stream(text_content(invoice_lines(rng))), rng,
                                               page_extra=b"/Junk " + nest + b" ")


def pdf_2000_pages(rng, corpus):
    """2,000 real pages, or one page whose tree says 2,000 (or 2**31)."""
    if rng.random() < 0.5:
        return "2000-pages.pdf", pages_pdf(2000, rng)
    return "liar-count.pdf", pages_pdf(rng.choice((1, 3)), rng, declared=rng.choice((2000, 2**31 - 1, -1)))


def pdf_page_tree_cycle(rng, corpus):
    """A page tree whose kids point back at their parent, or pages that pdfminer finds outside the tree."""
    how = rng.choice(("cycle", "orphans", "kid-is-catalog"))
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << /Font << /F1 3 0 R >> >> >>"
    content = stream(text_content(invoice_lines(rng)))
    if how == "cycle":
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 2 /Kids [4 0 R 2 0 R] >>", FONT,
                   page, content]
    elif how == "orphans":  # the tree is broken: pdfminer then collects every /Type /Page object it finds
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>", FONT,
                   page, content] + [page] * rng.randint(1, 5)
        objects[1] = rng.choice((b"<< /Type /Pages /Count 1 /Kids 4 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>",
                                 b"null", objects[1]))
    else:
        objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 2 /Kids [4 0 R 1 0 R] >>", FONT,
                   page, content]
    return f"tree-{how}.pdf", build_pdf(objects)


@functools.lru_cache(maxsize=4)
def _deflated(size: int, fill: bytes) -> bytes:
    comp = zlib.compressobj(9)
    block = fill * (1 << 20)
    parts = [comp.compress(block) for _ in range(size >> 20)]
    return b"".join(parts) + comp.flush()


def pdf_flate_bomb(rng, corpus):
    """A small file whose streams inflate to hundreds of megabytes: content of spaces, or an image."""
    how = rng.choice(("content", "image", "many"))
    if how == "content":
        size = rng.choice((64, 256, 1024)) << 20
        body = _deflated(size, b" ")
        return "bomb-content.pdf", one_page_pdf(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream", rng)
    if how == "image":
        side = rng.choice((8000, 16000, 30000))
        body = _deflated(side * side, b"\xff") if side * side <= 1 << 30 else _deflated(1 << 30, b"\xff")
        image = (b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray "
                 b"/BitsPerComponent 8 /Length %d /Filter /FlateDecode >>\nstream\n" % (side, side, len(body))
                 + body + b"\nendstream")
        return "bomb-image.pdf", one_page_pdf(stream(b"q 595 0 0 842 0 0 cm /Im1 Do Q"), rng,
                                              resources=b"/XObject << /Im1 6 0 R >>", extra_objects=[image])
    body = _deflated(64 << 20, b"0")
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"", FONT]
    kids = []
    for _ in range(rng.randint(4, 12)):  # the same 64 MB stream drawn by many pages
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>")
        kids.append(b"%d 0 R" % (len(objects)))
    objects.insert(3, b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(body) + body + b"\nendstream")
    kids = [b"%d 0 R" % (i + 5) for i in range(len(kids))]
    objects[1] = b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(kids), b" ".join(kids))
    return "bomb-many.pdf", build_pdf(objects)


def pdf_bad_filters(rng, corpus):
    """Streams with filters that lie: unknown, chained, broken data, LZW/ASCII85/RunLength, predictors."""
    filt = rng.choice((b"/FlateDecode", b"/LZWDecode", b"/ASCII85Decode", b"/ASCIIHexDecode", b"/RunLengthDecode",
                       b"/DCTDecode", b"/JBIG2Decode", b"/CCITTFaxDecode", b"/Crypt", b"/Bogus",
                       b"[/FlateDecode /FlateDecode /ASCII85Decode]"))
    parms = rng.choice((b"", b" /DecodeParms << /Predictor 15 /Columns 99999999 /Colors 4 >>",
                        b" /DecodeParms << /Predictor 2 /BitsPerComponent 16 /Columns 0 >>"))
    body = rng.randbytes(rng.randint(0, 4000))
    return "bad-filter.pdf", one_page_pdf(stream(body, b" /Filter " + filt + parms), rng)


def pdf_bad_encrypt(rng, corpus):
    """An /Encrypt dictionary that no reader can honour."""
    enc = rng.choice((b"<< /Filter /Standard /V 99 /R 99 /O (x) /U (y) /P -1 >>", b"<< /Filter /Bogus >>",
                      b"<< /Filter /Standard /V 4 /R 4 /Length 128 /CF << /StdCF << /CFM /AESV2 >> >> "
                      b"/StmF /StdCF /StrF /StdCF /O <00> /U <00> /P -4 >>", b"null", b"6 0 R"))
    return "bad-encrypt.pdf", one_page_pdf(stream(text_content(invoice_lines(rng))), rng,
                                           trailer_extra=b"/Encrypt " + enc + b" /ID [<01> <02>] ")


def pdf_bad_fonts(rng, corpus):
    """Fonts with broken widths, encodings, ToUnicode maps and embedded font programs."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap 1 begincodespacerange <00> <FF> "
            b"endcodespacerange " + rng.choice((b"2 beginbfrange <00> <FF> <0041> endbfrange",
                                                b"99999999 beginbfchar <41> <D800> endbfchar",
                                                rng.randbytes(200))) + b" endcmap")
    font = rng.choice((
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /FirstChar 4294967295 /LastChar 0 /Widths [1 2] >>",
        b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /DescendantFonts [7 0 R] /ToUnicode 6 0 R >>",
        b"<< /Type /Font /Subtype /TrueType /BaseFont /X /FontDescriptor << /FontFile2 6 0 R /Flags 4 >> >>",
        b"<< /Type /Font /Subtype /Type3 /FontMatrix [0 0 0 0 0 0] /CharProcs << >> /Encoding << /Differences [0 /a] >> /FirstChar 0 /LastChar 0 /Widths [0] /FontBBox [0 0 0 0] >>",
    ))
    cid = b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /X /CIDSystemInfo << /Registry (A) /Ordering (B) /Supplement 0 >> /W [0 [99999999]] /FontDescriptor << /FontFile2 6 0 R >> >>"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>", font,
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 5 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
               stream(text_content(invoice_lines(rng))), stream(cmap if rng.random() < 0.5 else rng.randbytes(3000)),
               cid]
    return "bad-font.pdf", build_pdf(objects)


def pdf_junk_around(rng, corpus):
    """A PDF after junk (the header may sit anywhere in the first 1,024 bytes), two PDFs glued, NUL padding."""
    name, data = _seed(corpus, rng)
    how = rng.choice(("prefix", "glued", "nul", "no-eof"))
    if how == "prefix":
        data = rng.randbytes(rng.randint(1, 1000)) + data
    elif how == "glued":
        data = data + _seed(corpus, rng)[1]
    elif how == "nul":
        data = data + b"\x00" * rng.randint(1, 1 << 20)
    else:
        data = data.replace(b"%%EOF", b"")
    return name, data


_NUMBERS = [b"0", b"-0", b"1", b"-1", b"1e38", b"-1e38", b"3.4e38", b"1e-30", b"99999999999", b".", b"-.", b"nan",
            b"12", b"595", b"842", b"0.0001", b"-842"]


def _op(rng: random.Random) -> bytes:
    n = lambda: rng.choice(_NUMBERS)  # noqa: E731
    text = b"(" + rng.choice([b"Invoice", b"Total 24.00 EUR", b"INV-2024-0042", b"\\000\\377", b"", b"a" * 500]) + b")"
    return rng.choice([
        b"%s %s %s %s %s %s Tm %s Tj" % (n(), n(), n(), n(), n(), n(), text),
        b"/F1 %s Tf %s Tj" % (n(), text), b"/F9 12 Tf %s Tj" % text, b"%s Tz %s Tj" % (n(), text),
        b"%s TL T* %s '" % (n(), text), b"%s %s %s \"" % (n(), n(), text), b"[%s %s %s] TJ" % (text, n(), text),
        b"%s %s Td %s Tj" % (n(), n(), text), b"%s %s %s %s %s %s cm" % (n(), n(), n(), n(), n(), n()),
        b"%s Tc %s Tw %s Ts %s Tr" % (n(), n(), n(), rng.choice([b"0", b"3", b"7", b"99"])),
        b"q", b"Q", b"BT", b"ET", b"/Im9 Do", b"BX /X 1 2 3 zz EX", b"%s %s %s %s re f" % (n(), n(), n(), n()),
        b"BI /W %s /H %s /BPC 8 /CS /G ID " % (n(), n()) + rng.randbytes(rng.randint(0, 40)) + b" EI",
        b"%s %s d0" % (n(), n()), b"/GS1 gs", b"/P <</MCID 0>> BDC %s Tj EMC" % text, b"%s Tj" % text,
    ])


def pdf_content_ops(rng, corpus):
    """Page content made of text operators with extreme operands (zero or huge matrices and font sizes, NaN,
    missing fonts, inline images, unbalanced q/Q and BT/ET): text boxes of every odd shape reach the word builder."""
    ops = [b"BT /F1 11 Tf 60 780 Td"] + [_op(rng) for _ in range(rng.randint(5, 120))] + [b"ET"]
    return "ops.pdf", one_page_pdf(stream(b"\n".join(ops)), rng)


PDF_KINDS = {
    "bitflip": (pdf_bitflip, 10), "tokens": (pdf_splice_tokens, 10), "truncate": (pdf_truncate, 8),
    "lines": (pdf_lines, 8), "havoc": (pdf_havoc, 10), "crossover": (pdf_crossover, 4),
    "broken-xref": (pdf_broken_xref, 8), "huge-sizes": (pdf_huge_sizes, 8), "deep-nesting": (pdf_deep_nesting, 4),
    "2000-pages": (pdf_2000_pages, 2), "page-tree": (pdf_page_tree_cycle, 4), "flate-bomb": (pdf_flate_bomb, 1),
    "bad-filters": (pdf_bad_filters, 4), "bad-encrypt": (pdf_bad_encrypt, 3), "bad-fonts": (pdf_bad_fonts, 4),
    "junk-around": (pdf_junk_around, 4), "content-ops": (pdf_content_ops, 10),
}

# -------------------------------------------------------------------------------------------- images


def _image(corpus: Corpus, rng: random.Random, ext: str | None = None) -> tuple[str, bytes]:
    return rng.choice(corpus.images_of(ext) if ext else corpus.images)


def image_bitflip(rng, corpus):
    name, data = _image(corpus, rng)
    return name, bit_flips(data, rng, most=16)


def image_truncate(rng, corpus):
    name, data = _image(corpus, rng)
    return name, truncate(data, rng)


def image_havoc(rng, corpus):
    name, data = _image(corpus, rng)
    return name, havoc(data, rng)


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png(width: int, height: int, idat: bytes, *, bit_depth: int = 8, color: int = 0, extra: bytes = b"") -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + extra + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def image_png_chunks(rng, corpus):
    """IHDR with lying dimensions, bad CRCs, chunks with huge lengths, no IEND, a zTXt/iCCP bomb."""
    name, data = _image(corpus, rng, ".png")
    how = rng.choice(("dims", "crc", "length", "iend", "ztxt", "depth"))
    if how == "dims":
        w, h = rng.choice(((0, 0), (1, 2**31 - 1), (2**31 - 1, 2**31 - 1), (65535, 65535), (1, 1), (20000, 1)))
        data = data[:16] + struct.pack(">II", w, h) + data[24:]
    elif how == "crc":
        data = data[:29] + rng.randbytes(4) + data[33:]
    elif how == "length":
        i = data.find(b"IDAT") - 4
        data = data[:i] + struct.pack(">I", rng.choice((0, 2**31 - 1, 2**32 - 1))) + data[i + 4:]
    elif how == "iend":
        data = data.replace(b"IEND", b"IEN\x00")[: -rng.randint(0, 30) or None]
    elif how == "ztxt":
        bomb = _deflated(rng.choice((16, 64)) << 20, b"a")
        data = data[:33] + _png_chunk(rng.choice((b"zTXt", b"iCCP")), b"k\x00\x00" + bomb) + data[33:]
    else:
        data = data[:24] + bytes([rng.choice((0, 3, 7, 16, 255)), rng.choice((0, 1, 2, 3, 4, 6, 9))]) + data[26:]
    return name, data


def image_png_bomb(rng, corpus):
    """Small files that declare (and hold) a huge image: refused from the header, or just under the limit."""
    side = rng.choice((12000, 20000, 50000, 9000))
    if side * side > 200_000_000:  # refused from the header: the data can be short
        return "bomb.png", _png(side, side, _deflated(1 << 20, b"\x00"))
    return "bomb.png", _png(side, side, _white_rows(side))


@functools.lru_cache(maxsize=4)
def _white_rows(side: int) -> bytes:
    row = b"\x00" + b"\xff" * side
    comp = zlib.compressobj(9)
    return b"".join(comp.compress(row) for _ in range(side)) + comp.flush()


def _jpeg_sof(data: bytes, width: int, height: int) -> bytes:
    for marker in (b"\xff\xc0", b"\xff\xc2", b"\xff\xc1"):
        i = data.find(marker)
        if i >= 0:
            return data[: i + 5] + struct.pack(">HH", height, width) + data[i + 9:]
    return data


def image_jpeg(rng, corpus):
    """JPEGs with huge or zero dimensions in the frame header, broken Huffman tables, no end marker."""
    name, data = _image(corpus, rng, ".jpg")
    how = rng.choice(("sof", "dht", "eoi", "markers", "exif"))
    if how == "sof":
        w, h = rng.choice(((65535, 65535), (0, 0), (1, 65535), (30000, 30000)))
        data = _jpeg_sof(data, w, h)
    elif how == "dht":
        i = data.find(b"\xff\xc4")
        data = data[: i + 4] + rng.randbytes(rng.randint(4, 60)) + data[i + 64:] if i >= 0 else data
    elif how == "eoi":
        data = data.replace(b"\xff\xd9", b"")[: -rng.randint(1, 500)]
    elif how == "markers":
        data = data[:2] + b"\xff\xe1\xff\xff" + rng.randbytes(200) + data[2:]
    else:  # an EXIF block with a lying IFD count and orientation
        exif = b"Exif\x00\x00II*\x00\x08\x00\x00\x00" + struct.pack("<H", 0xFFFF) + struct.pack(
            "<HHII", 0x0112, 3, 1, rng.choice((0, 6, 8, 65535)))
        data = data[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + data[2:]
    return name, data


def _tiff(entries: list[tuple[int, int, int, int]], *, next_ifd: int = 0, payload: bytes = b"") -> bytes:
    """A little-endian TIFF with one IFD at offset 8 (entries: tag, type, count, value)."""
    ifd = struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack(
        "<I", next_ifd)
    return b"II*\x00" + struct.pack("<I", 8) + ifd + payload


def image_tiff(rng, corpus):
    """TIFFs with IFD loops, thousands of IFDs, strips outside the file, huge dimensions with compression."""
    how = rng.choice(("loop", "many", "strips", "huge", "mutate"))
    data_at = 8 + 2 + 12 * 9 + 4
    base = [(256, 4, 1, 100), (257, 4, 1, 100), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
            (273, 4, 1, data_at), (277, 3, 1, 1), (278, 4, 1, 100), (279, 4, 1, 10000)]
    if how == "loop":
        return "loop.tif", _tiff(base, next_ifd=8, payload=b"\xff" * 10000)
    if how == "many":
        count = rng.choice((300, 5000))
        ifd_size = 2 + 12 * len(base) + 4
        out = bytearray(b"II*\x00" + struct.pack("<I", 8))
        strip = 8 + count * ifd_size
        for i in range(count):
            entries = [e if e[0] != 273 else (273, 4, 1, strip) for e in base]
            nxt = 8 + (i + 1) * ifd_size if i + 1 < count else 0
            out += struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries)
            out += struct.pack("<I", nxt)
        return "many.tif", bytes(out) + b"\x80" * 10000
    if how == "strips":
        entries = [e if e[0] not in (273, 279) else (e[0], 4, 1, rng.choice((2**32 - 1, 10**9, 0))) for e in base]
        return "strips.tif", _tiff(entries, payload=b"\x00" * 100)
    if how == "huge":
        side = rng.choice((60000, 12000))
        entries = [(256, 4, 1, side), (257, 4, 1, side), (258, 3, 1, 8), (259, 3, 1, rng.choice((5, 8, 32773))),
                   (262, 3, 1, 1), (273, 4, 1, data_at), (277, 3, 1, 1), (278, 4, 1, side), (279, 4, 1, 4096)]
        return "huge.tif", _tiff(entries, payload=_deflated(1 << 20, b"\x00")[:4096])
    name, data = _image(corpus, rng, ".tif")
    return name, bit_flips(data, rng, most=8)


def image_wrong_name(rng, corpus):
    """A document whose name says another type (a PNG named .pdf, a PDF named .jpg, a JPEG named .tif)."""
    name, data = (_image(corpus, rng) if rng.random() < 0.7 else _seed(corpus, rng))
    return rng.choice(("scan.pdf", "scan.jpg", "scan.tif", "scan.png", "scan")), data


def image_in_pdf(rng, corpus):
    """A page image wrapped in a PDF (a scanned invoice), its image data mutated: read by OCR."""
    name, data = next(p for p in corpus.pdfs if p[0] == "scanned.pdf")
    i = data.find(b"stream")
    cut = rng.randint(i + 10, len(data) - 100)
    return name, data[:cut] + bit_flips(data[cut:cut + 200], rng, most=4) + data[cut + 200:]


IMAGE_KINDS = {
    "bitflip": (image_bitflip, 8), "truncate": (image_truncate, 6), "havoc": (image_havoc, 6),
    "png-chunks": (image_png_chunks, 6), "png-bomb": (image_png_bomb, 1), "jpeg": (image_jpeg, 6),
    "tiff": (image_tiff, 6), "wrong-name": (image_wrong_name, 2), "scan-in-pdf": (image_in_pdf, 3),
}


def image_seed_check(corpus: Corpus) -> None:
    from PIL import Image

    for _name, data in corpus.images:
        Image.open(io.BytesIO(data)).load()
