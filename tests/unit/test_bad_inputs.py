"""Every kind of bad input gives its own error class, and a message that names the file and what to do."""

from __future__ import annotations

import dataclasses

import pytest
from invoicebot.errors import (
    CorruptDocument,
    DocumentError,
    DocumentNotFound,
    EmptyDocument,
    EncryptedDocument,
    FileTooLarge,
    ImageTooLarge,
    InvoiceBotError,
    OcrUnavailable,
    TooManyPages,
    UnsupportedDocument,
)
from invoicebot.readers import read_document


def _refused(path, settings, error_class, *hints: str) -> InvoiceBotError:
    with pytest.raises(error_class) as info:
        read_document(path, settings)
    err = info.value
    assert type(err) is error_class
    message = str(err)
    assert str(path) in message, message
    assert err.path == str(path)
    for hint in hints:
        assert hint in message, (hint, message)
    assert err.to_dict()["code"] == error_class.code
    return err


def test_zero_byte_file(tmp_path, reader_settings):
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    _refused(path, reader_settings, EmptyDocument, "0 bytes", "ask the sender")


def test_blank_bytes_file(tmp_path, reader_settings):
    path = tmp_path / "blank.pdf"
    path.write_bytes(b"\x00" * 100 + b"\n\n  ")
    _refused(path, reader_settings, EmptyDocument, "ask the sender")


def test_truncated_pdf(documents, tmp_path, reader_settings):
    data = documents.text_pdf(seed=0).read_bytes()
    path = tmp_path / "truncated.pdf"
    path.write_bytes(data[: len(data) // 2])
    _refused(path, reader_settings, CorruptDocument, "damaged", "send it again")


def test_garbage_after_pdf_header(tmp_path, reader_settings):
    path = tmp_path / "garbage.pdf"
    path.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    _refused(path, reader_settings, CorruptDocument, "send it again")


def test_pdf_that_only_pdfium_can_parse_is_read_by_ocr(documents, tmp_path, reader_settings, caplog):
    data = documents.text_pdf(seed=0).read_bytes()
    path = tmp_path / "no_xref.pdf"
    path.write_bytes(data[: data.rfind(b"xref")] + b"%%EOF\n")  # no xref table, no trailer
    with caplog.at_level("WARNING", logger="invoicebot.readers"):
        doc = read_document(path, reader_settings)
    assert [p.source for p in doc.pages] == ["ocr"]
    assert "Northwind" in [w.text for w in doc.words]
    assert "reading every page by OCR" in caplog.text


def test_pdf_with_user_password(documents, reader_settings):
    _refused(documents.encrypted_pdf("secret"), reader_settings, EncryptedDocument, "unprotected copy")


def test_pdf_with_owner_password_only_is_readable(documents, reader_settings):
    doc = read_document(documents.encrypted_pdf(""), reader_settings)
    assert doc.pages[0].source == "text" and "Northwind" in doc.text


def test_too_many_pages_is_refused_before_any_page_is_parsed(documents, reader_settings, monkeypatch):
    import pdfplumber

    def no_parsing(*args, **kwargs):
        raise AssertionError("pdfplumber must not be opened for a document over the page limit")

    monkeypatch.setattr(pdfplumber, "open", no_parsing)
    err = _refused(documents.long_pdf(500), reader_settings, TooManyPages, "500 pages", "INVOICEBOT_MAX_PAGES")
    assert str(reader_settings.max_pages) in str(err)


def test_tiff_with_too_many_pages(tmp_path, reader_settings):
    from PIL import Image

    path = tmp_path / "many.tiff"
    frames = [Image.new("L", (50, 50), 255) for _ in range(3)]
    frames[0].save(path, format="TIFF", save_all=True, append_images=frames[1:])
    settings = dataclasses.replace(reader_settings, max_pages=2)
    _refused(path, settings, TooManyPages, "3 pages", "INVOICEBOT_MAX_PAGES")


def test_huge_png_is_refused_from_its_header(documents, reader_settings, monkeypatch):
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("the pixels of an over-large image must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    _refused(
        documents.png_header(30000, 30000), reader_settings, ImageTooLarge, "900,000,000", "INVOICEBOT_MAX_IMAGE_PIXELS"
    )


def test_image_over_the_configured_pixel_limit(documents, reader_settings, monkeypatch):
    from PIL import ImageFile

    def no_decoding(self):
        raise AssertionError("the pixels of an over-large image must not be decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    settings = dataclasses.replace(reader_settings, max_image_pixels=1_000_000)
    _refused(documents.png_header(2000, 2000), settings, ImageTooLarge, "2000x2000", "1,000,000")


def test_file_over_the_byte_limit(documents, reader_settings):
    settings = dataclasses.replace(reader_settings, max_file_bytes=1000)
    _refused(documents.text_pdf(seed=0), settings, FileTooLarge, "INVOICEBOT_MAX_FILE_BYTES")


def test_docx_is_refused_saying_what_it_is(documents, reader_settings):
    err = _refused(documents.docx(), reader_settings, UnsupportedDocument, "Word document", "PDF, PNG, JPEG or TIFF")
    assert isinstance(err, DocumentError)


def test_pdf_named_docx_is_still_read(documents, reader_settings):
    doc = read_document(documents.copy_as(documents.text_pdf(seed=0), "really_a_pdf.docx"), reader_settings)
    assert doc.media_type == "application/pdf"


@pytest.mark.parametrize(
    ("content", "what"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 200, "Windows program"),
        (b"Dear customer,\nplease find the invoice attached.\nRegards\n", "plain text"),
        (b"<!DOCTYPE html><html><body>Invoice</body></html>", "HTML"),
        (b"GIF89a\x01\x00\x01\x00" + b"\x00" * 30, "GIF image"),
        (bytes(range(1, 256)) * 4, "unknown type"),
    ],
)
def test_other_unsupported_files(tmp_path, reader_settings, content, what):
    path = tmp_path / "attachment.pdf"  # the name lies; the content decides
    path.write_bytes(content)
    _refused(path, reader_settings, UnsupportedDocument, what, "supported are PDF, PNG, JPEG or TIFF")


def test_missing_file(tmp_path, reader_settings):
    err = _refused(tmp_path / "no_such_invoice.pdf", reader_settings, DocumentNotFound, "does not exist")
    assert isinstance(err, FileNotFoundError)


def test_directory(tmp_path, reader_settings):
    _refused(tmp_path, reader_settings, DocumentNotFound, "is a folder")


def test_corrupt_png(documents, tmp_path, reader_settings):
    data = documents.scan_png(seed=0).read_bytes()
    path = tmp_path / "cut.png"
    path.write_bytes(data[: len(data) // 3])
    _refused(path, reader_settings, CorruptDocument, "send it again")


def test_missing_tesseract_gives_install_hint(documents, reader_settings, monkeypatch):
    import pytesseract
    from invoicebot.readers import ocr

    monkeypatch.setattr(pytesseract.pytesseract, "tesseract_cmd", "/nonexistent/tesseract")
    monkeypatch.setenv("TESSERACT_CMD", "/nonexistent/tesseract")
    ocr.installed_languages.cache_clear()
    ocr.resolve_languages.cache_clear()

    def not_installed(config=""):
        raise pytesseract.TesseractNotFoundError()

    # pytesseract caches its first --list-langs answer, so the missing binary is faked there too.
    monkeypatch.setattr(pytesseract, "get_languages", not_installed)
    try:
        with pytest.raises(OcrUnavailable) as info:
            read_document(documents.scan_png(seed=0), reader_settings)
    finally:
        ocr.installed_languages.cache_clear()
        ocr.resolve_languages.cache_clear()
    assert "apt-get install tesseract-ocr" in str(info.value)
    assert info.value.retryable


def test_no_usable_ocr_language(documents, reader_settings):
    settings = dataclasses.replace(reader_settings, ocr_languages="xx_none+yy_none")
    with pytest.raises(OcrUnavailable, match="none of the OCR languages"):
        read_document(documents.scan_png(seed=0), settings)


# --- found by `invoicebot fuzz` (issue 19): damaged PDFs and images that came back as INTERNAL -------------------


def _pdf_of(objects: list[bytes]) -> bytes:
    from invoicebot.fuzz.mutate import build_pdf

    return build_pdf(objects)


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
_TEXT = b"BT /F1 24 Tf 60 700 Td (Invoice INV-2024-0042 Total 24.00 EUR) Tj ET"
_CONTENT = b"<< /Length %d >>\nstream\n%s\nendstream" % (len(_TEXT), _TEXT)


def _page(media_box: bytes = b"[0 0 595 842]", contents: bytes = b"/Contents 5 0 R") -> bytes:
    return b"<< /Type /Page /Parent 2 0 R /MediaBox %s %s /Resources << /Font << /F1 3 0 R >> >> >>" % (
        media_box, contents)


def test_pdf_page_tree_that_pdfminer_rejects_is_read_by_ocr(tmp_path, reader_settings, caplog):
    # pdfminer fails on the page's MediaBox when it lists the pages; PDFium draws it.  The OCR fallback returned
    # inside `with pdf:`, whose close() listed the pages again and raised MalformedPDFException out of the reader.
    path = tmp_path / "bad_mediabox.pdf"
    path.write_bytes(_pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>",
                              _FONT, _page(media_box=b"[0 0 1 /e9 1 /e9]"), _CONTENT]))
    with caplog.at_level("WARNING", logger="invoicebot.readers"):
        doc = read_document(path, reader_settings)
    assert [p.source for p in doc.pages] == ["ocr"]
    assert "INV-2024-0042" in " ".join(w.text for w in doc.words)
    assert "the page tree cannot be parsed by pdfminer" in caplog.text


def test_pdf_page_that_pdfium_cannot_load_is_corrupt(tmp_path, reader_settings):
    # a page tree 2,000 levels deep: PDFium counts one page but cannot load it (it raised PdfiumError, outside any
    # try), and pdfminer gives up on the depth (RecursionError)
    import random

    from invoicebot.fuzz.mutate import deep_page_tree

    path = tmp_path / "deep_tree.pdf"
    path.write_bytes(deep_page_tree(2000, random.Random(0)))
    _refused(path, reader_settings, CorruptDocument, "page 1 cannot be loaded", "send it again")


def test_pdf_with_more_pdfminer_pages_than_pdfium_pages_reads_pdfiums(tmp_path, reader_settings, caplog):
    # /Count says 1 but /Kids lists 3 pages, two of them blank: PDFium trusts /Count, pdfminer walks /Kids.  The
    # blank pages went to OCR with an index PDFium does not have (and /Count is what the page limit checked).
    path = tmp_path / "count_lies.pdf"
    path.write_bytes(_pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>",
                              b"<< /Type /Pages /Count 1 /Kids [4 0 R 6 0 R 7 0 R] >>", _FONT, _page(), _CONTENT,
                              _page(contents=b""), _page(contents=b"")]))
    with caplog.at_level("WARNING", logger="invoicebot.readers"):
        doc = read_document(path, reader_settings)
    assert [p.source for p in doc.pages] == ["text"]
    assert "pdfminer finds 3 pages where PDFium finds 1" in caplog.text


def test_tiff_frame_without_dimensions_is_corrupt(documents, tmp_path, reader_settings):
    # Pillow raises TypeError("Missing dimensions") when it counts the frames of a TIFF whose second IFD has no width
    import struct

    def ifd(entries, next_ifd):
        return struct.pack("<H", len(entries)) + b"".join(struct.pack("<HHII", *e) for e in entries) + struct.pack(
            "<I", next_ifd)

    first = [(256, 4, 1, 8), (257, 4, 1, 8), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1), (273, 4, 1, 200),
             (277, 3, 1, 1), (278, 4, 1, 8), (279, 4, 1, 64)]
    second_at = 8 + 2 + 12 * len(first) + 4
    data = b"II*\x00" + struct.pack("<I", 8) + ifd(first, second_at) + ifd([(257, 4, 1, 8), (262, 3, 1, 1)], 0)
    path = tmp_path / "no_width.tif"
    path.write_bytes(data.ljust(200, b"\x00") + b"\x80" * 64)
    _refused(path, reader_settings, CorruptDocument, "damaged", "send it again")


def _deflated_pdf(tmp_path, name: str, size: int, *, image_side: int = 0):
    import zlib

    comp = zlib.compressobj(9)
    fill = b"\xff" if image_side else b" "
    body = b"".join(comp.compress(fill * (1 << 20)) for _ in range(size >> 20)) + comp.flush()
    flate = b"<< %s/Length %d /Filter /FlateDecode >>\nstream\n" % (
        b"/Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
        % (image_side, image_side) if image_side else b"", len(body)) + body + b"\nendstream"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %s /Resources << %s >> >>" % (
        (b"5 0 R", b"/XObject << /Im1 6 0 R >>") if image_side else (b"6 0 R", b""))
    draw = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    path = tmp_path / name
    path.write_bytes(_pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>",
                              _FONT, page, b"<< /Length %d >>\nstream\n%s\nendstream" % (len(draw), draw), flate]))
    return path


def test_pdf_compression_bomb_is_refused_before_it_is_inflated(tmp_path, reader_settings):
    # 40 KB that inflate to 40 MB of page content (the fuzzer's bombs: 1 GB from 1 MB, which took gigabytes and
    # aborted the process under a memory cap); the file was read as a blank page
    path = _deflated_pdf(tmp_path, "bomb.pdf", 40 << 20)
    assert path.stat().st_size < 100_000
    _refused(path, reader_settings, FileTooLarge, "inflates to more than 16,777,216 bytes", "compression bomb")


def test_pdf_image_that_inflates_past_the_pixel_limit_is_refused(tmp_path, reader_settings):
    # a 2,048 x 2,048 image (4 MiB inflated) under a limit of 1 million pixels (3 MB at 3 bytes a pixel)
    path = _deflated_pdf(tmp_path, "image_bomb.pdf", 4 << 20, image_side=2048)
    settings = dataclasses.replace(reader_settings, max_image_pixels=1_000_000)
    _refused(path, settings, ImageTooLarge, "an image in this PDF inflates", "INVOICEBOT_MAX_IMAGE_PIXELS")


def test_pdf_with_ordinary_flate_streams_passes_the_bomb_check(documents, reader_settings):
    doc = read_document(documents.text_pdf(seed=1, pages=2), reader_settings)
    assert [p.source for p in doc.pages] == ["text", "text"]


def test_pdf_predictor_with_a_hundred_million_columns_is_corrupt(tmp_path, reader_settings):
    # 1 KB whose /DecodeParms declare 99,999,999 columns of 4 colours: pdfminer allocated 900 MB for the predictor's
    # row (and a MemoryError under a tighter cap) before it found the data broken; PDFium then drew a blank page
    import zlib

    body = zlib.compress(b"\x02" + b"a" * 100)
    content = b"<< /Length %d /Filter /FlateDecode /DecodeParms << /Predictor 15 /Columns 99999999 /Colors 4 >> >>" \
        b"\nstream\n%s\nendstream" % (len(body), body)
    path = tmp_path / "predictor.pdf"
    path.write_bytes(_pdf_of([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>",
                              _FONT, _page(), content]))
    _refused(path, reader_settings, CorruptDocument, "predictor declares 99,999,999 columns", "send it again")


# --- mails found by `invoicebot fuzz` (zip family, --guided mail): one bad part cost the whole mail -------------


def _mail_with_zip(zip_bytes: bytes) -> bytes:
    import base64

    from invoicebot.fuzz.mutate import build_pdf

    pdf = build_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Count 1 /Kids [4 0 R] >>", _FONT,
                     _page(), _CONTENT])
    return (b'From: Vendor <billing@vendor.example>\r\nSubject: Invoices\r\nMessage-ID: <zip@vendor.example>\r\n'
            b'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b0"\r\n\r\n'
            b'--b0\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="good.pdf"\r\n\r\n' + base64.encodebytes(pdf) +
            b'\r\n--b0\r\nContent-Type: application/zip\r\nContent-Transfer-Encoding: base64\r\n'
            b'Content-Disposition: attachment; filename="more.zip"\r\n\r\n' + base64.encodebytes(zip_bytes) +
            b"\r\n--b0--\r\n")


def _zip_of(members: list[tuple[str, bytes]]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _taken_and_skipped(raw: bytes):
    from invoicebot.mail import parse_message

    message = parse_message(raw)
    assert not message.problems, message.problems  # the mail is read, not sent to a person as unparseable
    return [a.file_name for a in message.documents], {a.file_name: a.skip_reason for a in message.skipped}


def test_zip_with_a_damaged_deflate_stream_is_skipped_and_the_mail_read():
    # bit flips in a member's compressed data: zipfile raised zlib.error (not BadZipFile) out of the zip expansion
    data = bytearray(_zip_of([("invoice.pdf", b"%PDF-1.4\n" + bytes(range(256)) * 64)]))
    start = data.find(b"invoice.pdf") + len("invoice.pdf")
    data[start + 5: start + 40] = b"\xff" * 35
    taken, skipped = _taken_and_skipped(_mail_with_zip(bytes(data)))
    assert taken == ["good.pdf"]
    assert any(reason.startswith("zip member unreadable") for reason in skipped.values()), skipped


def test_zip_with_a_nameless_member_is_skipped_and_the_mail_read():
    # a member whose name is empty: ZipInfo.is_dir() raised IndexError while the archive was checked
    taken, skipped = _taken_and_skipped(_mail_with_zip(_zip_of([("", b"%PDF-1.4\n"), ("../x.pdf", b"%PDF-1.4\n")])))
    assert taken[0] == "good.pdf"
    assert all("/" not in name for name in taken)


@pytest.mark.parametrize("message_id", [b"<@x>", b"<(a)@x>", b"<[@x>", b"<,@x>", b"<:@x>"])
def test_mail_whose_message_id_the_header_parser_rejects_is_read(message_id):
    # found by `invoicebot fuzz --guided mail`: email's parser raises IndexError on these, and _header's fallback
    # (get_all) parsed the header again, out of parse_message
    from invoicebot.mail import parse_message

    message = parse_message(b"From: a@vendor.example\r\nMessage-ID: " + message_id + b"\r\nSubject: x\r\n\r\nbody")
    assert message.message_id
    assert message.sender == "a@vendor.example"
