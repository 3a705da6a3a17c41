"""The document readers on generated documents: text PDFs, scans, TIFF, mixed PDFs, rotation."""

from __future__ import annotations

import hashlib
import logging

import pytest
from invoicebot.readers import detect_type, read_document
from invoicebot.readers.grouping import RawWord, group_lines, merge_letter_spaced
from invoicebot.readers.pdf import is_usable
from invoicebot.schema import Document


def _lines(doc: Document, page: int = 1) -> list[str]:
    return doc.text.split("\f")[page - 1].split("\n")


def _find_line(doc: Document, *needles: str) -> str:
    for line in doc.text.replace("\f", "\n").split("\n"):
        if all(n.lower() in line.lower() for n in needles):
            return line
    raise AssertionError(f"no line holds {needles!r}; text was:\n{doc.text}")


# --------------------------------------------------------------------------- text PDFs


def test_text_pdf_words_boxes_and_lines(documents, reader_settings):
    path = documents.text_pdf(seed=0)
    doc = read_document(path, reader_settings)

    assert doc.media_type == "application/pdf"
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert len(doc.pages) == 1
    page = doc.pages[0]
    assert page.source == "text" and page.number == 1
    assert page.width == pytest.approx(595.27, abs=0.1) and page.height == pytest.approx(841.89, abs=0.1)
    assert page.seconds > 0
    assert len(page.words) > 80
    for w in page.words:
        x0, y0, x1, y1 = w.bbox
        assert 0 <= x0 < x1 <= 1000 and 0 <= y0 < y1 <= 1000, w
        assert w.page == 1 and w.source == "text" and w.confidence == 1.0
        assert w.line >= 0 and w.block >= 0

    # The vendor name and the heading drawn on the same baseline form one visual line, left to right.
    assert _lines(doc)[0] == "Northwind Office Supplies Ltd INVOICE"
    # A label and its value, far apart on the same line, are one line.
    assert _find_line(doc, "Invoice number:").endswith("Invoice number: INV-2024-01000")
    assert "Total due" in doc.text

    # Lines are numbered top to bottom, and words within a line left to right.
    tops: dict[int, list[float]] = {}
    for w in page.words:
        tops.setdefault(w.line, []).append(w.bbox[1])
    order = sorted(tops)
    assert order == list(range(len(order)))
    mids = [sum(v) / len(v) for _, v in sorted(tops.items())]
    assert mids == sorted(mids)
    for line_no in order:
        xs = [w.bbox[0] for w in page.words if w.line == line_no]
        assert xs == sorted(xs)


def test_text_pdf_blocks_separate_columns(documents, reader_settings):
    doc = read_document(documents.text_pdf(seed=0), reader_settings)
    words = {w.text: w for w in doc.pages[0].words}
    # The vendor block (left) and the invoice meta data (right) are different blocks...
    assert words["Harbour"].block != words["INV-2024-01000"].block
    # ...while the vendor's street and city lines are one block.
    assert words["Harbour"].block == words["Bristol"].block


@pytest.mark.parametrize("angle", [90, 180, 270])
def test_rotated_pdf_page_is_read_upright(documents, tmp_path, reader_settings, angle):
    from pypdf import PdfWriter

    source = documents.text_pdf(seed=0)
    writer = PdfWriter(clone_from=str(source))
    writer.pages[0].rotate(angle)  # displayed turned clockwise, as a sideways scan or a landscape print
    path = tmp_path / f"rotated_{angle}.pdf"
    writer.write(path)

    upright = read_document(source, reader_settings)
    doc = read_document(path, reader_settings)
    page = doc.pages[0]
    # Rotation counts counter-clockwise, as for scans: a page shown turned 90 clockwise is turned back by 90.
    assert page.source == "text" and page.rotation == angle
    assert (page.width, page.height) == pytest.approx((upright.pages[0].width, upright.pages[0].height), abs=0.5)
    assert doc.text == upright.text
    for a, b in zip(upright.words, doc.words, strict=True):
        assert a.bbox == pytest.approx(b.bbox, abs=1.0), (a, b)


def test_multi_page_pdf_numbers_pages(documents, reader_settings):
    doc = read_document(documents.text_pdf(seed=1, pages=2), reader_settings)
    assert [p.number for p in doc.pages] == [1, 2]
    assert {w.page for w in doc.pages[1].words} == {2}
    assert doc.text.count("\f") == 1


def test_letter_spacing_and_overlaid_spaces_are_merged(documents, reader_settings):
    doc = read_document(documents.spaced_pdf(), reader_settings)
    texts = [w.text for w in doc.words]
    assert "INVOICE" in texts, texts
    assert "Factuurnummer:" in texts, texts
    assert "Klantnummer:" in texts
    # Ordinary words stay apart.
    assert _find_line(doc, "Total").split() == ["Total", "due", "1,234.56", "EUR"]


def test_merge_letter_spaced_leaves_ordinary_words():
    def w(text, x0, x1):
        return RawWord(text=text, x0=x0, top=0, x1=x1, bottom=10)

    spaced = [w("I", 0, 3), w("N", 8, 15), w("V", 20, 27), w("O", 32, 40), w("Total", 80, 105)]
    assert [x.text for x in merge_letter_spaced(spaced)] == ["INVO", "Total"]
    two = [w("A", 0, 7), w("B", 12, 19), w("Street", 24, 50)]
    assert [x.text for x in merge_letter_spaced(two)] == ["A", "B", "Street"]
    far = [w("A", 0, 7), w("B", 60, 67), w("C", 120, 127)]
    assert [x.text for x in merge_letter_spaced(far)] == ["A", "B", "C"]


def test_letter_spacing_near_the_word_tolerance_is_joined_at_letters_not_at_spaces(tmp_path, reader_settings):
    """Letter spacing about as wide as pdfplumber's x_tolerance broke headings at uneven places ("REMIT TANCE
    ADVICE", "FAT TURA", "AVIS D E PAIEMENT"); the space characters between the words say where words end."""
    from reportlab.pdfgen import canvas

    path = tmp_path / "spaced.pdf"
    c = canvas.Canvas(str(path))
    for y, size, spacing, text in ((760, 14.4, 2.9, "REMITTANCE ADVICE"), (720, 16.8, 3.4, "AVIS DE PAIEMENT"),
                                   (680, 14.4, 3.1, "FATTURA")):
        c.saveState()  # the character spacing (Tc) outlives the text object otherwise
        t = c.beginText(50, y)
        t.setFont("Helvetica-Bold", size)
        t.setCharSpace(spacing)
        t.textOut(text)
        c.drawText(t)
        c.restoreState()
    c.setFont("Helvetica", 10)
    c.drawString(50, 640, "Total due 1,234.56 EUR")
    for x, word in ((50, "Invoice"), (86, "A"), (96, "B"), (106, "Total")):  # words placed apart, no space glyphs
        c.drawString(x, 620, word)
    c.showPage()
    c.save()
    doc = read_document(path, reader_settings)
    assert _find_line(doc, "ADVICE").split() == ["REMITTANCE", "ADVICE"]
    assert _find_line(doc, "PAIEMENT").split() == ["AVIS", "DE", "PAIEMENT"]
    assert "FATTURA" in [w.text for w in doc.words]
    assert _find_line(doc, "due").split() == ["Total", "due", "1,234.56", "EUR"]
    assert _find_line(doc, "Invoice").split() == ["Invoice", "A", "B", "Total"]


def test_join_touching_pieces_and_drop_double_drawn_words():
    from invoicebot.readers.grouping import join_touching

    def w(text, x0, x1):
        return RawWord(text=text, x0=x0, top=0, x1=x1, bottom=10)

    # "Policy" drawn in bold, its ":" drawn elsewhere in the stream but touching it.
    assert [x.text for x in join_touching([w("Returns", 0, 40), w("Policy", 42.5, 70), w(":", 70.01, 72)])] == [
        "Returns",
        "Policy:",
    ]
    # A value drawn over a label stays apart; a word drawn twice (fake bold) is kept once.
    assert [x.text for x in join_touching([w("prélèvement:", 93, 149), w("29.99", 140, 163)])] == [
        "prélèvement:",
        "29.99",
    ]
    assert [x.text for x in join_touching([w("Total", 0, 30), w("Total", 0.3, 30.3), w("due", 33, 50)])] == [
        "Total",
        "due",
    ]


def test_value_drawn_over_its_label_is_not_interleaved(tmp_path, reader_settings):
    from reportlab.pdfgen import canvas

    path = tmp_path / "overlay.pdf"
    c = canvas.Canvas(str(path))
    c.setFont("Helvetica", 8)
    c.drawString(50, 700, "Montant du prélèvement :")
    c.drawString(120, 700, "29.99 EUR")  # starts over the end of the label, as in free_fiber.pdf
    c.drawString(50, 680, "Total due 29.99 EUR")
    c.showPage()
    c.save()
    doc = read_document(path, reader_settings)
    texts = [w.text for w in doc.words]
    assert "29.99" in texts and "EUR" in texts and "prélèvement" in texts, texts


def test_group_lines_does_not_creep_down_the_page():
    # A tall heading beside two small lines: the heading joins the first line only.
    words = [
        RawWord("Big", 0, 48, 80, 68),
        RawWord("Small1", 200, 48, 260, 56),
        RawWord("Small2", 200, 62, 260, 70),
        RawWord("Body", 0, 67, 60, 83),
    ]
    lines = [[w.text for w in line] for line in group_lines(words)]
    assert lines == [["Big", "Small1"], ["Small2"], ["Body"]]


def test_glyph_code_pages_are_not_usable(reader_settings):
    coded = [RawWord(f"(cid:{i})", 0, 0, 1, 1) for i in range(10)]
    assert not is_usable(coded, reader_settings)
    assert not is_usable([RawWord("Total", 0, 0, 1, 1)], reader_settings)
    assert is_usable([RawWord(t, 0, 0, 1, 1) for t in ("Invoice", "number", "42")], reader_settings)


# --------------------------------------------------------------------------- OCR


def test_scanned_png_is_read_by_ocr(documents, reader_settings):
    doc = read_document(documents.scan_png(seed=0), reader_settings)
    assert doc.media_type == "image/png"
    page = doc.pages[0]
    assert page.source == "ocr" and page.rotation == 0 and page.seconds > 0
    assert page.width == 1654  # pixels of an A4 page at 200 dpi
    words = [w.text for w in page.words]
    for expected in ("Northwind", "INVOICE", "Harbour", "INV-2024-01000", "Subtotal"):
        assert expected in words, (expected, doc.text)
    for w in page.words:
        assert w.source == "ocr" and 0.0 <= w.confidence <= 1.0 and w.line >= 0 and w.block >= 0
        assert 0 <= w.bbox[0] < w.bbox[2] <= 1000 and 0 <= w.bbox[1] < w.bbox[3] <= 1000
    assert sum(w.confidence for w in page.words) / len(page.words) > 0.7
    # OCR line fragments of one visual row are one line, as on the text layer.
    assert _find_line(doc, "Invoice number").split()[-1] == "INV-2024-01000"


@pytest.mark.slow
def test_multi_page_tiff_is_read_page_by_page(documents, reader_settings):
    doc = read_document(documents.scan_tiff(), reader_settings)
    assert doc.media_type == "image/tiff"
    assert [p.number for p in doc.pages] == [1, 2]
    assert all(p.source == "ocr" for p in doc.pages)
    assert "RECHNUNG" in [w.text for w in doc.pages[0].words]
    last = doc.pages[1]
    assert {w.page for w in last.words} == {2}
    assert "Gesamtbetrag" in [w.text for w in last.words], doc.text


def test_mixed_pdf_is_decided_page_by_page(documents, reader_settings):
    doc = read_document(documents.mixed_pdf(), reader_settings)
    assert [p.source for p in doc.pages] == ["text", "ocr"]
    assert "Cover letter" in doc.text.split("\f")[0]
    scanned = [w.text for w in doc.pages[1].words]
    assert "Northwind" in scanned and "INVOICE" in scanned
    assert doc.pages[1].width == pytest.approx(595.27, abs=1)  # page units stay PDF points
    assert all(w.page == 2 and w.source == "ocr" for w in doc.pages[1].words)


@pytest.mark.slow
@pytest.mark.parametrize("angle", [90, 180])
def test_rotated_scan_is_turned_upright(documents, reader_settings, angle):
    doc = read_document(documents.scan_png(seed=0, angle=angle), reader_settings)
    page = doc.pages[0]
    assert page.rotation == (360 - angle) % 360
    assert page.width < page.height  # upright A4
    words = [w.text for w in page.words]
    assert "Northwind" in words and "INVOICE" in words, doc.text


def test_jpeg_photo_is_turned_by_its_exif_orientation(documents, tmp_path, reader_settings):
    from PIL import Image

    with Image.open(documents.scan_png(seed=0)) as img:
        sideways = img.rotate(90, expand=True)  # stored turned left, as a phone camera saves it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = tmp_path / "photo.jpg"
    sideways.convert("RGB").save(path, format="JPEG", quality=85, exif=exif, dpi=(200, 200))
    doc = read_document(path, reader_settings)
    assert doc.media_type == "image/jpeg"
    page = doc.pages[0]
    assert page.rotation == 270 and page.width < page.height
    assert "Northwind" in [w.text for w in page.words], doc.text


def test_low_resolution_scan_is_enlarged_for_ocr(documents, tmp_path, reader_settings):
    image = documents.page_images(seed=0, dpi=90)[0]
    path = tmp_path / "screenshot.png"
    image.save(path, dpi=(90, 90))
    doc = read_document(path, reader_settings)
    page = doc.pages[0]
    assert (page.width, page.height) == image.size  # boxes and sizes stay in the file's pixels
    words = [w.text for w in page.words]
    for expected in ("Northwind", "Harbour", "INV-2024-01000", "Subtotal"):
        assert expected in words, (expected, doc.text)


def test_transparent_png_is_read_on_white(documents, tmp_path, reader_settings):
    import numpy as np
    from PIL import Image

    with Image.open(documents.scan_png(seed=0)) as img:
        ink = 255 - np.array(img.convert("L"))
    rgba = np.zeros((*ink.shape, 4), dtype=np.uint8)
    rgba[..., 3] = ink  # black text, the paper fully transparent (and black underneath)
    path = tmp_path / "transparent.png"
    Image.fromarray(rgba, "RGBA").save(path)
    doc = read_document(path, reader_settings)
    assert "Northwind" in [w.text for w in doc.words], doc.text


def test_blank_scan_keeps_rotation_zero(tmp_path, reader_settings):
    from PIL import Image

    path = tmp_path / "blank.png"
    Image.new("L", (800, 1100), 255).save(path)
    doc = read_document(path, reader_settings)
    assert doc.pages[0].rotation == 0 and doc.pages[0].words == []


def test_text_held_in_a_picture_is_read_only_on_request(documents, reader_settings):
    path = documents.logo_pdf()
    plain = read_document(path, reader_settings)
    assert plain.pages[0].source == "text"
    assert "Northwind" not in plain.text and "Invoice number: 4711" in plain.text

    doc = read_document(path, reader_settings, ocr_images=True)
    page = doc.pages[0]
    assert page.source == "text"
    pictured = [w for w in page.words if w.source == "ocr"]
    assert {"Northwind", "Harbour"} <= {w.text for w in pictured}, doc.text
    assert all(w.bbox[1] < 200 and 0 < w.confidence <= 1 for w in pictured)  # in the top of the page
    assert doc.text.split("\n")[0].startswith("Northwind Office Supplies")
    assert "Invoice number: 4711" in doc.text


def test_document_round_trips_through_json(documents, reader_settings):
    doc = read_document(documents.text_pdf(seed=0), reader_settings)
    again = Document.from_dict(doc.to_dict())
    assert again.text == doc.text and again.sha256 == doc.sha256


def test_wrong_extension_is_read_by_content(documents, reader_settings, caplog):
    pdf_as_png = documents.copy_as(documents.text_pdf(seed=0), "invoice_really_pdf.png")
    with caplog.at_level(logging.WARNING, logger="invoicebot.readers"):
        doc = read_document(pdf_as_png, reader_settings)
    assert doc.media_type == "application/pdf" and doc.pages[0].source == "text"
    assert any(
        "invoice_really_pdf.png" in r.getMessage() and "application/pdf" in r.getMessage() for r in caplog.records
    )
    assert detect_type(pdf_as_png) == "application/pdf"


def test_ocr_languages_fall_back_to_installed(caplog):
    from invoicebot.readers.ocr import installed_languages, resolve_languages

    assert "eng" in installed_languages()
    with caplog.at_level(logging.WARNING, logger="invoicebot.readers"):
        assert resolve_languages("eng+xx_not_a_language") == "eng"
    assert "xx_not_a_language" in caplog.text


# --------------------------------------------------------------------------- bench


def test_bench_measures_engine_beside_floor(documents, reader_settings):
    from invoicebot.bench import format_table, run_bench

    calls = []

    def engine(path):
        calls.append(path)
        return read_document(path, reader_settings)

    pdfs = [documents.text_pdf(seed=0), documents.text_pdf(seed=1, pages=2)]
    result = run_bench(pdfs, [], engine, settings=reader_settings, repeat=1)
    text = result["text"]
    assert "scan" not in result
    assert text["documents"] == 2 and text["pages"] == 3
    assert text["engine_seconds"] > 0 and text["floor_seconds"] > 0 and text["ratio"] > 0
    assert text["engine_pages_per_s"] == pytest.approx(3 / text["engine_seconds"], rel=0.01)
    assert len(calls) == 4  # one warm-up and one timed run per document
    table = format_table(result)
    assert table.splitlines()[2].split()[:3] == ["text", "2", "3"]


def test_page_chars_are_pdfplumbers_chars(documents):
    """The reader's own conversion of the page layout gives what ``page.chars`` gives, for the keys it reads."""
    import pdfplumber
    from invoicebot.readers.pdf import page_chars

    keys = ("text", "x0", "x1", "top", "bottom", "doctop", "upright", "size", "matrix")
    for pdf_path in (documents.text_pdf(seed=3, pages=2), documents.spaced_pdf()):
        with pdfplumber.open(pdf_path) as pdf:
            for page in pdf.pages:
                mine = [{k: c[k] for k in keys} for c in page_chars(page)]
                assert mine and mine == [{k: c[k] for k in keys} for c in page.chars]
