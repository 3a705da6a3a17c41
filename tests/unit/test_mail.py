"""Mail intake: every case real vendor mail brings, built with the email package in the test."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import ssl
import zipfile
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from invoicebot import mail
from invoicebot.mail import (
    AttachmentLedger,
    LedgerError,
    ZipLimits,
    iter_eml_folder,
    mark_eml,
    parse_message,
    sanitize_file_name,
    save_attachments,
    sniff_media_type,
)

PROJECT = Path(__file__).resolve().parents[2]


def tiny_pdf(tag: str = "A") -> bytes:
    body = f"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% invoice {tag}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    return body.encode()


def png(size: int = 200) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (size, size), (10, 200, 30)).save(buf, format="PNG")
    return buf.getvalue()


def noisy_png(w: int = 300, h: int = 300) -> bytes:
    """A PNG that does not compress (bigger than the small-logo threshold)."""
    import random

    from PIL import Image

    rnd = random.Random(3)
    img = Image.frombytes("L", (w, h), bytes(rnd.randrange(256) for _ in range(w * h)))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def envelope(subject: str = "Invoice 42", mid: str = "<m1@vendor.example>") -> EmailMessage:
    m = EmailMessage()
    m["From"] = "Müller GmbH <Billing@Vendor.example>"
    m["To"] = "ap@buyer.example"
    m["Subject"] = subject
    m["Date"] = "Mon, 02 Mar 2026 09:15:00 +0100"
    m["Message-ID"] = mid
    m.set_content("Please find attached.")
    return m


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def with_zip(data: bytes, name: str = "invoices.zip") -> bytes:
    m = envelope()
    m.add_attachment(data, maintype="application", subtype="zip", filename=name)
    return bytes(m)


# ------------------------------------------------------------------------------ header fields


def test_message_header_fields():
    m = envelope(subject="Ihre Rechnung für März")
    m.add_attachment(tiny_pdf(), maintype="application", subtype="pdf", filename="inv.pdf")
    msg = parse_message(m.as_bytes(policy=policy.SMTP))
    assert msg.sender == "billing@vendor.example"
    assert msg.sender_name == "Müller GmbH"
    assert msg.subject == "Ihre Rechnung für März"
    assert msg.date == "2026-03-02T09:15:00+01:00"
    assert msg.message_id == "m1@vendor.example"
    assert [a.file_name for a in msg.documents] == ["inv.pdf"]


def test_missing_message_id_and_date_get_stable_fallbacks():
    raw = b"From: a@b.example\r\nSubject: x\r\n\r\nhello\r\n"
    first, second = parse_message(raw), parse_message(raw)
    assert first.message_id.startswith("no-id-") and first.message_id == second.message_id
    assert first.date == ""
    assert first.attachments == []


# -------------------------------------------------------------------------------- file names


def _raw_with_disposition(disposition: str, data: bytes) -> bytes:
    b64 = base64.encodebytes(data).decode()
    return (
        "From: billing@vendor.example\r\nSubject: Rechnung\r\nMessage-ID: <r@v>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="XX"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nAnbei.\r\n'
        f"--XX\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n{disposition}\r\n\r\n"
        f"{b64}\r\n--XX--\r\n"
    ).encode()


def test_rfc2231_file_name():
    raw = _raw_with_disposition(
        "Content-Disposition: attachment; filename*=UTF-8''Rechnung%20M%C3%A4rz.pdf", tiny_pdf()
    )
    (att,) = parse_message(raw).documents
    assert att.original_name == "Rechnung März.pdf"
    assert att.file_name == "Rechnung März.pdf"


def test_rfc2231_continuations():
    disp = (
        "Content-Disposition: attachment;\r\n filename*0*=UTF-8''Rechnung%20;\r\n filename*1*=M%C3%A4rz%20;\r\n"
        ' filename*2="2026.pdf"'
    )
    (att,) = parse_message(_raw_with_disposition(disp, tiny_pdf())).documents
    assert att.original_name == "Rechnung März 2026.pdf"


def test_encoded_word_file_name():
    word = "=?UTF-8?B?" + base64.b64encode("Facture réglée.pdf".encode()).decode() + "?="
    raw = _raw_with_disposition(f'Content-Disposition: attachment; filename="{word}"', tiny_pdf())
    (att,) = parse_message(raw).documents
    assert att.original_name == "Facture réglée.pdf"


@pytest.mark.parametrize(
    ("name", "media", "expected"),
    [
        ("../../etc/passwd.pdf", mail.PDF, "passwd.pdf"),
        ("C:\\Users\\x\\inv.pdf", mail.PDF, "inv.pdf"),
        ('in<v>:"|?*.pdf', mail.PDF, "in_v______.pdf"),
        ("invoice.dat", mail.PDF, "invoice.dat.pdf"),
        ("scan.JPEG", mail.JPEG, "scan.JPEG"),
        ("", mail.PDF, "attachment.pdf"),
        ("...hidden.pdf", mail.PDF, "hidden.pdf"),
        ("CON.pdf", mail.PDF, "_CON.pdf"),
        ("Rechnung\x00\x1f März.pdf", mail.PDF, "Rechnung__ März.pdf"),
    ],
)
def test_sanitize_file_name(name, media, expected):
    assert sanitize_file_name(name, media) == expected


def test_sanitize_caps_length_in_bytes_and_keeps_extension():
    out = sanitize_file_name("ä" * 300 + ".pdf", mail.PDF)
    assert out.endswith(".pdf") and len(out.encode()) <= 150


# ---------------------------------------------------------------------------- media by content


def test_octet_stream_pdf_is_a_document_by_magic_bytes():
    m = envelope()
    m.add_attachment(tiny_pdf(), maintype="application", subtype="octet-stream", filename="INV-1.dat")
    (att,) = parse_message(bytes(m)).documents
    assert att.media_type == mail.PDF
    assert att.declared_type == "application/octet-stream"
    assert att.file_name == "INV-1.dat.pdf"


def test_pdf_named_file_that_is_not_a_pdf_is_skipped():
    m = envelope()
    m.add_attachment(b"this is not a pdf at all", maintype="application", subtype="pdf", filename="invoice.pdf")
    msg = parse_message(bytes(m))
    assert msg.documents == []
    assert "not a document" in msg.skipped[0].skip_reason and "text/plain" in msg.skipped[0].skip_reason


def test_cut_short_pdf_is_taken_with_a_note():
    m = envelope()
    m.add_attachment(tiny_pdf()[:30], maintype="application", subtype="pdf", filename="broken.pdf")
    (att,) = parse_message(bytes(m)).documents
    assert "%%EOF" in att.note


@pytest.mark.parametrize(
    ("data", "media"),
    [
        (b"%PDF-1.7 x", mail.PDF),
        (b"junk\n%PDF-1.4", mail.PDF),
        (b"\x89PNG\r\n\x1a\nxx", mail.PNG),
        (b"\xff\xd8\xff\xe0", mail.JPEG),
        (b"II*\x00", mail.TIFF),
        (b"GIF89a", "image/gif"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "application/x-ole-storage"),
        (b"\xff\xfe\x00bin", "application/octet-stream"),
    ],
)
def test_sniff_media_type(data, media):
    assert sniff_media_type(data) == media


# ------------------------------------------------------------------------------- inline images


def test_logo_referenced_by_cid_is_skipped_and_attached_receipt_png_is_taken():
    m = envelope()
    m.add_alternative('<p>Hi</p><img src="cid:logo123@vendor">', subtype="html")
    m.get_payload()[1].add_related(
        png(20), maintype="image", subtype="png", cid="<logo123@vendor>", filename="logo.png", disposition="inline"
    )
    m.add_attachment(png(20), maintype="image", subtype="png", filename="receipt.png")  # small, but attached
    msg = parse_message(bytes(m))
    assert [a.file_name for a in msg.documents] == ["receipt.png"]
    (logo,) = msg.skipped
    assert logo.file_name == "logo.png" and "inline image shown in the HTML body" in logo.skip_reason


def test_small_inline_image_without_name_is_skipped():
    m = envelope()
    m.add_attachment(png(16), maintype="image", subtype="png", disposition="inline", cid="<sig@x>")
    msg = parse_message(bytes(m))
    assert msg.documents == []
    assert "small inline image" in msg.skipped[0].skip_reason


def test_big_inline_image_with_a_name_is_a_document():
    data = noisy_png()
    assert len(data) > mail.SMALL_INLINE_IMAGE_BYTES
    m = envelope()
    m.add_attachment(data, maintype="image", subtype="png", disposition="inline", filename="scan.png")
    (att,) = parse_message(bytes(m)).documents
    assert att.file_name == "scan.png"


# -------------------------------------------------------------------------------- forwarded


def test_forwarded_message_is_walked_into():
    inner = envelope(subject="Invoice 7", mid="<inner@vendor>")
    inner.add_attachment(tiny_pdf("7"), maintype="application", subtype="pdf", filename="INV-7.pdf")
    outer = envelope(subject="Fwd: Invoice 7", mid="<outer@buyer>")
    outer.add_attachment(inner)
    msg = parse_message(bytes(outer))
    (att,) = msg.documents
    assert att.file_name == "INV-7.pdf"
    assert "forwarded 'Invoice 7'" in att.origin
    assert msg.message_id == "outer@buyer"


# ------------------------------------------------------------------------------------- zips


def test_zip_with_two_invoices_is_expanded():
    z = zip_bytes({"a/INV-1.pdf": tiny_pdf("1"), "INV-2.pdf": tiny_pdf("2"), "readme.txt": b"hello"})
    msg = parse_message(with_zip(z))
    assert sorted(a.file_name for a in msg.documents) == ["INV-1.pdf", "INV-2.pdf"]
    assert any("invoices.zip > a/INV-1.pdf" in a.origin for a in msg.documents)
    assert [a.file_name for a in msg.skipped] == ["readme.txt"]


def _rejection(z: bytes, limits: ZipLimits | None = None) -> str:
    msg = parse_message(with_zip(z), limits=limits)
    assert msg.documents == []
    (rej,) = msg.skipped
    assert rej.skip_reason.startswith("zip rejected: ")
    return rej.skip_reason


def test_zip_too_many_members_is_rejected():
    z = zip_bytes({f"{i}.pdf": tiny_pdf(str(i)) for i in range(6)})
    assert "6 members" in _rejection(z, ZipLimits(max_members=5))


def test_zip_path_traversal_is_rejected():
    assert "path traversal" in _rejection(zip_bytes({"../../evil.pdf": tiny_pdf()}))
    assert "path traversal" in _rejection(zip_bytes({"/etc/evil.pdf": tiny_pdf()}))


def test_zip_bomb_ratio_is_rejected():
    assert "expands" in _rejection(zip_bytes({"zeros.pdf": b"%PDF-" + b"\0" * 5_000_000}))


def test_zip_total_size_is_rejected():
    z = zip_bytes({"a.pdf": tiny_pdf() + b"x" * 3000, "b.pdf": tiny_pdf() + b"y" * 3000}, zipfile.ZIP_STORED)
    assert "bytes uncompressed" in _rejection(z, ZipLimits(max_total_bytes=4000))


def test_zip_nesting_depth_is_limited():
    inner = zip_bytes({"INV-1.pdf": tiny_pdf("1")})
    middle = zip_bytes({"inner.zip": inner})
    outer = zip_bytes({"middle.zip": middle})
    ok = parse_message(with_zip(middle))
    assert [a.file_name for a in ok.documents] == ["INV-1.pdf"]
    deep = parse_message(with_zip(outer))
    assert deep.documents == []
    assert "nested deeper than 2" in deep.skipped[0].skip_reason


def test_broken_zip_is_rejected_not_crashing():
    assert "not a readable zip" in _rejection(b"PK\x03\x04" + b"garbage" * 50)


def test_lying_member_size_is_caught():
    z = bytearray(zip_bytes({"a.pdf": tiny_pdf() + b"z" * 500}, zipfile.ZIP_STORED))
    # Shrink the declared size in the central directory; the stored data stays longer.
    cd = z.rfind(b"PK\x01\x02")
    real = int.from_bytes(z[cd + 24 : cd + 28], "little")
    z[cd + 24 : cd + 28] = (real - 100).to_bytes(4, "little")
    msg = parse_message(with_zip(bytes(z)))
    assert msg.documents == []
    assert msg.skipped and ("zip" in msg.skipped[0].skip_reason)


# ---------------------------------------------------------------------------------- duplicates


def test_same_attachment_twice_in_one_mail_is_taken_once():
    m = envelope()
    m.add_attachment(tiny_pdf(), maintype="application", subtype="pdf", filename="INV-1.pdf")
    m.add_attachment(tiny_pdf(), maintype="application", subtype="pdf", filename="INV-1 copy.pdf")
    msg = parse_message(bytes(m))
    assert len(msg.documents) == 1
    assert "duplicate" in msg.skipped[0].skip_reason


def test_ledger_takes_each_file_once_across_mails_and_runs(tmp_path):
    first, second = envelope(mid="<a@v>"), envelope(subject="Reminder", mid="<b@v>")
    for m in (first, second):
        m.add_attachment(tiny_pdf(), maintype="application", subtype="pdf", filename="INV-1.pdf")
    ledger = AttachmentLedger(tmp_path / "state" / "ledger.jsonl")
    out = tmp_path / "out"
    r1 = save_attachments(parse_message(bytes(first)), out, ledger)
    r2 = save_attachments(parse_message(bytes(second)), out, ledger)
    assert [r.status for r in r1] == ["saved"] and [r.status for r in r2] == ["skipped"]
    assert "a@v" in r2[0].reason
    mail.mark_queued(ledger, [r1[0].sha256])
    # A new run (new ledger object on the same file) takes nothing twice.
    again = save_attachments(parse_message(bytes(first)), out, AttachmentLedger(tmp_path / "state" / "ledger.jsonl"))
    assert [r.status for r in again] == ["skipped"]
    assert again[0].reason.startswith("already queued from this mail")
    assert len(list(out.iterdir())) == 1
    assert not [p for p in (tmp_path / "state").iterdir() if p.suffix == ".tmp"]
    lines = [json.loads(line) for line in (tmp_path / "state" / "ledger.jsonl").read_text().splitlines()]
    assert lines[0]["sha256"] == hashlib.sha256(tiny_pdf()).hexdigest() and lines[0]["message_id"] == "a@v"
    assert [line["op"] for line in lines] == ["take", "status"]


def test_save_reports_skipped_with_reasons_and_metadata(tmp_path):
    m = envelope()
    m.add_attachment(tiny_pdf(), maintype="application", subtype="pdf", filename="../../INV-9.pdf")
    m.add_attachment(b"BEGIN:VCALENDAR\r\nEND:VCALENDAR", maintype="text", subtype="calendar", filename="x.ics")
    res = save_attachments(parse_message(bytes(m)), tmp_path / "out")
    saved = [r for r in res if r.status == "saved"]
    skipped = [r for r in res if r.status == "skipped"]
    assert len(saved) == 1 and Path(saved[0].path).parent == tmp_path / "out"
    assert saved[0].file_name == "INV-9.pdf" and Path(saved[0].path).read_bytes() == tiny_pdf()
    assert saved[0].sender == "billing@vendor.example" and saved[0].date.startswith("2026-03-02")
    assert skipped[0].reason.startswith("not a document")


def test_same_name_different_content_gets_a_suffix(tmp_path):
    a, b = envelope(mid="<a@v>"), envelope(mid="<b@v>")
    a.add_attachment(tiny_pdf("A"), maintype="application", subtype="pdf", filename="invoice.pdf")
    b.add_attachment(tiny_pdf("B"), maintype="application", subtype="pdf", filename="invoice.pdf")
    ledger = AttachmentLedger(tmp_path / "l.json")
    (ra,) = save_attachments(parse_message(bytes(a)), tmp_path, ledger)
    (rb,) = save_attachments(parse_message(bytes(b)), tmp_path, ledger)
    assert ra.file_name == "invoice.pdf"
    assert rb.file_name == f"invoice-{hashlib.sha256(tiny_pdf('B')).hexdigest()[:8]}.pdf"


def test_corrupt_ledger_fails_with_what_to_do(tmp_path):
    p = tmp_path / "ledger.jsonl"
    p.write_text('{not json\n{"op": "take", "sha256": "a"}\n')
    with pytest.raises(LedgerError, match="line 1 of the attachment ledger .* is damaged.*restore the file from a backup"):
        AttachmentLedger(p)
    p.write_text('{"version": 1, "entries": {not json')
    with pytest.raises(LedgerError, match="unreadable.*restore it from a backup"):
        AttachmentLedger(p)


# ------------------------------------------------------------------------------ .eml folder


def test_eml_folder_and_marking_never_deletes(tmp_path):
    for i in range(3):
        m = envelope(mid=f"<{i}@v>")
        m.add_attachment(tiny_pdf(str(i)), maintype="application", subtype="pdf", filename=f"INV-{i}.pdf")
        (tmp_path / f"{i}.eml").write_bytes(bytes(m))
    (tmp_path / "notes.txt").write_text("not mail")
    msgs = list(iter_eml_folder(tmp_path))
    assert [m.message_id for m in msgs] == ["0@v", "1@v", "2@v"]
    p0 = mark_eml(msgs[0], "processed")
    p1 = mark_eml(msgs[1], "review")
    assert p0 == tmp_path / "processed" / "0.eml" and p1 == tmp_path / "review" / "1.eml"
    assert [m.message_id for m in iter_eml_folder(tmp_path)] == ["2@v"]
    # A name already in processed/ is kept: the new one gets a number.
    (tmp_path / "0.eml").write_bytes(p0.read_bytes())
    assert mark_eml(tmp_path / "0.eml") == tmp_path / "processed" / "0.1.eml"
    assert len(list(tmp_path.rglob("*.eml"))) == 4
    with pytest.raises(mail.MailError, match="not there any more"):
        mark_eml(tmp_path / "0.eml")


def test_missing_folder_says_so(tmp_path):
    with pytest.raises(mail.MailError, match="does not exist"):
        list(iter_eml_folder(tmp_path / "nope"))


# ---------------------------------------------------------------------------------- generator


@pytest.mark.slow
def test_generated_inbox_is_deterministic_and_parses_as_declared(tmp_path):
    from invoicebot import mailgen

    assert mailgen.main(["--out", str(tmp_path / "a"), "-n", "14", "--seed", "3"]) == 0
    mailgen.main(["--out", str(tmp_path / "b"), "-n", "14", "--seed", "3"])
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert len([f for f in files if f.endswith(".eml")]) == 14
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    kinds = {m["kind"] for m in manifest["mails"]}
    assert {
        "invoice",
        "duplicate",
        "receipt",
        "newsletter",
        "zip_two_invoices",
        "forwarded",
        "octet_stream_pdf",
        "rfc2231_german_name",
        "corrupt_pdf",
        "credit_note",
        "purchase_order",
        "encoded_word_name",
    } <= kinds
    by_file = {m["file"]: m for m in manifest["mails"]}
    ledger = AttachmentLedger(tmp_path / "ledger.json")
    saved = 0
    for msg in iter_eml_folder(tmp_path / "a"):
        assert [a.sha256 for a in msg.documents] == by_file[Path(msg.source).name]["documents"], msg.source
        saved += sum(r.status == "saved" for r in save_attachments(msg, tmp_path / "out", ledger))
    assert saved == manifest["unique_documents"]


def test_demo_inbox_matches_its_manifest_and_stays_small():
    folder = PROJECT / "resources" / "demo_inbox"
    manifest = json.loads((folder / "manifest.json").read_text())
    by_file = {m["file"]: m for m in manifest["mails"]}
    msgs = list(iter_eml_folder(folder))
    assert len(msgs) == len(by_file) >= 6
    for msg in msgs:
        assert [a.sha256 for a in msg.documents] == by_file[Path(msg.source).name]["documents"]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 300_000


# ------------------------------------------------------------------------ keyword helpers


def test_imap_settings_come_from_arguments_then_secret_then_environment():
    from InvoiceLibrary.mailbox import MailboxError, resolve_imap_settings

    env = {
        "INVOICEBOT_IMAP_HOST": "envhost",
        "INVOICEBOT_IMAP_USER": "envuser",
        "INVOICEBOT_IMAP_PASSWORD": "envpw",
        "INVOICEBOT_IMAP_PORT": "10993",
    }
    s = resolve_imap_settings(None, None, None, None, env=env)
    assert (s.host, s.port, s.user, s.password) == ("envhost", 10993, "envuser", "envpw")
    s = resolve_imap_settings("arg", 993, None, None, secret={"user": "vault", "password": "vpw"}, env=env)
    assert (s.host, s.port, s.user, s.password) == ("arg", 993, "vault", "vpw")
    assert "vpw" not in repr(s)
    with pytest.raises(MailboxError, match="no server, password given"):
        resolve_imap_settings(None, None, "u", None, env={})


def test_connection_errors_name_host_port_and_what_to_check():
    from InvoiceLibrary.mailbox import explain_connect_error

    assert "127.0.0.1:10993" in explain_connect_error("127.0.0.1", 10993, ConnectionRefusedError())
    assert "scripts/dovecot.sh status" in explain_connect_error("127.0.0.1", 10993, ConnectionRefusedError())
    err = ssl.SSLCertVerificationError("x")
    err.verify_message = "self-signed certificate"
    assert "cafile" in explain_connect_error("h", 1, err)


def test_folder_keywords_save_mark_and_count(tmp_path):
    from InvoiceLibrary.base import LibraryContext
    from InvoiceLibrary.mailbox import MailboxKeywords, MailboxNotOpen

    inbox = tmp_path / "inbox"
    shutil.copytree(PROJECT / "resources" / "demo_inbox", inbox)
    kw = MailboxKeywords(LibraryContext())
    with pytest.raises(MailboxNotOpen, match="Open Mailbox"):
        kw.list_vendor_messages()
    kw.open_mail_folder(str(inbox), state_dir=str(tmp_path / "state"))
    msgs = kw.list_vendor_messages()
    saved = kw.save_invoice_attachments(str(tmp_path / "att"))
    manifest = json.loads((inbox / "manifest.json").read_text())
    assert len(saved) == manifest["unique_documents"]
    assert {"path", "sha256", "file_name", "media_type", "sender", "subject", "date", "message_id"} <= set(saved[0])
    # until their work items exist the ledger holds them as saved: a run stopped here queues them again
    assert len(kw.save_invoice_attachments(str(tmp_path / "att"))) == len(saved)
    for a in saved:
        kw.mark_attachment_queued(a)
    assert kw.save_invoice_attachments(str(tmp_path / "att")) == []
    for m in msgs[:-1]:
        kw.mark_message_processed(m)
    kw.move_message_to_review(msgs[-1], reason="test")
    assert kw.get_mailbox_folder_counts() == {"INBOX": 0, "processed": len(msgs) - 1, "review": 1}
    kw.close_mailbox()
