"""Run report (HTML/CSV/JSON), the ledger of documents already seen, and masking of secrets."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from invoicebot.masking import mask_data, mask_fields, mask_text, mask_token
from invoicebot.report import AttachmentRecord, Ledger, MailRecord, RunReport

IBAN = "DE89370400440532013000"


def _fill(report: RunReport) -> None:
    report.add_mail(
        MailRecord(
            message_id="m1@x",
            sender="billing@northwind.test",
            subject="Invoice INV-1",
            mail_date="2026-01-05T10:00:00+01:00",
            attachments=2,
        )
    )
    report.add_mail(
        MailRecord(
            message_id="m2@x",
            sender="news@acme.test",
            subject="Our news",
            attachments=0,
            note="no document attached; skipped logo.png: inline image",
        )
    )
    report.add_attachment(
        AttachmentRecord(
            file_name="inv1.pdf",
            decision="done",
            reason="all fields",
            message_id="m1@x",
            item_id="att-1",
            document_type="invoice",
            type_confidence=0.93,
            fields={"total_amount": {"value": "119.00", "confidence": 0.9}, "iban": {"value": IBAN, "confidence": 0.8}},
            seconds=1.25,
        )
    )
    report.add_attachment(
        AttachmentRecord(
            file_name="inv2.pdf",
            decision="review",
            code="LOW_CONFIDENCE",
            reason=f"below 0.80: iban ({IBAN})",
            message_id="m1@x",
            item_id="att-2",
            fields={"total_amount": {"value": "5.00", "confidence": 0.4}},
        )
    )


def test_summary_counts_mails_attachments_and_decisions(tmp_path):
    report = RunReport(tmp_path)
    _fill(report)
    s = report.summary()
    assert s == {
        "mails": 2,
        "attachments_queued": 2,
        "attachments": 2,
        "done": 1,
        "review": 1,
        "failed": 0,
        "codes": {"LOW_CONFIDENCE": 1},
        "mails_without_document": 1,
        "mails_to_review": 0,
        "damaged_record_lines": 0,
    }


def test_write_renders_html_csv_json_with_secrets_masked(tmp_path):
    report = RunReport(tmp_path / "r")
    _fill(report)
    paths = report.write()
    html = open(paths["html"]).read()
    rows = list(csv.DictReader(open(paths["csv"])))
    raw = open(paths["csv"]).read() + html + (tmp_path / "r" / "records.jsonl").read_text()
    assert IBAN not in raw and "DE89" in raw  # masked, first characters kept
    assert [r["kind"] for r in rows] == ["mail", "mail", "attachment", "attachment"]
    att = rows[3]
    assert (att["decision"], att["code"], att["min_confidence"]) == ("review", "LOW_CONFIDENCE", "0.4")
    assert json.loads(att["fields"]) == {"total_amount": "5.00"}
    assert rows[1]["reason"].startswith("no document attached")
    assert "LOW_CONFIDENCE" in html and "inv1.pdf" in html and "Our news" in html
    assert json.loads(open(paths["json"]).read())["review"] == 1


def test_html_escapes_mail_subjects(tmp_path):
    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m", subject="<script>alert(1)</script>"))
    report.write()
    assert "<script>alert" not in (tmp_path / "report.html").read_text()


def test_every_decision_needs_a_known_end_and_a_reason():
    with pytest.raises(ValueError, match="not one of done, review, failed"):
        AttachmentRecord(file_name="a.pdf", decision="skipped", reason="x")
    with pytest.raises(ValueError, match="has no reason"):
        AttachmentRecord(file_name="a.pdf", decision="done", reason="")


def test_damaged_records_line_is_named(tmp_path):
    report = RunReport(tmp_path)
    _fill(report)
    with open(report.records_path, "a") as fh:
        fh.write("{not json\n")
    paths = report.write()  # a damaged line (a crash while appending) is skipped and counted, never fatal
    assert json.loads(Path(paths["json"]).read_text())["damaged_record_lines"] == 1
    assert report.damaged_lines == [5]


def test_ledger_finds_same_file_and_same_vendor_number_but_not_a_retry(tmp_path):
    ledger = Ledger(tmp_path / "l.jsonl")
    assert ledger.find_duplicate(item_key="a", sha256="s1", vendor="Northwind Ltd.", invoice_number="INV-1") is None
    ledger.add(item_key="a", sha256="s1", vendor="Northwind Ltd.", invoice_number="INV-1")
    assert ledger.find_duplicate(item_key="a", sha256="s1") is None  # the same item again: a retry
    assert ledger.find_duplicate(item_key="b", sha256="s1")["match"] == "same file"
    dup = ledger.find_duplicate(item_key="c", sha256="s2", vendor="NORTHWIND LTD", invoice_number="inv 1")
    assert dup["match"] == "same vendor and invoice number" and dup["item_key"] == "a"
    assert ledger.find_duplicate(item_key="d", sha256="s3", vendor="Other", invoice_number="INV-1") is None
    assert ledger.find_duplicate(item_key="e", sha256="s4", vendor=None, invoice_number="INV-1") is None


# ------------------------------------------------------------------------------------------ masking


@pytest.mark.parametrize(
    "text, secret",
    [
        ("IBAN: DE89 3704 0044 0532 0130 00", "3704 0044 0532"),
        (f"pay to {IBAN} now", "370400440532013"),
        ("GB82WEST12345698765432", "WEST123456987654"),
        ("VAT: DE123456789", "23456789"),
        ("BTW NL123456789B01", "23456789B0"),
        ("UID CHE-123.456.789 MWST", "123.456.789"),
        ("EIN 12-3456789", "3456789"),
    ],
)
def test_mask_text_hides_ibans_and_tax_ids(text, secret):
    masked = mask_text(text)
    assert secret not in masked
    assert "*" in masked


@pytest.mark.parametrize(
    "text",
    [
        "Invoice INV-2024-0001 total 1234.56 EUR on 2026-01-05",
        "Order PO-77812, 3 x widgets at 19.99",
        "DE 12 and FR 7",
    ],
)
def test_mask_text_leaves_ordinary_text_alone(text):
    assert mask_text(text) == text


def test_mask_by_field_name_whatever_the_value():
    assert mask_token("ABCDEFGHIJ") == "ABCD****IJ"
    assert mask_token("12345") == "*****"
    out = mask_fields({"vendor_tax_id": "12345678", "iban": {"value": IBAN, "raw": IBAN}, "total_amount": "9.00"})
    assert out["vendor_tax_id"] == "********" and out["total_amount"] == "9.00"
    assert IBAN not in json.dumps(out)
    nested = mask_data({"fields": {"iban": {"value": IBAN}}, "note": f"IBAN {IBAN}"})
    assert IBAN not in json.dumps(nested)
