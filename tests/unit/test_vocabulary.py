"""The shipped vocabulary loads; broken files are refused with the file and key named; label matching."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml
from invoicebot import config
from invoicebot.errors import ConfigError
from invoicebot.schema import DOCUMENT_TYPES, HEADER_FIELDS
from invoicebot.vocabulary import (
    NUMBER_TOKEN,
    clear_cache,
    load_vocabulary,
    normalize_label,
    tokenize,
    value_after,
)

LANGS = ("en", "de", "fr", "nl", "es", "it", "pl")


@pytest.fixture(scope="module")
def voc():
    return load_vocabulary()


@pytest.fixture
def vocab_copy(tmp_path: Path) -> Path:
    d = tmp_path / "vocabulary"
    shutil.copytree(config.VOCABULARY_DIR, d)
    clear_cache()
    yield d
    clear_cache()


def _edit(path: Path, fn) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    fn(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# The shipped files


def test_shipped_vocabulary_loads_and_is_cached(voc):
    assert load_vocabulary() is voc
    assert load_vocabulary(config.VOCABULARY_DIR) is voc
    assert set(voc.languages) == set(LANGS)


@pytest.mark.parametrize("field", HEADER_FIELDS)
def test_every_field_has_labels_in_every_language(voc, field):
    by_lang = {lang: [p for p in voc.labels(field) if p.lang == lang] for lang in LANGS}
    for lang, phrases in by_lang.items():
        assert phrases, f"{field} has no {lang} label"
    assert len(voc.labels(field)) >= 14


@pytest.mark.parametrize("doc_type", DOCUMENT_TYPES)
def test_every_document_type_has_keywords_in_every_language(voc, doc_type):
    langs = {p.lang for p in voc.doc_type_keywords(doc_type)}
    assert langs == set(LANGS)


def test_required_labels_are_present(voc):
    def texts(field):
        return {normalize_label(p.text) for p in voc.labels(field)}

    for field, phrases in {
        "invoice_number": [
            "Invoice No.",
            "Invoice #",
            "Rechnungsnr.",
            "N° de facture",
            "Factuurnummer",
            "Nº factura",
            "Fattura n.",
            "Numer faktury",
            "Faktura nr",
        ],
        "total_amount": [
            "Total",
            "Grand Total",
            "Total TTC",
            "Gesamtbetrag",
            "Totaal",
            "Te betalen",
            "Importe total",
            "Totale",
            "Razem do zapłaty",
        ],
        "subtotal_amount": [
            "Subtotal",
            "Total HT",
            "Nettobetrag",
            "Exclusief BTW",
            "Base imponible",
            "Imponibile",
            "Wartość netto",
        ],
        "tax_amount": ["VAT", "MwSt.", "TVA", "BTW", "IVA", "GST", "Kwota VAT"],
        "amount_due": ["Amount due", "Balance due"],
        "quarter_to_date": ["Quarter to date"],
        "year_to_date": ["Year to date"],
        "vendor_tax_id": ["USt-IdNr.", "TVA intracom", "BTW-nummer", "NIP", "Partita IVA"],
    }.items():
        for phrase in phrases:
            assert normalize_label(phrase) in texts(field), f"{phrase!r} missing from {field}"


def test_confusable_labels_are_other_labels(voc):
    assert voc.label_fields("Kundennr.") == ["customer_number"]
    assert voc.label_fields("Klantnummer") == ["customer_number"]
    assert voc.label_fields("Order number") == ["order_number"]
    assert voc.label_fields("Orderdatum") == ["order_date"]
    assert voc.label_fields("Rechnungsnummer:") == ["invoice_number"]
    assert voc.label_fields("Auftragsnummer Nr.") == ["order_number"]  # trailing number mark dropped
    assert voc.label_fields("PO") == ["po_number"]
    assert voc.label_fields("po") == []  # case-sensitive abbreviation
    assert voc.label_fields("Nonsense words") == []
    assert voc.label_fields("") == []
    assert all(p.other for p in voc.other_labels("customer_number"))
    assert not set(voc.other_label_kinds) & set(HEADER_FIELDS)


def test_no_vendor_names_in_the_vocabulary():
    # The vocabulary is generic trade vocabulary: no entry names a company of the dev set (or any other).
    # ("Free", the French operator, is not checked: "free" is an ordinary word, as in "tax free".)
    vendors = [
        "amazon",
        "aws",
        "coolblue",
        "flipkart",
        "oyo",
        "netpresse",
        "qualityhosting",
        "saeco",
        "azure",
        "orlen",
        "alexinux",
        "sammy",
        "maystone",
        "ideal",
        "luscious",
        "tabletcenter",
        "laptopshop",
    ]
    for path in sorted(config.VOCABULARY_DIR.glob("*.yaml")):
        words = set(re.findall(r"[^\W\d_]+", path.read_text(encoding="utf-8").casefold()))
        # comments included: the whole file must be vendor-free
        assert not words & set(vendors), f"{path.name} names {sorted(words & set(vendors))}"


def test_currencies_and_symbols(voc):
    for code in "EUR USD GBP CHF INR PLN CAD AUD JPY CNY SEK NOK DKK CZK HUF".split():
        assert code in voc.currencies
    assert voc.currency_for_symbol("€") == "EUR"
    assert voc.currency_for_symbol("zł") == "PLN"
    assert voc.currency_for_symbol("euros") == "EUR"
    assert voc.currency_for_symbol("$") is None  # ambiguous
    assert {"USD", "CAD", "AUD"} <= set(voc.currencies_for_symbol("$"))
    assert set(voc.currencies_for_symbol("kr")) >= {"SEK", "NOK", "DKK"}
    assert set(voc.currencies_for_symbol("¥")) == {"JPY", "CNY"}
    assert voc.currency_best_guess("$")[0] == "USD" and voc.currency_best_guess("$")[1] < 0.5
    assert voc.currencies_for_symbol("bananas") == ()
    kinds = [(m.text, m.kind) for m in voc.find_currency_mentions("EUR 5, € 6, 7 euros, US$ 8, kreditor")]
    assert kinds == [("EUR", "code"), ("€", "symbol"), ("euros", "word"), ("US$", "symbol")]


def test_countries(voc):
    assert voc.country_currency("de") == "EUR"
    assert voc.country_date_order("US") == "MDY"
    assert voc.iban_length("NL") == 18
    assert voc.iban_length("US") is None
    assert voc.country_languages("BE") == ("nl", "fr", "de")


@pytest.mark.parametrize(
    "name,form,stripped",
    [
        ("Example Trading GmbH", "GmbH", "Example Trading"),
        ("Example B.V.", "B.V.", "Example"),
        ("EXAMPLE BV", "B.V.", "EXAMPLE"),
        ("Example, Inc.", "Inc.", "Example"),
        ("WS Retail Services Pvt. Ltd.,", "Pvt. Ltd.", "WS Retail Services"),
        ("Example Sp. z o.o.", "Sp. z o.o.", "Example"),
        ("Example S.r.l.", "SRL", "Example"),
        ("Example S.p.A.", "S.p.A.", "Example"),
        ("Example SARL", "SARL", "Example"),
        ("Example Ltd", "Ltd", "Example"),
        ("Agatha Smith", None, "Agatha Smith"),
        ("Sage Consulting", None, "Sage Consulting"),
    ],
)
def test_legal_forms(voc, name, form, stripped):
    found = voc.find_legal_form(name)
    assert (found.canonical if found else None) == form
    assert voc.strip_legal_form(name) == stripped


def test_language_scores(voc):
    nl = voc.language_scores("Factuurnummer: 993548900 Klantnummer: 6669263 Factuurdatum: 19 april 2014")
    assert max(nl, key=nl.get) == "nl"
    de = voc.language_scores("Rechnungsnr. 30064443 Kundennr. 47774 Rechnungsdatum 7. Mai 2014")
    assert max(de, key=de.get) == "de"
    pl = voc.language_scores("Faktura nr: F 1234K20/1234/12 Data wystawienia: 2021-01-01 Sprzedawca: ... Nabywca:")
    assert max(pl, key=pl.get) == "pl"
    fr = voc.language_scores("Facture n° 2022089083 Total HT : 46,68 € TVA 20% : 9,34 € Total TTC : 56,02 €")
    assert max(fr, key=fr.get) == "fr"
    en = voc.language_scores("Invoice Number: 42183017 Invoice Date: August 3 , 2014 Total for this invoice")
    assert max(en, key=en.get) == "en"
    assert abs(sum(en.values()) - 1.0) < 1e-9
    assert set(voc.language_scores("12345 678").values()) == {0.0}
    assert voc.guess_language("Razem do zapłaty") == "pl"
    assert voc.guess_language("") is None


def test_doc_type_matching(voc):
    found = {m.field for m in voc.match_doc_types("PAYMENT RECEIPT Guest Name")}
    assert found == {"receipt"}
    assert {m.field for m in voc.match_doc_types("Gutschrift Nr. 1")} == {"credit_note"}
    assert {m.field for m in voc.match_doc_types("Faktura korygująca")} == {"credit_note"}
    assert {m.field for m in voc.match_doc_types("FAKTURA KORYGUJACA")} == {"credit_note"}
    assert {m.field for m in voc.match_doc_types("FACTUUR.")} == {"invoice"}


# --------------------------------------------------------------------------------------------
# Label matching on lines as readers produce them


def _matches(voc, line, **kw):
    return [(m.field, line[m.start : m.end], m.other) for m in voc.match_labels(line, **kw)]


@pytest.mark.parametrize(
    "line,expected",
    [
        ("Invoice Number: 42183017", [("invoice_number", "Invoice Number", False)]),
        (
            "Rechnungsnr. 30064443 Kundennr. 47774",
            [("invoice_number", "Rechnungsnr", False), ("customer_number", "Kundennr", True)],
        ),
        ("Facture n° 2022089083", [("invoice_number", "Facture n°", False)]),
        ("Factuur datum", [("invoice_date", "Factuur datum", False)]),
        ("Total HT : 46,68 €", [("subtotal_amount", "Total HT", False)]),
        (
            "Exclusief BTW € 593,36 Subtotaal € 717,97",
            [("subtotal_amount", "Exclusief BTW", False), ("subtotal_amount", "Subtotaal", False)],
        ),
        ("Total TTC : 56,02 €", [("total_amount", "Total TTC", False)]),
        ("TVA 20% : 9,34 €", [("tax_amount", "TVA", False)]),
        ("Invoice No : # BLR_WFLD20151000982590", [("invoice_number", "Invoice No", False)]),
        ("Invoice No.: 123", [("invoice_number", "Invoice No", False)]),
        ("Total (incl. VAT): 12,00", [("total_amount", "Total (incl. VAT", False)]),
        ("INVOICE # 123", [("invoice_number", "INVOICE #", False)]),
        ("Inv. Nr. 123", [("invoice_number", "Inv. Nr", False)]),
        ("Faktura nr: F 1234K20/1234/12", [("invoice_number", "Faktura nr", False)]),
        ("Nº factura: A-123", [("invoice_number", "Nº factura", False)]),
        ("Fattura n. 45 del 03/03/2021", [("invoice_number", "Fattura n", False)]),
        ("Balance Due: $127.50", [("amount_due", "Balance Due", False)]),
        ("Subtotal: $127.50", [("subtotal_amount", "Subtotal", False)]),
        ("Grand Total Rs 1939", [("total_amount", "Grand Total", False)]),
        ("PO Number: po_number_123", [("po_number", "PO Number", False)]),
        ("Payment Terms: Net 30 days", [("payment_terms", "Payment Terms", False)]),
        ("Due Date: Jan 31, 2022", [("due_date", "Due Date", False)]),
        (
            "Quarter to date 1,234.00 Year to date 5,678.00",
            [("quarter_to_date", "Quarter to date", False), ("year_to_date", "Year to date", False)],
        ),
        ("Klantnummer: 6669263", [("customer_number", "Klantnummer", True)]),
        ("Ordernummer: 12572103", [("order_number", "Ordernummer", True)]),
        ("Orderdatum: 18 april 2014", [("order_date", "Orderdatum", True)]),
        ("Account number: 296664039561", [("account_number", "Account number", True)]),
        ("Order Date: 15-10-2015", [("order_date", "Order Date", True)]),
        ("USt-IdNr.: DE 232 446 240", [("vendor_tax_id", "USt-IdNr", False)]),
        ("IBAN : FR76 10107 00245", [("iban", "IBAN", False)]),
        ("Razem do zapłaty: 316,83 PLN", [("total_amount", "Razem do zapłaty", False)]),
        ("Uw BTW nummer: NL00333599698", [("customer_tax_id", "Uw BTW nummer", True)]),  # the buyer's, not ours
        ("BTW NL810433941B01", [("tax_amount", "BTW", False)]),  # a bare "BTW": the value shape decides
        ("VAT rate 21 %", [("tax_rate", "VAT rate", True)]),
        ("Taux TVA 20 %", [("tax_rate", "Taux TVA", True)]),
        ("Słownie: trzysta szesnaście złotych", [("amount_in_words", "Słownie", True)]),
        ("Versandkosten 4,90 €", [("shipping_cost", "Versandkosten", True)]),
        ("Subtotalen en totalen", []),  # "Subtotal" only as a whole word
        ("", []),
    ],
)
def test_match_labels_on_real_looking_lines(voc, line, expected):
    assert _matches(voc, line) == expected


@pytest.mark.parametrize(
    "line,expected",
    [
        # layout text: column heads far apart are separate labels, not one phrase
        (
            "Product   Title    Qty      Tax              Total",
            ["line_item_header", "line_item_header", "line_item_header", "tax_amount", "total_amount"],
        ),
        ("Wartość    VAT", ["tax_amount"]),  # not "Wartość VAT" across the gap
        ("Montant     % TVA", ["line_item_header", "tax_amount"]),  # "%" is a value, not part of a label
        ("Wartość VAT 59,24", ["tax_amount"]),
        # short capitalised abbreviations only match as printed
        ("brutto po rabacie", ["total_amount"]),  # Polish "po" is not a PO label
        ("PO Number: 12", ["po_number"]),
        ("EIN: 12-3456789", ["vendor_tax_id"]),
        ("ein Beispiel ohne Label", []),
        ("NIP: 774-00-01-454", ["vendor_tax_id"]),
    ],
)
def test_gaps_and_case_sensitive_abbreviations(voc, line, expected):
    assert [m.field for m in voc.match_labels(line)] == expected


def test_likely_languages_filter_labels(voc):
    page = "Invoice Number: 42183017 Invoice Date: August 3 , 2014 Total for this invoice AWS Data Transfer"
    langs = voc.likely_languages(page)
    assert langs[0] == "en"
    assert "invoice_date" not in {m.field for m in voc.match_labels("AWS Data Transfer", languages=langs)}
    assert voc.likely_languages("12345") == []


@pytest.mark.parametrize(
    "line,field,phrase",
    [
        ("Razem do zaplaty: 316,83", "total_amount", "Razem do zapłaty"),
        ("Wartosc netto 257,59", "subtotal_amount", "Wartość netto"),
        ("Date d emission : 28/11/2022", "invoice_date", "Date d'émission"),
        ("NUMERO DE FACTURE 12", "invoice_number", "Numero de facture"),  # listed unaccented as well
    ],
)
def test_phrases_with_accents_match_without_them(voc, line, field, phrase):
    (m,) = voc.match_labels(line)
    assert (m.field, m.phrase) == (field, phrase)


def test_longest_match_wins(voc):
    # "Total amount due" is one label, not "Total" + something.
    assert _matches(voc, "TOTAL AMOUNT DUE ON August 3 , 2014 $4.11")[0][:2] == ("amount_due", "TOTAL AMOUNT DUE")
    # "Customer PO number" is a PO label, not the customer.
    assert _matches(voc, "Customer PO number 77")[0][:2] == ("po_number", "Customer PO number")


def test_match_labels_filters(voc):
    line = "Rechnungsnr. 30064443 Kundennr. 47774"
    only_fields = voc.match_labels(line, include_other=False)
    assert [m.field for m in only_fields] == ["invoice_number"]
    assert [m.field for m in voc.match_other_labels(line)] == ["customer_number"]
    # "Data" is an Italian/Polish date label; in English text it is left out when the page is English.
    assert [m.field for m in voc.match_labels("AWS Data Transfer")] == ["invoice_date"]
    assert voc.match_labels("AWS Data Transfer", languages=["en"]) == []


def test_match_has_language_and_phrase(voc):
    (m,) = voc.match_labels("Date : 28/11/2022")
    assert m.field == "invoice_date" and m.phrase == "Date"
    assert set(m.langs) == {"en", "fr"} and m.lang in m.langs


def test_value_after(voc):
    line = "Invoice No : # BLR_WFLD20151000982590"
    (m,) = voc.match_labels(line)
    assert value_after(line, m) == ("BLR_WFLD20151000982590", line.index("BLR"))
    line = "Total (incl. VAT): 12,00"
    (m,) = voc.match_labels(line)
    assert value_after(line, m)[0] == "12,00"
    line = "Facture n° 2022089083"
    (m,) = voc.match_labels(line)
    assert value_after(line, m)[0] == "2022089083"


def test_tokens_fold_number_spellings():
    for spelling in ("No", "No.", "Nr", "Nr.", "N°", "Nº", "N.º", "#", "Num.", "Nro"):
        assert tokenize(f"Invoice {spelling}")[-1][0] == NUMBER_TOKEN, spelling
    assert normalize_label("Invoice No.:") == normalize_label("invoice  #")
    assert normalize_label("Numéro") != normalize_label("Numero")  # accents are kept


def test_matching_is_fast_enough_to_print(voc, capsys):
    import time

    lines = ["Rechnungsnr. 30064443 Kundennr. 47774 Rechnungsdatum 7. Mai 2014"] * 2000
    t = time.perf_counter()
    for line in lines:
        voc.match_labels(line)
    per_line = (time.perf_counter() - t) / len(lines)
    print(f"match_labels: {per_line * 1e6:.1f} µs per line")  # a number to read, not an assertion


# --------------------------------------------------------------------------------------------
# Broken vocabulary files


def test_unknown_field_names_file_and_key(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"].__setitem__("invoice_numbr", {"en": ["Inv"]}))
    with pytest.raises(ConfigError) as e:
        load_vocabulary(vocab_copy)
    msg = str(e.value)
    assert "labels.yaml: fields.invoice_numbr: unknown field" in msg
    assert "invoice_number" in msg  # says what is allowed


def test_empty_phrase_names_index(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["invoice_number"]["de"].insert(3, "  "))
    with pytest.raises(ConfigError, match=r"labels\.yaml: fields\.invoice_number\.de\[3\]: empty phrase"):
        load_vocabulary(vocab_copy)


def test_wrong_type_names_key(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["total_amount"].__setitem__("fr", "Total TTC"))
    with pytest.raises(ConfigError, match=r"labels\.yaml: fields\.total_amount\.fr: must be a list of phrases"):
        load_vocabulary(vocab_copy)


def test_number_instead_of_text(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["tax_amount"]["en"].append(19))
    with pytest.raises(ConfigError, match=r"fields\.tax_amount\.en\[\d+\]: must be text, not a number"):
        load_vocabulary(vocab_copy)


def test_unknown_language(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["iban"].__setitem__("xx", ["IBAN"]))
    with pytest.raises(ConfigError, match=r"fields\.iban\.xx: unknown language 'xx'"):
        load_vocabulary(vocab_copy)


def test_duplicate_within_field(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["invoice_number"]["en"].append("INVOICE NO.:"))
    with pytest.raises(ConfigError, match=r"fields\.invoice_number\.en\[\d+\]: duplicate phrase 'INVOICE NO\.:'"):
        load_vocabulary(vocab_copy)


def test_phrase_both_field_and_other_label(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["other_labels"]["customer_number"]["en"].append("Invoice number"))
    with pytest.raises(ConfigError, match=r"other_labels\.customer_number\.en\[\d+\]: .*both a field label"):
        load_vocabulary(vocab_copy)


def test_bad_yaml_syntax_names_file_and_line(vocab_copy):
    path = vocab_copy / "document_types.yaml"
    path.write_text('document_types:\n  invoice:\n    en: ["Invoice", \n  credit_note: {\n', encoding="utf-8")
    with pytest.raises(ConfigError) as e:
        load_vocabulary(vocab_copy)
    assert "document_types.yaml: invalid YAML at line" in str(e.value)
    assert e.value.path == str(path)


def test_missing_file(vocab_copy):
    (vocab_copy / "currencies.yaml").unlink()
    with pytest.raises(ConfigError, match=r"currencies\.yaml: file not found"):
        load_vocabulary(vocab_copy)


def test_missing_folder(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_vocabulary(tmp_path / "nowhere")


def test_unknown_document_type(vocab_copy):
    _edit(vocab_copy / "document_types.yaml", lambda d: d["document_types"].__setitem__("invoce", {"en": ["X"]}))
    with pytest.raises(ConfigError, match=r"document_types\.invoce: unknown document type"):
        load_vocabulary(vocab_copy)


def test_bad_currency_code_and_guess(vocab_copy):
    _edit(vocab_copy / "currencies.yaml", lambda d: d["ambiguous"]["$"].__setitem__("best_guess", "EUR"))
    with pytest.raises(ConfigError, match=r"currencies\.yaml: ambiguous\.\$\.best_guess: 'EUR' must be one of"):
        load_vocabulary(vocab_copy)


def test_country_currency_must_exist(vocab_copy):
    _edit(vocab_copy / "currencies.yaml", lambda d: d["currencies"].pop("PLN"))
    with pytest.raises(ConfigError, match=r"currencies\.yaml: currencies: languages\.yaml names PLN for PL"):
        load_vocabulary(vocab_copy)


def test_norway_problem_is_explained(vocab_copy):
    path = vocab_copy / "languages.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace('"NO":', "NO:"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"languages\.yaml: countries: key False must be text"):
        load_vocabulary(vocab_copy)


def test_case_sensitive_entry_must_be_a_phrase(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["case_sensitive"].append("XYZ"))
    with pytest.raises(ConfigError, match=r"labels\.yaml: case_sensitive\[\d+\]: 'XYZ' is not a phrase"):
        load_vocabulary(vocab_copy)


def test_legal_form_duplicate(vocab_copy):
    _edit(vocab_copy / "legal_forms.yaml", lambda d: d["forms"]["GmbH"]["variants"].append("G.m.b.H."))
    with pytest.raises(ConfigError, match=r"legal_forms\.yaml: forms\.GmbH\.variants\[\d+\]: 'G\.m\.b\.H\.' reads"):
        load_vocabulary(vocab_copy)


def test_fixed_copy_loads_again(vocab_copy):
    voc = load_vocabulary(vocab_copy)
    assert voc.directory == vocab_copy.resolve()
    assert voc.labels("invoice_number")


def test_check_command(vocab_copy, capsys):
    from invoicebot.vocabulary import main

    assert main([str(vocab_copy), "Facture n° 2022089083"]) == 0
    out = capsys.readouterr().out
    assert "vocabulary OK" in out and "invoice_number='Facture n°'" in out
    _edit(vocab_copy / "labels.yaml", lambda d: d["fields"]["invoice_number"]["de"].insert(0, ""))
    clear_cache()
    assert main([str(vocab_copy)]) == 1
    assert "fields.invoice_number.de[0]: empty phrase" in capsys.readouterr().err


def test_place_hint_needs_a_known_currency(vocab_copy):
    _edit(vocab_copy / "currencies.yaml", lambda d: d["place_hints"].__setitem__("XYZ", ["Atlantis"]))
    with pytest.raises(ConfigError, match=r"currencies\.yaml: place_hints\.XYZ: unknown currency 'XYZ'"):
        load_vocabulary(vocab_copy)


def test_credit_note_references(voc):
    assert voc.is_credit_note_reference("Your Ref.") and voc.is_credit_note_reference("VS. RIFERIMENTO:")
    assert not voc.is_credit_note_reference("PO #") and not voc.is_credit_note_reference("Bestellnummer")


def test_credit_note_reference_must_be_a_po_label(vocab_copy):
    _edit(vocab_copy / "labels.yaml", lambda d: d["credit_note_references"].append("Invoice No."))
    with pytest.raises(ConfigError, match=r"labels\.yaml: credit_note_references\[\d+\]: 'Invoice No\.' is not a phrase "
                                          r"under fields\.po_number"):
        load_vocabulary(vocab_copy)
