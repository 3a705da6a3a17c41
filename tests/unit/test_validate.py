"""Business checks on canonical invoice values: each rule passes on a good invoice and fails on a bad one."""

from __future__ import annotations

from datetime import date

import pytest
from invoicebot.schema import LineItem
from invoicebot.validate import iban_is_valid, iban_problem, validate_invoice

TODAY = date(2024, 6, 1)

GOOD = {
    "vendor_name": "Example B.V.",
    "invoice_number": "993548900",
    "invoice_date": "2024-04-19",
    "due_date": "2024-05-03",
    "currency": "EUR",
    "subtotal_amount": "593.36",
    "tax_amount": "124.61",
    "total_amount": "717.97",
    "amount_due": "717.97",
    "iban": "NL50INGB0683251309",
}


def codes(values, **kw):
    kw.setdefault("today", TODAY)
    return sorted(i.code for i in validate_invoice(values, **kw))


def test_good_invoice_has_no_issues():
    assert validate_invoice(GOOD, today=TODAY) == []


def test_sum_mismatch():
    issues = validate_invoice({**GOOD, "total_amount": "717.00"}, today=TODAY)
    (issue,) = [i for i in issues if i.code == "SUM_MISMATCH"]
    assert issue.severity == "error"
    assert issue.fields == ["subtotal_amount", "tax_amount", "total_amount"]
    assert "717.97" in issue.message and "717.00" in issue.message and "0.97" in issue.message


def test_sum_within_a_cent_is_fine():
    assert "SUM_MISMATCH" not in codes({**GOOD, "total_amount": "717.98"})
    assert "SUM_MISMATCH" in codes({**GOOD, "total_amount": "717.99"})


def test_sum_needs_all_three_amounts():
    values = {k: v for k, v in GOOD.items() if k != "tax_amount"}
    assert "SUM_MISMATCH" not in codes(values)


def test_line_items_sum_to_subtotal():
    items = [LineItem(amount="399.00"), LineItem(amount="194.36")]
    assert "LINE_SUM_MISMATCH" not in codes(GOOD, line_items=items)
    dict_items = [{"amount": "399.00"}, {"amount": "100.00"}, {"description": "note line"}]
    issues = validate_invoice(GOOD, today=TODAY, line_items=dict_items)
    (issue,) = [i for i in issues if i.code == "LINE_SUM_MISMATCH"]
    assert issue.severity == "warning" and issue.fields == ["subtotal_amount"]
    assert "499.00" in issue.message


def test_line_items_against_total_when_no_subtotal():
    values = {k: v for k, v in GOOD.items() if k not in ("subtotal_amount", "tax_amount")}
    assert "LINE_SUM_MISMATCH" in codes(values, line_items=[LineItem(amount="1.00")])
    assert "LINE_SUM_MISMATCH" not in codes(values, line_items=[LineItem(amount="717.97")])


def test_due_before_invoice():
    issues = validate_invoice({**GOOD, "due_date": "2024-04-01"}, today=TODAY)
    (issue,) = [i for i in issues if i.code == "DUE_BEFORE_INVOICE"]
    assert issue.severity == "error" and set(issue.fields) == {"invoice_date", "due_date"}
    assert "DUE_BEFORE_INVOICE" not in codes({**GOOD, "due_date": GOOD["invoice_date"]})


def test_future_date():
    assert "FUTURE_DATE" in codes({**GOOD, "invoice_date": "2025-06-02", "due_date": None})
    assert "FUTURE_DATE" not in codes({**GOOD, "invoice_date": "2025-05-31", "due_date": None})


def test_implausibly_old_date():
    assert "IMPLAUSIBLE_DATE" in codes({**GOOD, "invoice_date": "1989-12-31", "due_date": None})
    assert "IMPLAUSIBLE_DATE" not in codes({**GOOD, "invoice_date": "1990-01-01", "due_date": None})


def test_bad_formats_are_reported_not_raised():
    got = codes({**GOOD, "invoice_date": "19/04/2024", "total_amount": "717,97"})
    assert "BAD_DATE" in got and "BAD_AMOUNT" in got
    assert "SUM_MISMATCH" not in got  # an unreadable total takes no part in the sum


def test_bad_iban():
    issues = validate_invoice({**GOOD, "iban": "NL51INGB0683251309"}, today=TODAY)
    (issue,) = [i for i in issues if i.code == "BAD_IBAN"]
    assert issue.severity == "error" and "check digits" in issue.message
    assert "BAD_IBAN" not in codes(GOOD)


def test_missing_currency_is_a_warning():
    issues = validate_invoice({**GOOD, "currency": None}, today=TODAY)
    (issue,) = issues
    assert issue.code == "MISSING_CURRENCY" and issue.severity == "warning"


def test_unknown_currency():
    assert "BAD_CURRENCY" in codes({**GOOD, "currency": "EURO"})
    assert "BAD_CURRENCY" not in codes({**GOOD, "currency": "PLN"})


def test_missing_and_zero_total_on_invoices():
    values = {k: v for k, v in GOOD.items() if k not in ("total_amount",)}
    assert "MISSING_TOTAL" in codes(values)
    assert "ZERO_TOTAL" in codes(
        {**GOOD, "subtotal_amount": "0.00", "tax_amount": "0.00", "total_amount": "0.00", "amount_due": None}
    )
    # A purchase order or statement is not checked for a total.
    assert "MISSING_TOTAL" not in codes(values, document_type="purchase_order")


def test_negative_total_only_for_non_credit_notes():
    neg = {**GOOD, "subtotal_amount": "-593.36", "tax_amount": "-124.61", "total_amount": "-717.97", "amount_due": None}
    issues = validate_invoice(neg, today=TODAY)
    (issue,) = [i for i in issues if i.code == "NEGATIVE_TOTAL"]
    assert issue.severity == "warning"
    assert "NEGATIVE_TOTAL" not in codes(neg, document_type="credit_note")


def test_amount_due_larger_than_total():
    assert "AMOUNT_DUE_EXCEEDS_TOTAL" in codes({**GOOD, "amount_due": "817.97"})
    assert "AMOUNT_DUE_EXCEEDS_TOTAL" not in codes({**GOOD, "amount_due": "0.00"})


@pytest.mark.parametrize(
    "iban",
    [
        "FR76 10107 00245 00617052317 39",
        "NL50INGB0683251309",
        "NL58 RABO 0198 7232 02",
        "DE89 3704 0044 0532 0130 00",
        "GB82 WEST 1234 5698 7654 32",
        "PL61 1090 1014 0000 0712 1981 2874",
        "CH93 0076 2011 6238 5295 7",
        "BE68 5390 0754 7034",
        "NO93 8601 1117 947",
        "IBAN: ES91 2100 0418 4502 0005 1332",
        "IT60 X054 2811 1010 0000 0123 456",
    ],
)
def test_valid_ibans(iban):
    assert iban_is_valid(iban), iban_problem(iban)


@pytest.mark.parametrize(
    "iban,why",
    [
        ("DE89 3704 0044 0532 0130 01", "check digits"),  # one digit changed
        ("DE89 3704 0044 0532 0130", "has 22 characters"),  # too short for Germany
        ("US1234567890", "two letters, two check digits"),
        ("XX89 3704 0044 0532 0130 00", "not a country that issues IBANs"),
        ("", "empty"),
        (None, "empty"),
    ],
)
def test_invalid_ibans(iban, why):
    assert not iban_is_valid(iban)
    assert why in iban_problem(iban)


def test_find_ibans_takes_the_longest_valid_run():
    from invoicebot.validate import find_ibans

    text = "IBAN: DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX and NL91ABNA0417164300."
    found = find_ibans(text)
    assert [iban for _, _, iban in found] == ["DE89370400440532013000", "NL91ABNA0417164300"]
    s, e, _ = found[0]
    assert text[s:e] == "DE89 3704 0044 0532 0130 00"
    assert find_ibans("DE89 3704 0044 0532 0130 01") == []  # a misread digit: no IBAN


def test_find_ibans_follows_a_run_wrapped_onto_the_next_line():
    from invoicebot.validate import find_ibans

    line = "Kontoinhaber: Muster AG IBAN: DE89 3704 0044"
    found = find_ibans(line, continuation="0532 0130 00 BIC: COBADEFFXXX")
    assert [iban for _, _, iban in found] == ["DE89370400440532013000"]
    s, e, _ = found[0]
    assert line[s:e] == "DE89 3704 0044"  # the span is this line's part
    # words after the run on this line: the run ends here, whatever the next line holds
    assert find_ibans(line + " (see below)", continuation="0532 0130 00") == []
    assert find_ibans(line) == []


def test_find_ibans_reads_a_letter_o_among_the_check_digits_as_zero():
    from invoicebot.validate import find_ibans

    assert [iban for _, _, iban in find_ibans("IBAN: NLO2 AUNQ 4920 2532 14 BIC: X")] == ["NL02AUNQ4920253214"]
    assert find_ibans("IBAN: NLO3 AUNQ 4920 2532 14") == []  # the check digits still decide
