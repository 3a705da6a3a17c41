"""Keying decisions of the engine (invoicebot.accounting) and the Tryton profile's data, without a browser."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from invoicebot.accounting import (
    KeyingRejected,
    build_keying_payload,
    choose_tax_rate,
    classify_matches,
    compare_readback,
    document_marker,
    keying_input,
)
from invoicebot.schema import ExtractedField, ExtractionResult, LineItem

ROOT = Path(__file__).resolve().parents[2]
TAXES = {"21": "Purchases VAT 21%", "20": "Purchases VAT 20%", "9": "Purchases VAT 9%", "0": "Purchases VAT 0%"}
TERMS = {"0": "Due on receipt", "30": "Net 30"}


def values(**over):
    base = {"vendor_name": "Coolblue B.V.", "invoice_number": "INV-1", "invoice_date": "2014-05-07",
            "currency": "EUR", "subtotal_amount": "593.36", "tax_amount": "124.61", "total_amount": "717.97"}
    base.update(over)
    return base


def test_payload_from_values_picks_the_tax_and_one_expense_line():
    p = build_keying_payload(values(due_date="2014-06-06"), tax_products=TAXES, payment_terms=TERMS)
    assert (p.supplier, p.reference, p.invoice_date, p.currency) == ("Coolblue B.V.", "INV-1", "2014-05-07", "EUR")
    assert (p.untaxed_amount, p.tax_amount, p.total_amount, p.tax_rate) == ("593.36", "124.61", "717.97", "21")
    assert [(ln.quantity, ln.unit_price, ln.product) for ln in p.lines] == [("1", "593.36", "Purchases VAT 21%")]
    assert p.payment_term == "Net 30"
    assert p.marker.startswith("invoicebot:")


def test_missing_tax_is_derived_and_zero_tax_needs_a_zero_rate():
    p = build_keying_payload(values(tax_amount=None, subtotal_amount="34.73", total_amount="34.73"),
                             tax_products=TAXES)
    assert (p.tax_amount, p.tax_rate, p.lines[0].product) == ("0.00", "0", "Purchases VAT 0%")
    with pytest.raises(KeyingRejected) as exc:
        build_keying_payload(values(tax_amount=None, subtotal_amount="34.73", total_amount="34.73"),
                             tax_products={"21": "x"})
    assert exc.value.code == "UNKNOWN_TAX"


def test_subtotal_derived_from_total_and_tax():
    p = build_keying_payload(values(subtotal_amount=None, tax_amount="21.00", total_amount="121.00"),
                             tax_products=TAXES)
    assert (p.untaxed_amount, p.tax_rate) == ("100.00", "21")


@pytest.mark.parametrize(("over", "code"), [
    ({"vendor_name": ""}, "MISSING_FIELD"),
    ({"invoice_date": "07/05/2014"}, "BAD_DATE"),
    ({"total_amount": "700.00"}, "SUM_MISMATCH"),
    ({"tax_amount": "13.00", "subtotal_amount": "100.00", "total_amount": "113.00"}, "UNKNOWN_TAX"),
    ({"subtotal_amount": "-10.00", "tax_amount": "-2.10", "total_amount": "-12.10"}, "NOT_AN_INVOICE"),
    ({"total_amount": "seven"}, "BAD_AMOUNT"),
])
def test_what_cannot_be_keyed_goes_to_review_with_a_code(over, code):
    with pytest.raises(KeyingRejected) as exc:
        build_keying_payload(values(**over), tax_products=TAXES)
    assert exc.value.code == code
    assert str(exc.value)


def test_line_items_are_used_only_when_complete_and_adding_up():
    items = [{"description": "a", "quantity": "2", "unit_price": "100.00", "amount": "200.00"},
             {"description": "b", "quantity": "1", "unit_price": "393.36", "amount": "393.36"}]
    p = build_keying_payload(values(), items, tax_products=TAXES)
    assert [(ln.quantity, ln.unit_price, ln.amount) for ln in p.lines] == [("2", "100", "200.00"),
                                                                             ("1", "393.36", "393.36")]
    broken = [dict(items[0]), dict(items[1], amount="300.00", unit_price="300.00")]
    p = build_keying_payload(values(), broken, tax_products=TAXES)
    assert len(p.lines) == 1 and p.lines[0].unit_price == "593.36"


def test_choose_tax_rate_accepts_either_rounding_and_nothing_else():
    rates = [Decimal(r) for r in ("21", "9", "0")]
    assert choose_tax_rate(Decimal("10.05"), Decimal("2.11"), rates) == Decimal("21")  # 2.1105
    assert choose_tax_rate(Decimal("0.50"), Decimal("0.05"), rates) == Decimal("9")  # 0.045: half-up
    assert choose_tax_rate(Decimal("0.50"), Decimal("0.04"), rates) == Decimal("9")  # 0.045: half-even
    assert choose_tax_rate(Decimal("100"), Decimal("15"), rates) is None


def test_keying_input_accepts_result_dict_and_values():
    result = ExtractionResult(document="a.pdf", sha256="ab" * 32,
                              fields={k: ExtractedField(value=v, confidence=0.9) for k, v in values().items()},
                              line_items=[LineItem(description="x", quantity="1", unit_price="593.36",
                                                   amount="593.36")])
    for given in (result, result.to_dict()):
        vals, items, sha = keying_input(given)
        assert vals["vendor_name"] == "Coolblue B.V." and sha == "ab" * 32 and items[0]["amount"] == "593.36"
    vals, items, sha = keying_input(values(line_items=[{"amount": "1"}]))
    assert "line_items" not in vals and items == [{"amount": "1"}] and sha == ""
    with pytest.raises(TypeError):
        keying_input("INV-1")


def test_marker_is_stable_and_follows_the_document():
    assert document_marker(values()) == document_marker(values())
    assert document_marker(values()) != document_marker(values(invoice_number="INV-2"))
    assert document_marker(values(), "f" * 64) == "invoicebot:" + "f" * 16


def found(**over):
    base = {"id": 7, "supplier": "Coolblue B.V.", "reference": "INV-1", "invoice_date": "2014-05-07",
            "total_amount": "717.97", "state": "draft", "description": ""}
    base.update(over)
    return base


def test_classify_matches_tells_own_earlier_run_from_duplicates():
    p = build_keying_payload(values(), tax_products=TAXES)
    assert classify_matches(p, []) is None
    assert classify_matches(p, [found(description=p.marker)]).status == "ALREADY_KEYED"
    assert classify_matches(p, [found()]).status == "DUPLICATE"
    assert classify_matches(p, [found(reference=" inv-1 ")]).status == "DUPLICATE"
    same_money = classify_matches(p, [found(reference="OTHER")])
    assert same_money.status == "DUPLICATE" and "717.97" in same_money.reason
    assert classify_matches(p, [found(reference="OTHER", total_amount="1.00")]) is None
    assert classify_matches(p, [found(state="cancelled")]) is None


def test_compare_readback_lists_every_difference():
    p = build_keying_payload(values(), tax_products=TAXES)
    same = {"supplier": "Coolblue B.V.", "reference": "INV-1", "invoice_date": "2014-05-07", "currency": "EUR",
            "untaxed_amount": "593.36", "tax_amount": "124.61", "total_amount": "717.97", "line_count": 1,
            "line_amounts": ["593.36"], "line_products": ["Purchases VAT 21%"]}
    assert compare_readback(p, same) == []
    diff = compare_readback(p, dict(same, total_amount="717.96", invoice_date="2014-07-05", line_products=[""]))
    assert {d.field for d in diff} == {"total_amount", "invoice_date", "line 1 product"}
    assert compare_readback(p, dict(same, line_count=2))[0].field == "line_count"


def test_tryton_profile_data_matches_the_database_it_initialises():
    """Every tax product and payment term the profile names is created by scripts/tryton/init_db.py."""
    from robot.api import get_resource_model

    model = get_resource_model(str(ROOT / "resources/accounting/tryton.resource"))
    variables = {v.name: v.value for v in model.sections[1].body if hasattr(v, "value")}
    keywords = {k.name for k in model.sections[2].body}
    from InvoiceLibrary.accounting import PROFILE_KEYWORDS

    assert set(PROFILE_KEYWORDS) <= keywords
    master = json.loads((ROOT / "scripts/tryton/master_data.json").read_text(encoding="utf-8"))
    products = {master["expense_product_name"].format(tax=t["name"]) for t in master["supplier_taxes"]}
    profile_products = {item.split("=", 1)[1] for item in variables["&{TAX_PRODUCTS}"]}
    assert profile_products <= products
    rates = {item.split("=", 1)[0] for item in variables["&{TAX_PRODUCTS}"]}
    assert rates == {str(Decimal(t["rate"]) * 100).rstrip("0").rstrip(".") or "0" for t in master["supplier_taxes"]}


def test_profile_is_found_by_name_or_path_and_a_missing_one_says_what_to_do(tmp_path, monkeypatch):
    from InvoiceLibrary.accounting import _first_line, resolve_profile
    from InvoiceLibrary.base import InvoiceRobotError

    monkeypatch.delenv("INVOICEBOT_ACCOUNTING_PROFILE", raising=False)
    assert resolve_profile("tryton") == (ROOT / "resources/accounting/tryton.resource").resolve()
    assert resolve_profile(None).name == "tryton.resource"
    own = tmp_path / "my_erp.resource"
    own.write_text("*** Keywords ***\n", encoding="utf-8")
    assert resolve_profile(str(own)) == own.resolve()
    monkeypatch.setenv("INVOICEBOT_ACCOUNTING_PROFILE", str(own))
    assert resolve_profile(None) == own.resolve()
    with pytest.raises(InvoiceRobotError, match="README"):
        resolve_profile("no_such_erp")
    assert _first_line(Exception("Message: boom\n  (Session info: chrome=1)\nStacktrace:\n#0 x")) == "Message: boom"
