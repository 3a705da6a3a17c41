"""The checks between the model's and the rules' picks (invoicebot.combine)."""

from __future__ import annotations

from invoicebot.candidates import build_context
from invoicebot.combine import adds_up, combine
from invoicebot.schema import Document, ExtractedField, Page, Word
from invoicebot.vocabulary import load_vocabulary

VOCAB = load_vocabulary()


def _doc(rows):
    words = []
    for i, row in enumerate(rows):
        x = 50.0
        for text in row.split():
            words.append(Word(text, (x, 60.0 + 15 * i, x + 6 * len(text), 72.0 + 15 * i), 1, line=i))
            x += 6 * len(text) + 6
    return Document("mem.pdf", "application/pdf", [Page(1, 595, 842, "text", words)])


CTX = build_context(_doc(["Northwind Supplies Ltd", "4 Harbour Road", "Leeds LS1 4AB", "Tel. 0113 496 0000"]), VOCAB)


def f(value, conf=0.9, **kw):
    return ExtractedField(value, conf, **kw)


def test_adds_up():
    assert adds_up({"subtotal_amount": f("100.00"), "tax_amount": f("19.00"), "total_amount": f("119.00")})
    assert adds_up({"subtotal_amount": f("100.00"), "tax_amount": f("19.00"), "total_amount": f("120.00")}) is False
    assert adds_up({"subtotal_amount": f("100.00"), "total_amount": f("119.00")}) is None


def test_the_rules_amounts_win_when_only_they_add_up():
    model = {"subtotal_amount": f("100.00"), "tax_amount": f("19.00"), "total_amount": f("90.00")}
    rules = {"subtotal_amount": f("100.00", 0.7), "tax_amount": f("19.00", 0.7), "total_amount": f("119.00", 0.7)}
    out = combine(model, rules, CTX, VOCAB)
    assert out["total_amount"].value == "119.00" and out["total_amount"].confidence == 0.7
    rules_wrong = {**rules, "total_amount": f("118.00")}
    assert combine(model, rules_wrong, CTX, VOCAB)["total_amount"].value == "90.00"  # neither adds up: the model's
    good = {**model, "total_amount": f("119.00")}
    assert combine(good, {**rules, "subtotal_amount": f("19.00"), "tax_amount": f("100.00")}, CTX, VOCAB) == good


def test_the_letterhead_gives_the_address_when_the_vendor_was_read_in_the_footer():
    ctx = build_context(_doc(["Kalitekix Labs Pvt. Ltd.", "162 Garten Road", "Ahmedabad - 858099", "Invoice 77",
                              "Kalitekix Labs Pvt. Ltd. · 162 Garten Road Ahmedabad - 858099"]), VOCAB)
    footer = ctx.lines[4].bbox
    out = combine({"vendor_name": f("Kalitekix Labs Pvt. Ltd.", page=1, bbox=(footer[0], footer[1], footer[0] + 140,
                                                                            footer[3]))}, {}, ctx, VOCAB)
    assert out["vendor_address"].value == "162 Garten Road, Ahmedabad - 858099"


def test_one_rate_of_a_tax_breakdown_is_no_tax_amount():
    ctx = build_context(_doc(["Summe netto: 1708,74", "MwSt. 19% 34,78", "MwSt. 7% 106,80", "Summe: 1850,32"]), VOCAB)
    picked = {"subtotal_amount": f("1708.74"), "tax_amount": f("34.78"), "total_amount": f("1850.32")}
    out = combine(picked, {}, ctx, VOCAB)
    assert "tax_amount" not in out and out["total_amount"].value == "1850.32"
    one_rate = build_context(_doc(["Summe netto: 1708,74", "MwSt. 19% 34,78", "Versand 106,80", "Summe: 1850,32"]),
                             VOCAB)
    assert combine(picked, {}, one_rate, VOCAB)["tax_amount"].value == "34.78"  # no other tax row explains the gap
    printed = {**picked, "tax_amount": f("141.58")}
    assert combine(printed, {}, ctx, VOCAB)["tax_amount"].value == "141.58"


def test_company_names_end_at_their_legal_form_and_the_address_follows_the_vendor():
    out = combine({"vendor_name": f("Northwind Supplies Ltd iov", 0.8, page=1, bbox=(50.0, 60.0, 200.0, 72.0)),
                   "customer_name": f("Acme GmbH")}, {}, CTX, VOCAB)
    assert out["vendor_name"].value == "Northwind Supplies Ltd"
    assert out["customer_name"].value == "Acme GmbH"
    assert out["vendor_address"].value == "4 Harbour Road, Leeds LS1 4AB"
    assert out["vendor_address"].confidence <= 0.8


def test_occurrences_of_one_value_vote_together():
    """Two occurrences of the vendor (footer and account holder), each 0.5, beat one line item at 0.7:
    noisy-or gives 0.75; the likelier occurrence represents the value."""
    from types import SimpleNamespace

    import numpy as np
    from invoicebot.model import _vote

    cands = [SimpleNamespace(value=v) for v in ("Kovalo Cloud Storage", "Kovalo GmbH", "KOVALO GMBH.", "Acme")]
    ranked = _vote(np.array([0.7, 0.5, 0.45, 0.01], dtype=np.float32), cands, top=3)
    assert [i for _, i in ranked] == [1, 0]  # "Acme" is below the floor and takes no part
    assert abs(ranked[0][0] - (1 - 0.5 * 0.55)) < 1e-6 and abs(ranked[1][0] - 0.7) < 1e-6


def test_a_credit_note_keeps_its_own_number_not_the_invoice_it_corrects():
    import numpy as np
    from invoicebot import features as F
    from invoicebot.model import credit_note_number

    ctx = build_context(_doc(["NOTA DI CREDITO", "Nota di credito n.: NC-2019-6215", "Numero fattura: 19-91068"]), VOCAB)
    feats = F.featurize(ctx, VOCAB)
    probs = np.zeros((len(feats.candidates), len(F.MODEL_FIELDS)), dtype=np.float32)
    j = F.MODEL_FIELDS.index("invoice_number")
    index = {c.value: i for i, c in enumerate(feats.candidates)}
    probs[index["19-91068"], j], probs[index["NC-2019-6215"], j] = 0.99, 0.9
    own = credit_note_number(feats, probs, {"invoice_number": 0.5}, VOCAB)
    assert own is not None and own.value == "NC-2019-6215"
    assert credit_note_number(feats, probs, {"invoice_number": 0.95}, VOCAB) is None  # not likely enough
    probs[index["NC-2019-6215"], j] = 0.0
    assert credit_note_number(feats, probs, {"invoice_number": 0.5}, VOCAB) is None  # only the invoice's number


def test_a_legal_form_read_with_0_for_o_is_mended():
    out = combine({"vendor_name": f("Terel Techniek V.0.F."), "customer_name": f("Metro Mill Sp. z 0.0.")}, {}, CTX, VOCAB)
    assert out["vendor_name"].value == "Terel Techniek V.O.F." and out["customer_name"].value == "Metro Mill Sp. z o.o."
    assert combine({"vendor_name": f("Teck 2000 GmbH")}, {}, CTX, VOCAB)["vendor_name"].value == "Teck 2000 GmbH"
