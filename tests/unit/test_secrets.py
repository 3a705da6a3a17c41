"""No secret or personal identifier in clear: the masking rules, and the scan over a run's outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoicebot.masking import mask_data, mask_text

# Every form the vocabulary's tax-id labels and the generator use, and IBANs with and without spaces.
CLEAR = [
    ("IBAN: DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "DE89 3704 0044 0532 0130 00"),
    ("IBAN DE89370400440532013000", "DE89370400440532013000"),
    ("pay to GB33BUKB20201555555555.", "GB33BUKB20201555555555"),
    ("IBAN\u00a0FR14\u00a02004\u00a01010\u00a00505\u00a00001\u00a03M02\u00a0606", "2004\u00a01010\u00a00505"),
    ("VAT Reg. No. GB 349 7472 75", "349 7472"),
    ("USt-IdNr.: DE811234567", "DE811234567"),
    ("N° TVA FR40303265045", "FR40303265045"),
    ("BTW NL123456789B01", "NL123456789B01"),
    ("CHE-123.456.789 MWST", "123.456.789"),
    ("NO 123 456 789 MVA", "123 456 789"),
    ("ABN 91 108 015 838", "91 108 015 838"),
    ("GSTIN 22AAAAA0000A1Z5", "22AAAAA0000A1Z5"),
    ("NIP 123-456-32-18", "123-456-32-18"),
    ("Tax ID: US-91-1234567", "91-1234567"),
    ("Steuernummer 21/815/08150", "21/815/08150"),
    ("NIF: B12345678", "B12345678"),
    ("Partita IVA 12345678901", "12345678901"),
    ("Tax ID 123456789", "123456789"),
    ("login password=hunter2-secret ok", "hunter2-secret"),
    ("{'user': 'admin', 'password': 'invoicebot-admin'}", "invoicebot-admin"),
    ('{"INVOICEBOT_IMAP_PASSWORD": "s3cr3t-t0ken"}', "s3cr3t-t0ken"),
    ("http://admin:invoicebot-admin@127.0.0.1:8000/invoicebot/", "invoicebot-admin"),
]


@pytest.mark.parametrize(("text", "secret"), CLEAR)
def test_mask_text_hides_every_form(text, secret):
    masked = mask_text(text)
    assert secret not in masked, masked
    assert len(masked) == len(text)  # length kept: a masked line splits into the same words


# What must stay readable: amounts, dates, invoice numbers, rates.
READABLE = [
    "Total VAT 1234.56 EUR",
    "VAT 21% 190.00",
    "Tax 19.00 Total 119.00",
    "Invoice INV-2026-00012 of 2026-01-05 total 119.00",
    "Invoice number 12345678",
    "Numer faktury FV/2026/000123",
    "Tax invoice date 2026-01-05",
    "GST 10% 12345.00",
]


@pytest.mark.parametrize("text", READABLE)
def test_mask_text_keeps_amounts_dates_and_numbers(text):
    assert mask_text(text) == text


def test_mask_data_masks_credentials_by_key_and_sensitive_fields():
    data = {"user": "robot", "password": "pw-1", "nested": [{"api_key": "k"}],
            "fields": {"iban": {"value": "DE89370400440532013000", "raw": "DE89 3704 0044 0532 0130 00"},
                       "vendor_address": {"value": "12 Market Street, Leeds LS1 6DT"},
                       "vendor_name": {"value": "Acme Ltd"}}}
    out = mask_data(data)
    assert out["user"] == "robot" and out["password"] == "********" and out["nested"][0]["api_key"] == "********"
    text = repr(out)
    for secret in ("DE89370400440532013000", "3704 0044", "Market Street"):
        assert secret not in text
    assert out["fields"]["vendor_name"]["value"] == "Acme Ltd"


# ------------------------------------------------------------------ every HTML page escapes document text

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ATTR = "x\" onmouseover=\"alert(2)"


def test_run_report_page_escapes_document_text(tmp_path):
    from invoicebot.report import AttachmentRecord, MailRecord, RunReport

    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1@x", sender="' onmouseover='alert(3)", subject=HOSTILE_NAME, attachments=1,
                               note=HOSTILE_ATTR))
    report.add_attachment(AttachmentRecord(
        file_name=HOSTILE_ATTR + ".pdf", decision="review", code="LOW_CONFIDENCE", reason=HOSTILE_NAME,
        message_id="m1@x", item_id="att-1", document_type="invoice", type_confidence=0.9,
        fields={"vendor_name": {"value": HOSTILE_NAME, "confidence": 0.9},
                HOSTILE_ATTR: {"value": "<img src=x onerror=alert(4)>", "confidence": 0.5}}))
    page = Path(report.write()["html"]).read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page
    assert '" onmouseover=' not in page and "' onmouseover=" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # subject, reason, vendor name
    assert "x&quot; onmouseover=&quot;alert(2).pdf" in page and "&#x27; onmouseover=&#x27;alert(3)" in page
