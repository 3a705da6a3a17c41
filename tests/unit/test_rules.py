"""The rule-based extractor on small hand-laid pages: labels left and above, totals, confusables."""

from __future__ import annotations

import pytest
from invoicebot import rules
from invoicebot.candidates import build_context
from invoicebot.pipeline import classify_by_rules
from invoicebot.schema import Document, Page, Word
from invoicebot.vocabulary import load_vocabulary

CHAR_W = 6.0  # width of one character in 0..1000 page units
LINE_H = 12.0


def page_of(rows: list[tuple[float, float, str]], number: int = 1) -> Page:
    """Words laid out from (x, y, text) rows: each row's words follow each other left to right."""
    words = []
    for line_no, (x, y, text) in enumerate(rows):
        pos = x
        for token in text.split(" "):
            if not token:
                pos += CHAR_W
                continue
            w = len(token) * CHAR_W
            words.append(Word(token, (pos, y, pos + w, y + LINE_H), number, "text", 1.0, line_no))
            pos += w + CHAR_W
    return Page(number, 595, 842, "text", words)


def doc_of(*pages: list[tuple[float, float, str]]) -> Document:
    return Document("test.pdf", "application/pdf", [page_of(rows, i + 1) for i, rows in enumerate(pages)])


@pytest.fixture(scope="module")
def vocab():
    return load_vocabulary()


def extract(vocab, *pages):
    ctx = build_context(doc_of(*pages), vocab)
    return {k: v.value for k, v in rules.extract_fields(ctx, vocab).items()}, ctx


def test_label_to_the_left_and_confusable_customer_number(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 40, "Example Trading GmbH"),
            (50, 100, "Kundennr. 47774    Rechnungsnr. 30064443"),
            (50, 120, "Rechnungsdatum 7. Mai 2014"),
            (600, 700, "Gesamtbetrag EUR 1.234,56"),
        ],
    )
    assert fields["invoice_number"] == "30064443"
    assert fields["invoice_date"] == "2014-05-07"
    assert fields["total_amount"] == "1234.56"
    assert fields["currency"] == "EUR"
    assert fields["vendor_name"] == "Example Trading GmbH"


def test_values_under_column_headers(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 200, "Invoice Date:"),
            (300, 200, "Due Date:"),
            (550, 200, "Reference:"),
            (50, 220, "03/20/2023"),
            (300, 220, "04/04/2023"),
            (550, 220, "REF123"),
            (600, 600, "Total $ 279.84"),
        ],
    )
    assert fields["invoice_date"] == "2023-03-20"
    assert fields["due_date"] == "2023-04-04"
    assert fields["total_amount"] == "279.84"


def test_totals_row_takes_the_rightmost_amount_and_tax_from_its_label(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 100, "Invoice No 562044387"),
            (50, 300, "Invoice total 24.99 5.00 29.99"),
            (50, 320, "VAT 20% 5.00"),
        ],
    )
    assert fields["total_amount"] == "29.99"
    assert fields["tax_amount"] == "5.00"
    assert fields["subtotal_amount"] == "24.99"  # derived: total - tax


def test_subtotal_total_and_tax_chosen_so_that_they_add_up(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 500, "Exclusief BTW € 593,36    Subtotaal € 717,97"),
            (50, 520, "BTW 21% € 124,61"),
            (50, 540, "Totaal € 717,97"),
        ],
    )
    assert fields["subtotal_amount"] == "593.36"
    assert fields["tax_amount"] == "124.61"
    assert fields["total_amount"] == "717.97"


def test_line_item_column_is_not_the_invoice_tax(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 200, "Pos Description   Price   VAT   Amount"),
            (50, 220, "1 Small Business Exchange 3,89 0,82 4,71"),
            (50, 240, "2 Large Business Exchange 5,39 1,13 6,52"),
            (50, 260, "3 Extra Mailbox Storage 1,00 0,21 1,21"),
            (50, 300, "Total EUR 12,44"),
        ],
    )
    assert fields["total_amount"] == "12.44"
    assert "tax_amount" not in fields or fields["tax_amount"] != "0.82"


def test_vendor_not_taken_from_the_bill_to_block(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 60, "Bill to:"),
            (50, 75, "Acme Holding Ltd"),
            (50, 90, "1 High Street"),
            (50, 200, "Invoice # 77-2024"),
            (50, 800, "Northwind Supplies Ltd - 4 Harbour Road - Leeds"),
        ],
    )
    assert fields["vendor_name"] == "Northwind Supplies Ltd"
    assert fields["customer_name"] == "Acme Holding Ltd"


def test_dollar_alone_gives_a_low_confidence_currency(vocab):
    ctx = build_context(doc_of([(50, 100, "Total $ 12.00")]), vocab)
    fields = rules.extract_fields(ctx, vocab)
    if "currency" in fields:
        assert fields["currency"].confidence < 0.6


def test_no_currency_evidence_gives_no_currency(vocab):
    fields, _ = extract(vocab, [(50, 100, "Invoice number 12345"), (50, 120, "Total 12.00")])
    assert "currency" not in fields


def test_iban_needs_a_valid_checksum(vocab):
    good, _ = extract(vocab, [(50, 100, "IBAN DE89 3704 0044 0532 0130 00")])
    bad, _ = extract(vocab, [(50, 100, "IBAN DE89 3704 0044 0532 0130 01")])
    assert good["iban"] == "DE89370400440532013000"
    assert "iban" not in bad


@pytest.mark.parametrize(
    "title, expected",
    [
        ("INVOICE", "invoice"),
        ("Gutschrift", "credit_note"),
        ("Purchase Order", "purchase_order"),
        ("Payment receipt", "receipt"),
        ("Remittance advice", "remittance_advice"),
    ],
)
def test_classify_by_title(vocab, title, expected):
    ctx = build_context(doc_of([(50, 40, title), (50, 100, "Number 12345"), (50, 120, "Total 10.00")]), vocab)
    assert classify_by_rules(ctx)[0] == expected


def test_legal_form_is_found_inside_a_line_but_not_in_running_text(vocab):
    assert rules.legal_form_span(vocab, "Example AG - Uferweg 4 - 63571 Town") is not None
    assert rules.legal_form_span(vocab, "1.00 kg") is None
    assert rules.legal_form_span(vocab, "data of their company") is None


def test_an_iban_in_groups_followed_by_the_bic_is_found_and_becomes_one_candidate(vocab):
    fields, ctx = extract(vocab, [(50, 100, "Bank: First National IBAN-Code: AT64 2514 8726 4798 4535 SWIFT-BIC: BAMRATIZ")])
    assert fields["iban"] == "AT642514872647984535"
    ibans = [c for c in ctx.by_kind("id") if c.features.get("iban")]
    assert [c.value for c in ibans] == ["AT642514872647984535"]
    assert not [c for c in ctx.by_kind("amount") if c.value in ("2514.00", "8726.00")]  # its groups are no amounts


def test_the_vendor_address_spans_the_lines_under_the_name(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 60, "Northwind Supplies Ltd"),
            (50, 75, "4 Harbour Road"),
            (50, 90, "Leeds LS1 4AB"),
            (50, 105, "Phone: +44 113 496 0000"),
            (50, 200, "Invoice # 77-2024"),
        ],
    )
    assert fields["vendor_name"] == "Northwind Supplies Ltd"
    assert fields["vendor_address"] == "4 Harbour Road, Leeds LS1 4AB"


def test_a_long_run_of_digits_is_no_amount(vocab):
    fields, ctx = extract(vocab, [(50, 100, "Total due Rs.15,683.62"),
                                  (50, 120, "Bank name HDFC Bank Account No. 19510179096414 Order 4568829124 Qty 123456789")])
    assert fields["total_amount"] == "15683.62"
    assert sorted(c.value for c in ctx.by_kind("amount")) == ["123456789.00", "15683.62"]


def test_the_letterhead_block_gives_the_address_before_a_footer_line(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 40, "Kalitekix Labs Pvt. Ltd."),
            (50, 55, "162 Garten Road"),
            (50, 70, "Ahmedabad - 858099"),
            (50, 85, "RECHNUNGSKOPIE"),
            (50, 200, "Invoice # 77-2024"),
            (50, 800, "Kalitekix Labs Pvt. Ltd. · 162 Garten Road Ahmedabad - 858099 Gujarat"),
        ],
    )
    assert fields["vendor_address"] == "162 Garten Road, Ahmedabad - 858099"  # the heading under it is no part


def test_the_vendor_address_follows_the_name_in_a_footer(vocab):
    fields, _ = extract(
        vocab,
        [
            (50, 200, "Invoice # 77-2024"),
            (50, 800, "Steha Soluzioni S.r.l. · Piazza Park 105 · 99012 Padova (PD) · REA MI-2268403"),
        ],
    )
    assert fields["vendor_name"] == "Steha Soluzioni S.r.l."
    assert fields["vendor_address"] == "Piazza Park 105, 99012 Padova (PD)"  # the registration number is no address


def test_a_swiss_vat_number_keeps_its_mwst_suffix(vocab):
    fields, _ = extract(vocab, [(50, 100, "UID: CHE-123.456.789 MWST"), (50, 130, "Rechnung Nr. 4711-22")])
    assert fields["vendor_tax_id"] == "CHE-123.456.789MWST"


def test_a_company_name_candidate_ends_at_its_legal_form(vocab):
    ctx = build_context(doc_of([(50, 800, "Free SAS au capital de 3 441 812 euros - RCS Paris 421 938 861")]), vocab)
    names = [c.value for c in ctx.by_kind("name")]
    assert "Free SAS" in names


def _with_heading(text: str, rows: list[tuple[float, float, str]]) -> Document:
    page = page_of(rows)
    tall = Word(text, (50, 30, 50 + len(text) * 12, 54), 1, "text", 1.0, -1)  # twice the body's height
    return Document("test.pdf", "application/pdf", [Page(1, 595, 842, "text", [tall, *page.words])])


def test_the_heading_decides_the_type_over_the_labels_of_the_body(vocab):
    """A statement repeats invoice labels in its body; its heading, not the count of keywords, names it."""
    body = [(50, 100 + 20 * i, f"Invoice no. {1000 + i}   Date of invoice 2024-01-0{i + 1}   10.00") for i in range(5)]
    ctx = build_context(_with_heading("Statement", body), vocab)
    assert ctx.heading_type == "statement"
    assert classify_by_rules(ctx) == ("statement", rules.TITLE_CONFIDENCE)
    assert classify_by_rules(build_context(doc_of(body), vocab))[0] == "invoice"  # no heading: the keywords


def test_a_heading_beside_the_vendor_name_on_its_line_is_a_heading(vocab):
    """A title printed right of the vendor's name (or a banner) on the same baseline: the line is mostly small
    text, but the keyword is large and stands alone in its part of the line."""
    body = [(50, 100 + 20 * i, f"Fattura n. {1000 + i}   Data 2024-01-0{i + 1}   10.00") for i in range(5)]
    page = page_of(body)
    head = [Word(t, (x, 40, x + 7 * len(t), 52), 1, "text", 1.0, -1) for t, x in (("Berfinmar", 50), ("Costruzioni", 120),
                                                                                 ("S.n.c.", 205))]
    head += [Word(t, (x, 30, x + 14 * len(t), 54), 1, "text", 1.0, -1) for t, x in (("NOTA", 330), ("DI", 400),
                                                                                  ("CREDITO", 435))]
    ctx = build_context(Document("test.pdf", "application/pdf", [Page(1, 595, 842, "text", [*head, *page.words])]), vocab)
    assert ctx.heading_type == "credit_note" and ctx.title_type == "credit_note"
    assert classify_by_rules(ctx) == ("credit_note", rules.TITLE_CONFIDENCE)
    # the same words at the body's size and close together: one run of text, not a heading
    flat = [Word(t, (x, 40, x + 7 * len(t), 52), 1, "text", 1.0, -1) for t, x in (("Berfinmar", 50), ("Costruzioni", 120),
                                                                                 ("S.n.c.", 205), ("nota", 252),
                                                                                 ("di", 286), ("credito", 304))]
    ctx = build_context(Document("test.pdf", "application/pdf", [Page(1, 595, 842, "text", [*flat, *page.words])]), vocab)
    assert ctx.heading_type is None


def test_one_rate_row_of_a_vat_breakdown_gets_no_bonus_for_adding_up(vocab):
    """Net + VAT = gross holds in every row of a VAT breakdown, so it says nothing about the document's totals: the
    rows' amounts keep the confidence of their labels (the pick's score had no bonus either), while a totals block
    that adds up gets one."""
    rows = [(50, 60, "Invoice no. 4711"), (50, 80, "Date 2024-03-01"),
            (50, 200, "VAT rate    Net amount     VAT amount     Total"),
            (50, 215, "19%         100.00         19.00          119.00"),
            (50, 230, "7%          50.00          3.50           53.50")]
    ctx = build_context(doc_of(rows), vocab)
    fields = rules.extract_fields(ctx, vocab)
    for name in ("subtotal_amount", "total_amount"):
        best = rules._ranked(ctx, name)[0]
        assert rules._one_rate_of_several(best, ctx)
        assert fields[name].value == best.candidate.value
        assert fields[name].confidence == rules._field(best).confidence
    totals = [(50, 60, "Invoice no. 4711"), (50, 200, "Net amount 100.00"), (50, 215, "VAT 19.00"),
              (50, 230, "Total 119.00")]
    ctx = build_context(doc_of(totals), vocab)
    fields = rules.extract_fields(ctx, vocab)
    best = rules._ranked(ctx, "total_amount")[0]
    assert fields["total_amount"].confidence == round(min(0.99, rules._field(best).confidence + 0.1), 3)


def test_a_column_label_is_not_a_heading(vocab):
    rows = [(50, 60, "PACKING SLIP DATE OF ISSUE CUSTOMER NO"), (50, 80, "PS-881 2024-01-01 K-12"),
            (50, 120, "Invoice no. 5521"), (50, 140, "Total 10.00")]
    ctx = build_context(_with_heading("INVOICE", rows), vocab)
    assert ctx.heading_type == "invoice"
    assert build_context(doc_of(rows), vocab).heading_type is None  # equally tall lines: no heading


def _rows_doc(rows: list[tuple[float, str]]) -> Document:
    """One page; each row is (x where it starts, text); rows 15 pt apart, words 12 pt tall."""
    words = []
    for i, (x, row) in enumerate(rows):
        for text in row.split():
            words.append(Word(text, (x, 60.0 + 15 * i, x + 6 * len(text), 72.0 + 15 * i), 1, line=i))
            x += 6 * len(text) + 6
    return Document("mem.pdf", "application/pdf", [Page(1, 595, 842, "text", words)])


def test_a_value_wrapped_onto_the_next_line_is_a_candidate_too():
    vocab = load_vocabulary()
    strip = [(50.0, "Invoice number INV-2023-0042 | Terms of payment Net"), (200.0, "14 days | Currency: EUR")]
    names = [c.value for c in build_context(_rows_doc(strip), vocab).candidates if c.kind == "name"]
    assert "Net 14 days" in names and "Net" in names  # both readings: the model chooses
    # a line that does not stand right below, or reaches out of the line's width, is not a continuation
    apart = [(50.0, "Invoice number INV-2023-0042 | Terms of payment Net"), (50.0, ""), (50.0, "14 days")]
    assert "Net 14 days" not in [c.value for c in build_context(_rows_doc(apart), vocab).candidates]
    wide = [(50.0, "Terms of payment Net"), (50.0, "14 days and then a lot more words running far to the right")]
    assert not any(c.value.startswith("Net 14") for c in build_context(_rows_doc(wide), vocab).candidates)


def test_a_labelled_value_also_ends_at_a_part_separator(vocab):
    _, ctx = extract(vocab, [(50, 100, "Klantnr.: K-99337 | Betalingsvoorwaarden: Binnen 7 dagen na factuurdatum | Munt: EUR")])
    names = {c.value for c in ctx.by_kind("name")}
    assert "Binnen 7 dagen na factuurdatum" in names


def test_a_banner_line_is_no_vendor(vocab):
    from invoicebot.candidates import is_slogan, item_rows, unlikely_party

    assert is_slogan("Now open on Saturdays!") and is_slogan("Fast. Reliable. Local.")
    assert not is_slogan("J. P. Morgan") and not is_slogan("Kalitekix Labs, Pvt. Ltd.")
    assert unlikely_party("Viale Church, 35") and unlikely_party("al. Oakowa 151/14")  # streets
    assert unlikely_party("43 Linden Avenue") and not unlikely_party("3M Company")
    assert not unlikely_party("Teck 2000 GmbH") and not unlikely_party("Pier 1 Imports")
    fields, ctx = extract(vocab, [(50, 40, "E103560 SX Flyer SAECO 0,00 21 % 1 PCS 0,00"), (50, 100, "Invoice # 77"),
                                  (50, 120, "Mapleplein 66")])
    assert "vendor_name" not in fields and item_rows(ctx) == {0}  # an item row, a street: no vendor
    fields, _ = extract(vocab, [(50, 40, "Now open on Saturdays!"), (50, 100, "Invoice # 77-2024"),
                                (50, 120, "Thank you for your business")])
    assert "vendor_name" not in fields  # the vendor is in the logo only: better none than the banner


def test_a_date_or_a_label_wrapped_onto_the_next_line(vocab):
    _, ctx = extract(vocab, [(50, 100, "Klantnr.: K-99337 | FACTUUR NR: 1985/2014 | Datum: 23 november"),
                             (50, 112, "2014 | Betalingsvoorwaarden: 14 dagen")])
    dates = [c for c in ctx.by_kind("date")]
    assert [c.value for c in dates] == ["2014-11-23"] and dates[0].line == 0
    assert dates[0].left[0].field == "invoice_date"
    fields, ctx = extract(vocab, [(50, 100, "Belegnummer #9700/2015 | Fälligkeit 15.11.2015 | Re.-datum"),
                                  (50, 112, "16.10.2015")])
    assert fields["invoice_date"] == "2015-10-16" and fields["due_date"] == "2015-11-15"
    wrapped = next(c for c in ctx.by_kind("date") if c.value == "2015-10-16")
    assert [(h.field, h.relation) for h in wrapped.left] == [("invoice_date", "left")]


def test_column_headings_are_labels_of_their_own_column(vocab):
    # "Date" and "Due Date" head two columns: no "Date due" across the gap, each date gets its own heading
    fields, ctx = extract(vocab, [(50, 100, "Date                          Due Date"),
                                  (50, 112, "17-4-2016                     16-6-2016")])
    assert fields["invoice_date"] == "2016-04-17" and fields["due_date"] == "2016-06-16"
    # a row of headings over a row of values: the heading over the number is its label, not the one ending the row
    _, ctx = extract(vocab, [(50, 100, "Gutschriftsnummer     Leistungszeitraum     Auftragsbestätigung Nr"),
                             (50, 112, "FS/2026/03/4044       01.03.2026            5347331")])
    own = next(c for c in ctx.by_kind("id") if c.value == "FS/2026/03/4044")
    assert not own.left and own.above[0].field == "invoice_number"
    assert vocab.names_doc_type(own.above[0].phrase, "credit_note")  # "Gutschrifts-nummer": a compound
    assert not vocab.names_doc_type("Rechnungsnummer", "credit_note")


def test_a_house_number_is_no_document_number(vocab):
    _, ctx = extract(vocab, [(50, 60, "Nemo AB"), (50, 72, "160 Oak Street"), (50, 100, "PO 2016353")])
    assert [c.value for c in ctx.by_kind("id")] == ["2016353"]


def test_a_label_alone_is_known_as_one(vocab):
    from invoicebot.candidates import is_label_text

    _, ctx = extract(vocab, [(50, 100, "Date de facture      Règlement      Monnaie"),
                             (50, 112, "28/11/2025      À réception de facture      EUR")])
    names = {c.value: c for c in ctx.by_kind("name")}
    assert is_label_text(ctx, names["Monnaie"]) and not is_label_text(ctx, names["À réception de facture"])


def test_payment_terms_are_no_label_date_or_next_field(vocab):
    from invoicebot.candidates import unlikely_terms

    _, ctx = extract(vocab, [(50, 100, "Zahlungsbedingungen: 31. März 2017"),
                             (50, 120, "Betalingsvoorwaarden: 14 dagen netto | Munteenheid: EUR")])
    names = {c.value: c for c in ctx.by_kind("name")}
    assert unlikely_terms(ctx, names["31. März 2017"])
    assert unlikely_terms(ctx, names["14 dagen netto | Munteenheid: EUR"])
    assert not unlikely_terms(ctx, names["14 dagen netto"])


def test_a_legal_form_misread_by_ocr_is_no_number(vocab):
    _, ctx = extract(vocab, [(50, 100, "Terel Techniek V.0.F. | Klantnr.: K-99337")])
    assert [c.value for c in ctx.by_kind("id")] == ["K-99337"]


def test_a_tax_number_printed_in_groups_is_one_id(vocab):
    fields, ctx = extract(vocab, [(50, 60, "Northwind Supplies Ltd"), (50, 100, "VAT Reg. No. GB 349 7472 75"),
                                  (50, 120, "ABN 91 108 015 838   Tel. +44 113 496 0000")])
    ids = [c.value for c in ctx.by_kind("id")]
    assert "GB349747275" in ids and "91108015838" in ids and "349" not in ids
    assert fields["vendor_tax_id"] in ("GB349747275", "91108015838")


def test_a_label_that_ends_in_the_number_sign_labels_the_id_after_it(vocab):
    _, ctx = extract(vocab, [(50, 100, "Invoice # 77-2024"), (50, 120, "Credit Memo #SF54-076617"),
                             (50, 140, "Rechnung Nr.4711-22")])
    assert [(c.value, c.left[0].field) for c in ctx.by_kind("id")] == [
        ("77-2024", "invoice_number"), ("SF54-076617", "invoice_number"), ("4711-22", "invoice_number")]


def _po_field(ctx, value):
    from invoicebot.schema import ExtractedField

    c = next(c for c in ctx.by_kind("id") if c.value == value)
    return {"po_number": ExtractedField(c.value, 0.9, c.page, c.bbox), "invoice_number": ExtractedField("CN-7", 0.9)}


def test_a_credit_note_reference_is_no_po(vocab):
    from invoicebot.pipeline import TYPE_TRUSTED_FROM, restrict_to_document_type

    _, ctx = extract(vocab, [(50, 100, "Credit Note CN-7"), (50, 112, "Your reference: INV-2024-0117")])
    fields = _po_field(ctx, "INV-2024-0117")
    assert set(restrict_to_document_type(fields, "credit_note", 0.95, ctx=ctx, vocab=vocab)) == {"invoice_number"}
    # on an invoice the same label gives the buyer's reference; an unsure type keeps it too
    assert restrict_to_document_type(fields, "invoice", 0.95, ctx=ctx, vocab=vocab) == fields
    assert restrict_to_document_type(fields, "credit_note", TYPE_TRUSTED_FROM - 0.01, ctx=ctx, vocab=vocab) == fields
    # a PO label that names an order keeps its PO on a credit note
    _, ctx = extract(vocab, [(50, 100, "Credit Note CN-7"), (50, 112, "PO number: 4500012345")])
    fields = _po_field(ctx, "4500012345")
    assert restrict_to_document_type(fields, "credit_note", 0.95, ctx=ctx, vocab=vocab) == fields
