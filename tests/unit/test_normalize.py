"""Amounts, dates, currencies, identifiers: tables of strings as printed on real invoices."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from invoicebot.normalize import (
    amount_ambiguity,
    date_is_ambiguous,
    detect_currency,
    find_dates,
    fold_name,
    format_amount,
    format_date,
    infer_date_order,
    infer_decimal_separator,
    normalize_iban,
    normalize_id,
    parse_amount,
    parse_date,
    read_amount,
)

# --------------------------------------------------------------------------------------------
# Amounts: (printed text, expected canonical string or None)

AMOUNTS = [
    ("1.234,56", "1234.56"),
    ("1,234.56", "1234.56"),
    ("1 234,56", "1234.56"),
    ("1\u00a0234,56", "1234.56"),  # no-break space
    ("1\u202f234,56", "1234.56"),  # narrow no-break space (French typography)
    ("12\u2009345,00 €", "12345.00"),  # thin space
    ("1234", "1234.00"),
    ("(12.00)", "-12.00"),
    ("12.00-", "-12.00"),
    ("-12.00", "-12.00"),
    ("\u221212,50", "-12.50"),  # typographic minus
    ("CHF 1'234.50", "1234.50"),
    ("CHF 1’234.50", "1234.50"),
    ("€ 717,97", "717.97"),
    ("€ 593,36", "593.36"),
    ("€ -9,32", "-9.32"),
    ("$4.11", "4.11"),
    ("$ 127.50", "127.50"),
    ("US$ 5.00", "5.00"),
    ("Rs 1939", "1939.00"),
    ("Rs. 1,23,456.00", "123456.00"),  # Indian lakh grouping
    ("₹ 319.00", "319.00"),
    ("1939.-", "1939.00"),
    ("45,-", "45.00"),
    ("12.345,-", "12345.00"),  # ",-" says ',' is the decimal separator, so '.' groups thousands
    ("1'250.-", "1250.00"),
    ("45,93 €", "45.93"),
    ("56,02 €", "56.02"),
    ("0€", "0.00"),
    ("EUR 1.234,00", "1234.00"),
    ("12,00 EUR", "12.00"),
    ("EUR12.00", "12.00"),
    ("316,83 zł", "316.83"),
    ("zł 59,24", "59.24"),
    ("1 234,00 Kč", "1234.00"),
    ("kr 1.234,00", "1234.00"),
    ("1,234,567.89", "1234567.89"),
    ("1.234.567", "1234567.00"),
    ("(€ 12,00)", "-12.00"),
    ("- 5,00 €", "-5.00"),
    ("0,75 €", "0.75"),
    ("12.5", "12.50"),
    ("0,123", "0.12"),  # a leading zero: only a decimal reading; format rounds to cents
    ("42.00 USD", "42.00"),
    ("Fr. 12.50", "12.50"),
    ("12,00 euros", "12.00"),
    # not one amount
    ("2 x 3.00", None),
    ("Page 2", None),
    ("TVA 9,34", None),  # a label, not a currency: the caller cuts the value first
    ("XYZ 12.00", None),  # not an ISO code the vocabulary knows
    ("abc", None),
    ("", None),
    ("1.23.4", None),
    ("12 34", None),
    ("1..2", None),
]


@pytest.mark.parametrize("text,expected", AMOUNTS)
def test_parse_amount_table(text, expected):
    assert format_amount(parse_amount(text)) == expected


@pytest.mark.parametrize(
    "text,chosen,other",
    [
        ("1,234", "1234", "1.234"),
        ("1.234", "1234", "1.234"),
        ("EUR 1.234", "1234", "1.234"),
        ("Rs. 1,939", "1939", "1.939"),
    ],
)
def test_ambiguous_thousands_or_decimal_is_reported(text, chosen, other):
    reading = read_amount(text)
    assert reading is not None and reading.ambiguous
    assert amount_ambiguity(text) == (Decimal(chosen), Decimal(other))


@pytest.mark.parametrize(
    "text,hint,expected",
    [
        ("1.234", ",", "1234"),
        ("1.234", ".", "1.234"),
        ("1,234", ",", "1.234"),
        ("1,234", ".", "1234"),
        ("45,93", ".", "45.93"),  # two decimals can only be decimals, whatever the hint
    ],
)
def test_decimal_separator_hint_decides(text, hint, expected):
    reading = read_amount(text, decimal_separator=hint)
    assert reading is not None and not reading.ambiguous
    assert reading.value == Decimal(expected)


def test_unambiguous_amounts_are_not_flagged():
    for text in ("1.234,56", "45,93", "4.11", "1 234,56", "0,123", "1234"):
        assert amount_ambiguity(text) is None, text


def test_parse_amount_keeps_precision_and_reports_currency():
    assert parse_amount("5,790") == Decimal("5790")  # ambiguous, read as thousands ...
    assert parse_amount("5,790", decimal_separator=",") == Decimal("5.790")  # ... unless the document says
    assert read_amount("€ 717,97").currency_text == "€"
    assert read_amount("CHF 1'234.50").currency_text == "CHF"
    assert read_amount("1234").currency_text is None


def test_bad_hint_is_an_error():
    with pytest.raises(ValueError, match="decimal_separator"):
        parse_amount("1,00", decimal_separator=";")


def test_infer_decimal_separator():
    assert infer_decimal_separator(["€ 717,97", "1.234", "593,36"]) == ","
    assert infer_decimal_separator(["$4.11", "1,234", "$0.00"]) == "."
    assert infer_decimal_separator(["1,234", "1234"]) is None
    assert infer_decimal_separator(["1,50", "2.50"]) is None


@pytest.mark.parametrize(
    "value,expected",
    [
        (Decimal("2.675"), "2.68"),  # half up, not banker's rounding
        (Decimal("-0.001"), "0.00"),
        (Decimal("1234"), "1234.00"),
        (Decimal("1E+3"), "1000.00"),
        (12.1, "12.10"),
        (None, None),
    ],
)
def test_format_amount(value, expected):
    assert format_amount(value) == expected


# --------------------------------------------------------------------------------------------
# Dates: (printed text, order or None, expected ISO date or None)

DATES = [
    ("7. Mai 2014", None, "2014-05-07"),
    ("19 april 2014", None, "2014-04-19"),
    ("29 maart 2014", None, "2014-03-29"),
    ("August 3 , 2014", None, "2014-08-03"),
    ("Jan 1, 2022", None, "2022-01-01"),
    ("Jan 31, 2022", None, "2022-01-31"),
    ("02 Juillet 2015", None, "2015-07-02"),
    ("1er janvier 2020", None, "2020-01-01"),
    ("1 févr. 2020", None, "2020-02-01"),
    ("1 fevrier 2020", None, "2020-02-01"),  # accent lost by OCR
    ("3 marzo 2021", None, "2021-03-03"),
    ("3 de marzo de 2021", None, "2021-03-03"),
    ("15 ago 2021", None, "2021-08-15"),
    ("12 października 2020", None, "2020-10-12"),
    ("12 października 2020 r.", None, "2020-10-12"),
    ("12 pazdziernika 2020", None, "2020-10-12"),
    ("sobota, 2 stycznia 2021", None, "2021-01-02"),
    ("24 sty 2021", None, "2021-01-24"),
    ("March 3rd, 2021", None, "2021-03-03"),
    ("3rd March 2021", None, "2021-03-03"),
    ("Thursday, March 3, 2022", None, "2022-03-03"),
    ("Sept. 5, 2019", None, "2019-09-05"),
    ("15 Mrz 2020", None, "2020-03-15"),
    ("10 mrt 2021", None, "2021-03-10"),
    ("3-Mar-2021", None, "2021-03-03"),
    ("03-MAR-21", None, "2021-03-03"),
    ("5 Jänner 2020", None, "2020-01-05"),
    ("03/20/2023", None, "2023-03-20"),  # second part > 12: MDY
    ("04/04/2023", "MDY", "2023-04-04"),
    ("20-10-2015", None, "2015-10-20"),
    ("28/11/2022", None, "2022-11-28"),
    ("31/12/2017", None, "2017-12-31"),
    ("8-9-2022", None, "2022-09-08"),
    ("22-9-2022", None, "2022-09-22"),
    ("01.05.14", None, "2014-05-01"),
    ("12.05.2020", "MDY", "2020-12-05"),
    ("12.5.2020", None, "2020-05-12"),
    ("2021-01-01", None, "2021-01-01"),
    ("2023.03.20.", None, "2023-03-20"),
    ("2014-05-07T10:00", None, "2014-05-07"),
    ("Date: 31/12/2017", None, "2017-12-31"),
    ("Data wystawienia: 2021-01-01", None, "2021-01-01"),
    ("03 / 20 / 2023", None, "2023-03-20"),
    ("14.05.07", "YMD", "2014-05-07"),
    ("Mar-03-2021", None, "2021-03-03"),
    ("Monday 3rd of March, 2021", None, "2021-03-03"),  # through the dateparser fallback
    ("3 Mar '21", None, "2021-03-03"),
    ("July 1 - July 31 , 2014", None, "2014-07-31"),  # a range: "1 - July 31" is not 1 July 2031
    # not a date
    ("1 - July 31", None, None),
    ("3 Mar 21", None, None),  # a bare 2-digit year after a month name is too often a day or a count
    ("INV/2023/03/0008", None, None),
    ("99/99/2020", None, None),
    ("May 2014", None, None),
    ("20231231", None, None),
    ("30064443", None, None),
    ("", None, None),
]


@pytest.mark.parametrize("text,order,expected", DATES)
def test_parse_date_table(text, order, expected):
    assert format_date(parse_date(text, order=order)) == expected


@pytest.mark.parametrize("text", ["03/04/2021", "8-9-2022", "01.05.14", "12.5.2020"])
def test_day_month_ambiguity_is_reported(text):
    assert date_is_ambiguous(text)


@pytest.mark.parametrize("text", ["13/04/2021", "03/20/2023", "2021-03-04", "3 March 2021", "05/05/2021"])
def test_unambiguous_dates_are_not_flagged(text):
    assert not date_is_ambiguous(text)


def test_find_dates_spans_and_kinds():
    line = "Invoice Date: 20-10-2015  Order Date: 15-10-2015 period 01.05.14-31.05.14"
    found = find_dates(line)
    assert [line[d.start : d.end] for d in found] == ["20-10-2015", "15-10-2015", "01.05.14", "31.05.14"]
    assert all(d.kind == "numeric" for d in found)
    textual = find_dates("Rechnungsdatum 7. Mai 2014 Seite 1")
    assert len(textual) == 1 and textual[0].kind == "textual" and textual[0].value == date(2014, 5, 7)
    assert find_dates("no digits here") == []


def test_find_dates_languages_filter():
    # "mai" is German and French; with only Polish allowed it is not a month.
    assert find_dates("7 mai 2014", languages=["pl"]) == []
    assert find_dates("7 mai 2014", languages=["fr"])[0].value == date(2014, 5, 7)


def test_bad_order_is_an_error():
    with pytest.raises(ValueError, match="order"):
        parse_date("01/02/2020", order="DDM")


@pytest.mark.parametrize(
    "dates,kwargs,expected",
    [
        (["03/20/2023", "04/04/2023"], {}, "MDY"),  # 20 > 12 in second place
        (["28/11/2022"], {}, "DMY"),
        (["03/04/2023"], {}, "DMY"),  # no evidence: DMY
        (["03/04/2023"], {"country": "US"}, "MDY"),
        (["03/04/2023"], {"country": "DE"}, "DMY"),
        (["03/04/2023"], {"language": "en_US"}, "MDY"),
        (["03/04/2023"], {"language": "en"}, "DMY"),
        (["August 3 , 2014"], {}, "MDY"),  # month-first text: weak evidence
        (["7. Mai 2014"], {}, "DMY"),
        (["13/01/2020", "01/02/2020"], {"country": "US"}, "DMY"),  # the numbers beat the country
    ],
)
def test_infer_date_order(dates, kwargs, expected):
    assert infer_date_order(dates, **kwargs) == expected


# --------------------------------------------------------------------------------------------
# Currency: (text, keyword arguments, expected code, minimum confidence, maximum confidence)

CURRENCIES = [
    ("Totaal € 717,97", {}, "EUR", 0.9, 1.0),
    ("Total TTC : 56,02 €", {}, "EUR", 0.9, 1.0),
    ("Factuur totaal EUR 49,99", {}, "EUR", 0.9, 1.0),
    ("Razem do zapłaty: 316,83 zł", {}, "PLN", 0.9, 1.0),
    ("Kwota 316,83 PLN", {}, "PLN", 0.9, 1.0),
    ("słownie: trzysta szesnaście złotych", {}, "PLN", 0.8, 1.0),
    ("Grand Total £ 12.00", {}, "GBP", 0.9, 1.0),
    ("CHF 1'234.50", {}, "CHF", 0.9, 1.0),
    ("Total Fr. 12.50", {}, "CHF", 0.9, 1.0),
    ("₹ 319.00", {}, "INR", 0.9, 1.0),
    ("Amount 1 234,00 Kč", {}, "CZK", 0.9, 1.0),
    ("Összesen 12 000 Ft", {}, "HUF", 0.9, 1.0),
    ("Total C$ 12.00", {}, "CAD", 0.9, 1.0),
    ("Total A$ 12.00", {}, "AUD", 0.9, 1.0),
    ("Total US$ 12.00", {}, "USD", 0.9, 1.0),
    ("Total 1200 JPY", {}, "JPY", 0.9, 1.0),
    ("12 000 SEK", {}, "SEK", 0.9, 1.0),
    ("$ 42.00 ... all amounts in USD", {}, "USD", 0.9, 1.0),  # the code resolves the symbol
    ("$ 42.00 ... all amounts in CAD", {}, "CAD", 0.9, 1.0),
    ("$4.11", {"country": "US"}, "USD", 0.6, 0.9),  # resolved by the country, not certain
    ("$4.11", {"country": "CA"}, "CAD", 0.6, 0.9),
    ("$ 5", {"language": "en-AU"}, "AUD", 0.6, 0.9),
    ("Rs 1939", {"country": "IN"}, "INR", 0.6, 0.9),
    ("12 kr", {"country": "NO"}, "NOK", 0.6, 0.9),
    ("¥ 1200", {"country": "CN"}, "CNY", 0.6, 0.9),
    ("Subtotal $ 112.00 ... Fremont CA 94538 United States", {}, "USD", 0.5, 0.6),  # a place name hints
    ("$ 12.00 shipped from Canada to United States", {}, "USD", 0.3, 0.45),  # two places: no hint
    # ambiguous and unresolved: best guess with a low confidence
    ("TOTAL AMOUNT DUE $4.11", {}, "USD", 0.3, 0.5),
    ("Rs 1939", {}, "INR", 0.4, 0.7),
    ("12 kr", {}, "SEK", 0.1, 0.4),
    ("¥ 1200", {}, "JPY", 0.3, 0.5),
    # mixed evidence lowers the confidence
    ("€ 5 and $ 6", {}, "EUR", 0.3, 0.7),
    # no evidence: nothing is assumed, not even from the country
    ("Total 12.00", {}, None, 0.0, 0.0),
    ("Total 12.00", {"country": "DE"}, None, 0.0, 0.0),
    ("Krediet kreditor Europa", {}, None, 0.0, 0.0),  # no whole-word currency in these words
]


@pytest.mark.parametrize("text,kwargs,code,low,high", CURRENCIES)
def test_detect_currency_table(text, kwargs, code, low, high):
    got, confidence = detect_currency(text, **kwargs)
    assert got == code
    assert low <= confidence <= high


# --------------------------------------------------------------------------------------------
# Identifiers, names, IBAN


@pytest.mark.parametrize(
    "text,expected",
    [
        ("# BLR_WFLD20151000982590", "BLR_WFLD20151000982590"),
        ("No. 12345", "12345"),
        ("Nr.: 30064443", "30064443"),
        ("N° 2022089083", "2022089083"),
        ("INV/2023/03/0008", "INV/2023/03/0008"),
        ("NOVA123", "NOVA123"),
        ("F 1234K20/1234/12", "F1234K20/1234/12"),
        ("  993548900. ", "993548900"),
        ("", None),
        (None, None),
    ],
)
def test_normalize_id(text, expected):
    assert normalize_id(text) == expected


def test_normalize_id_can_keep_inner_spaces():
    assert normalize_id("# F 1234K20/1234/12", keep_inner_spaces=True) == "F 1234K20/1234/12"


def test_fold_name():
    assert fold_name("  Coolblue  B.V. ") == fold_name("coolblue b.v")
    assert fold_name('"WS Retail Services Pvt. Ltd.,"') == "ws retail services pvt. ltd"
    assert fold_name("ÉTS MARTIN") == "éts martin"  # accents kept
    assert fold_name(None) == ""


@pytest.mark.parametrize(
    "text,expected",
    [
        ("IBAN : FR76 10107 00245 00617052317 39", "FR7610107002450061705231739"),
        ("IBAN NL50INGB0683251309", "NL50INGB0683251309"),
        ("nl50 ingb 0683 2513 09", "NL50INGB0683251309"),
        ("DE89-3704-0044-0532-0130-00", "DE89370400440532013000"),
        ("", None),
    ],
)
def test_normalize_iban(text, expected):
    assert normalize_iban(text) == expected
