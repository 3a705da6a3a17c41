"""The intake defects of issue 19: each test failed on the code before its fix.

One odd mail must never stop the intake, a stopped producer must lose nothing and queue nothing twice,
and no attachment may be lost without a trace.
"""

from __future__ import annotations

import base64
import csv
import json
import os
from pathlib import Path

import pytest
from invoicebot import mail
from invoicebot.mail import AttachmentLedger, LedgerError, parse_message, save_attachments
from invoicebot.report import AttachmentRecord, Ledger, MailRecord, RunReport

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
B64 = base64.encodebytes(PDF).decode()
HEAD = "From: Vendor <billing@vendor.example>\r\nSubject: {subject}\r\nMessage-ID: <{mid}@vendor.example>\r\nMIME-Version: 1.0\r\n"


def raw_mail(body: str, subject: str = "Invoice", mid: str = "m1") -> bytes:
    return (HEAD.format(subject=subject, mid=mid) + body).encode()


def pdf_part(name: str = "a.pdf") -> str:
    return (f"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename={name}\r\n\r\n{B64}\r\n")


# ------------------------------------------------------------------------ mails that used to raise


def test_a_single_part_scanner_mail_is_its_pdf():
    msg = parse_message(raw_mail(f"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n{B64}"))
    (doc,) = msg.documents
    assert doc.media_type == "application/pdf" and doc.origin == "body" and doc.file_name.endswith(".pdf")
    assert not msg.problems


@pytest.mark.parametrize("ctype", ['multipart/mixed', 'multipart/mixed; boundary="ABC"'])
def test_a_multipart_without_or_with_a_wrong_boundary_is_read_by_the_delimiter_its_body_uses(ctype):
    msg = parse_message(raw_mail(f"Content-Type: {ctype}\r\n\r\n--XYZ\r\n{pdf_part()}--XYZ--\r\n"))
    assert [d.file_name for d in msg.documents] == ["a.pdf"]


def test_a_multipart_with_no_delimiter_at_all_is_a_problem_not_a_crash():
    msg = parse_message(raw_mail("Content-Type: multipart/mixed\r\n\r\njust text, no parts\r\n"))
    assert not msg.documents
    assert msg.problems and "without a usable boundary" in msg.problems[0]


def test_deeply_nested_mime_is_a_problem_not_a_recursion_error():
    nest = pdf_part()
    for i in range(2000):
        nest = f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n{nest}--b{i}--\r\n'
    msg = parse_message(raw_mail(nest, subject="deep"))
    assert msg.problems and ("too deep" in msg.problems[0] or "nested deeper" in msg.problems[0])
    assert msg.subject == "deep" and msg.message_id == "m1@vendor.example"


def test_nesting_over_the_limit_but_parseable_stops_at_the_limit():
    nest = pdf_part()
    for i in range(mail.MAX_MIME_DEPTH + 5):
        nest = f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n{nest}--b{i}--\r\n'
    msg = parse_message(raw_mail(nest))
    assert any("nested deeper than" in p for p in msg.problems)


# ---------------------------------------------------------------------- attachments that were lost


def test_a_nameless_text_part_holding_a_pdf_is_taken():
    body = (f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nhi\r\n'
            f"--o\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\n{B64}\r\n--o--\r\n")
    (doc,) = parse_message(raw_mail(body)).documents
    assert doc.media_type == "application/pdf" and doc.origin == "part 2"


def test_a_base64_forwarded_message_is_opened():
    inner = (f"From: v@x.example\r\nSubject: the invoice\r\nMIME-Version: 1.0\r\n"
             f'Content-Type: multipart/mixed; boundary="in"\r\n\r\n--in\r\n{pdf_part("inner.pdf")}--in--\r\n')
    body = (f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\nContent-Type: text/plain\r\n\r\nsee\r\n'
            f"--o\r\nContent-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.encodebytes(inner.encode()).decode()}\r\n--o--\r\n")
    (doc,) = parse_message(raw_mail(body)).documents
    assert doc.file_name == "inner.pdf" and "forwarded 'the invoice'" in doc.origin


def test_a_mail_over_the_size_limit_is_named_with_its_problem(monkeypatch, tmp_path):
    monkeypatch.setattr(mail, "MAX_MESSAGE_BYTES", 300)
    raw = raw_mail(f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n{pdf_part()}--o--\r\n', subject="big")
    for source in (raw, tmp_path / "big.eml"):
        if isinstance(source, Path):
            source.write_bytes(raw)
        msg = parse_message(source)
        assert msg.subject == "big" and msg.message_id == "m1@vendor.example" and not msg.documents
        assert "more than the limit" in msg.problems[0]


def test_a_mail_with_more_documents_than_the_limit_queues_none_and_says_why(monkeypatch):
    monkeypatch.setattr(mail, "MAX_DOCUMENTS_PER_MESSAGE", 5)
    parts = "".join("--o\r\n" + pdf_part(f"p{i}.pdf").replace(B64, base64.encodebytes(PDF + bytes([i])).decode())
                    for i in range(12))
    msg = parse_message(raw_mail(f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n{parts}--o--\r\n'))
    assert not msg.documents and "12 documents, more than the limit of 5" in msg.problems[0]


# ------------------------------------------------------------------------- a producer stopped midway


def test_an_attachment_saved_but_never_queued_is_queued_by_the_rerun_not_taken_for_its_own_duplicate(tmp_path):
    raw = raw_mail(f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n{pdf_part()}--o--\r\n')
    ledger_path = tmp_path / "ledger.jsonl"
    (first,) = save_attachments(parse_message(raw), tmp_path / "att", AttachmentLedger(ledger_path))
    # killed here: the work item was never made
    (again,) = save_attachments(parse_message(raw), tmp_path / "att", AttachmentLedger(ledger_path))
    assert again.status == "saved" and again.path == first.path
    mail.mark_queued(AttachmentLedger(ledger_path), [again.sha256])
    (third,) = save_attachments(parse_message(raw), tmp_path / "att", AttachmentLedger(ledger_path))
    assert third.status == "skipped" and not third.reason.startswith("duplicate")


def test_the_same_file_in_another_mail_is_still_a_duplicate(tmp_path):
    part = f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n--o\r\n{pdf_part()}--o--\r\n'
    ledger = AttachmentLedger(tmp_path / "ledger.jsonl")
    save_attachments(parse_message(raw_mail(part, mid="one")), tmp_path / "att", ledger)
    (dup,) = save_attachments(parse_message(raw_mail(part, mid="two")), tmp_path / "att", ledger)
    assert dup.status == "skipped" and dup.reason.startswith("duplicate") and "one@vendor.example" in dup.reason


def test_a_torn_last_ledger_line_is_dropped_and_cut_off_before_the_next_write(tmp_path):
    path = tmp_path / "ledger.jsonl"
    ledger = AttachmentLedger(path)
    ledger.record("a" * 64, message_id="m", file_name="a.pdf")
    with open(path, "a") as fh:
        fh.write('{"op":"take","sha256":"bbbb')  # the crash
    again = AttachmentLedger(path)
    assert "a" * 64 in again and len(again) == 1
    again.record("c" * 64, message_id="m", file_name="c.pdf")
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line) for line in lines)
    assert len(AttachmentLedger(path)) == 2


def test_a_damaged_line_inside_the_ledger_stops_with_its_number(tmp_path):
    path = tmp_path / "ledger.jsonl"
    AttachmentLedger(path).record("a" * 64, message_id="m", file_name="a.pdf")
    with open(path, "a") as fh:
        fh.write("garbage")
    AttachmentLedger(path)  # still readable: the damage is only the last line, a crash's torn write
    with open(path, "a") as fh:
        fh.write('\n{"op":"take","sha256":"' + "d" * 64 + '"}\n')
    with pytest.raises(LedgerError, match="line 2 of the attachment ledger"):
        AttachmentLedger(path)


def test_a_ledger_of_the_old_format_is_read_and_rewritten(tmp_path):
    path = tmp_path / "ledger.jsonl"
    path.write_text(json.dumps({"version": 1, "entries": {"a" * 64: {"message_id": "m", "file_name": "a.pdf",
                                                                     "path": "", "status": "saved",
                                                                     "first_seen": "2026-01-01T00:00:00+00:00"}}}))
    ledger = AttachmentLedger(path)
    assert ledger.get("a" * 64)["message_id"] == "m"
    ledger.record("b" * 64, message_id="n", file_name="b.pdf")
    assert len(AttachmentLedger(path)) == 2 and path.read_text().count("\n") == 2


def test_a_mail_costs_one_ledger_write_not_one_per_attachment(tmp_path, monkeypatch):
    parts = "".join("--o\r\n" + pdf_part(f"p{i}.pdf").replace(B64, base64.encodebytes(PDF + bytes([i])).decode())
                    for i in range(30))
    msg = parse_message(raw_mail(f'Content-Type: multipart/mixed; boundary="o"\r\n\r\n{parts}--o--\r\n'))
    ledger = AttachmentLedger(tmp_path / "ledger.jsonl")
    syncs = []
    real = os.fsync
    monkeypatch.setattr(mail.os, "fsync", lambda fd: (syncs.append(fd), real(fd)))
    out = save_attachments(msg, tmp_path / "att", ledger)
    ledger_syncs = len(syncs) - 30  # one per saved file, the rest the ledger's
    assert sum(r.status == "saved" for r in out) == 30 and ledger_syncs == 1


# ------------------------------------------------------------------------------- the run report


def test_a_torn_last_record_line_breaks_neither_later_records_nor_the_report(tmp_path):
    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1", attachments=1))
    with open(report.records_path, "a") as fh:
        fh.write('{"kind": "attachment", "decis')  # the crash
    report.add_attachment(AttachmentRecord(file_name="a.pdf", decision="done", reason="keyed", item_id="i1",
                                           message_id="m1"))
    paths = report.write()
    summary = json.loads(Path(paths["json"]).read_text())
    assert summary["mails"] == 1 and summary["attachments"] == 1 and summary["damaged_record_lines"] == 1


def test_report_csv_cells_never_start_a_formula(tmp_path):
    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1", sender="=HYPERLINK(\"http://evil\",\"x\")", subject="+cmd|' /C calc'!A0",
                               attachments=0))
    report.add_attachment(AttachmentRecord(file_name="@SUM(1+1).pdf", decision="review", reason="-2+3", item_id="i"))
    rows = list(csv.DictReader(open(report.write()["csv"], encoding="utf-8")))
    cells = [v for r in rows for v in r.values() if v]
    assert not [c for c in cells if c[0] in "=+-@"], cells
    assert rows[0]["sender"] == "'=HYPERLINK(\"http://evil\",\"x\")"


def test_a_mail_sent_to_review_is_counted_as_such_not_as_without_document(tmp_path):
    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1", attachments=0, note="sent to review: too large", review="too large"))
    report.add_mail(MailRecord(message_id="m2", attachments=0, note="no document attached"))
    s = report.summary()
    assert s["mails_to_review"] == 1 and s["mails_without_document"] == 1


def test_a_torn_invoice_ledger_line_does_not_break_later_items(tmp_path):
    ledger = Ledger(tmp_path / "invoice-ledger.jsonl")
    ledger.add(item_key="i1", sha256="s1", vendor="ACME", invoice_number="1")
    with open(ledger.path, "a") as fh:
        fh.write('{"item_key": "i2", "sha')  # the crash
    assert ledger.find_duplicate(item_key="i3", sha256="s1")["item_key"] == "i1"
    ledger.add(item_key="i3", sha256="s3", vendor="ACME", invoice_number="3")
    assert ledger.find_duplicate(item_key="i4", vendor="acme", invoice_number="3")["item_key"] == "i3"


def test_a_mail_or_item_recorded_again_by_a_rerun_counts_once(tmp_path):
    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1", attachments=1))
    report.add_attachment(AttachmentRecord(file_name="a.pdf", decision="failed", reason="killed", item_id="i1"))
    # the run was stopped after recording and before releasing: the rerun records both again
    report.add_mail(MailRecord(message_id="m1", attachments=1))
    report.add_attachment(AttachmentRecord(file_name="a.pdf", decision="done", reason="keyed", item_id="i1"))
    s = report.summary()
    assert (s["mails"], s["attachments"], s["done"], s["failed"]) == (1, 1, 1, 0)


def test_the_done_result_handed_on_with_the_artifacts_holds_no_iban_or_tax_id_in_clear(tmp_path, monkeypatch):
    from invoicebot.schema import ExtractedField, ExtractionResult
    from InvoiceLibrary import InvoiceLibrary

    monkeypatch.setenv("INVOICEBOT_STATE_DIR", str(tmp_path / "state"))
    iban, tax = "DE89370400440532013000", "DE811907980"
    result = ExtractionResult(document="a.pdf", fields={
        "iban": ExtractedField(iban, 0.9), "vendor_tax_id": ExtractedField(tax, 0.9),
        "total_amount": ExtractedField("119.00", 0.9)})
    lib = InvoiceLibrary(report_dir=str(tmp_path / "report"))
    path = lib.save_invoice_result(result, str(tmp_path / "output" / "done" / "att-1.json"))
    handed = Path(path).read_text()
    assert iban not in handed and tax not in handed and "119.00" in handed
    kept = tmp_path / "state" / "results" / "att-1.json"
    assert iban in kept.read_text() and oct(kept.stat().st_mode & 0o777) == "0o600"
