"""Generate a realistic inbox of vendor emails as ``.eml`` files, deterministic by seed.

The mails carry what real vendor mail carries: invoices, credit notes and purchase orders as
small real PDFs (reportlab), receipts as PNG images, newsletters with inline logos and no
attachment, a corrupt (cut short) PDF, a zip holding two invoices, the same invoice sent twice,
a forwarded mail (``message/rfc822``), a PDF sent as ``application/octet-stream``, a German file
name in RFC 2231 form and one in an encoded word.  Beside the mails, ``manifest.json`` lists for
each file its kind and the SHA-256 of every document the intake should take from it, so tests
can check the intake against what was sent.

CLI: ``invoicebot make-inbox --out DIR -n 50 --seed 1`` (hook :func:`main` into the CLI), or
``python -m invoicebot.mailgen --out DIR -n 50 --seed 1``; ``--demo`` writes the small demo inbox.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import random
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

RECIPIENT = "ap@buyer-gmbh.example"
CUSTOMER = "Buyer GmbH"

# name, street, city, country, domain, currency, language, tax id, IBAN
VENDORS: tuple[tuple[str, ...], ...] = (
    (
        "Acme Office Supplies Ltd",
        "12 Market Street",
        "Leeds LS1 6DT",
        "United Kingdom",
        "acme-office.example",
        "GBP",
        "en",
        "GB123456789",
        "GB33BUKB20201555555555",
    ),
    (
        "Müller Bürotechnik GmbH",
        "Hauptstraße 17",
        "80331 München",
        "Deutschland",
        "mueller-buero.example",
        "EUR",
        "de",
        "DE811234567",
        "DE89370400440532013000",
    ),
    (
        "Papeterie Dupont SARL",
        "8 rue de la Paix",
        "75002 Paris",
        "France",
        "dupont-papeterie.example",
        "EUR",
        "fr",
        "FR40303265045",
        "FR1420041010050500013M02606",
    ),
    (
        "Northwind Cloud Services Inc",
        "400 Pine Street",
        "Seattle, WA 98101",
        "USA",
        "northwind-cloud.example",
        "USD",
        "en",
        "US-91-1234567",
        "",
    ),
    (
        "Van Dijk Logistiek BV",
        "Keizersgracht 100",
        "1015 CS Amsterdam",
        "Nederland",
        "vandijk-logistiek.example",
        "EUR",
        "en",
        "NL123456789B01",
        "NL91ABNA0417164300",
    ),
    (
        "Schneider Elektro AG",
        "Industriestrasse 5",
        "8005 Zürich",
        "Schweiz",
        "schneider-elektro.example",
        "CHF",
        "de",
        "CHE-123.456.789",
        "CH9300762011623852957",
    ),
)

ITEMS = (
    "Printer paper A4, 500 sheets",
    "Toner cartridge black",
    "Consulting hours",
    "Cloud hosting (monthly)",
    "Freight Rotterdam-Munich",
    "Office chairs",
    "Cable ties, 100 pcs",
    "Software licence (annual)",
    "Maintenance contract",
    "USB-C docking station",
)

LABELS = {
    "en": {
        "invoice": "INVOICE",
        "credit_note": "CREDIT NOTE",
        "purchase_order": "PURCHASE ORDER",
        "number": "Invoice No.",
        "po_number": "PO Number",
        "date": "Invoice date",
        "due": "Due date",
        "subtotal": "Subtotal",
        "tax": "VAT",
        "total": "Total",
        "bill_to": "Bill to",
        "terms": "Payment terms",
        "terms_text": "30 days net",
        "greeting": "Dear Sir or Madam,",
        "body": "please find attached our {doc} {no}.",
        "regards": "Kind regards",
    },
    "de": {
        "invoice": "RECHNUNG",
        "credit_note": "GUTSCHRIFT",
        "purchase_order": "BESTELLUNG",
        "number": "Rechnungsnummer",
        "po_number": "Bestellnummer",
        "date": "Rechnungsdatum",
        "due": "Fällig am",
        "subtotal": "Zwischensumme",
        "tax": "MwSt.",
        "total": "Gesamtbetrag",
        "bill_to": "Rechnung an",
        "terms": "Zahlungsbedingungen",
        "terms_text": "30 Tage netto",
        "greeting": "Sehr geehrte Damen und Herren,",
        "body": "anbei erhalten Sie unsere {doc} {no}.",
        "regards": "Mit freundlichen Grüßen",
    },
    "fr": {
        "invoice": "FACTURE",
        "credit_note": "AVOIR",
        "purchase_order": "BON DE COMMANDE",
        "number": "N° de facture",
        "po_number": "N° de commande",
        "date": "Date de facture",
        "due": "Échéance",
        "subtotal": "Total HT",
        "tax": "TVA",
        "total": "Total TTC",
        "bill_to": "Facturé à",
        "terms": "Conditions de paiement",
        "terms_text": "30 jours net",
        "greeting": "Madame, Monsieur,",
        "body": "veuillez trouver ci-joint notre {doc} {no}.",
        "regards": "Cordialement",
    },
}

TAX_RATES = {"GBP": Decimal("0.20"), "EUR": Decimal("0.19"), "USD": Decimal("0.00"), "CHF": Decimal("0.081")}


@dataclass
class DocFields:
    """The header fields printed on a generated document (canonical names)."""

    doc_type: str
    vendor_name: str
    vendor_address: str
    vendor_tax_id: str
    customer_name: str
    invoice_number: str
    invoice_date: str
    due_date: str
    po_number: str
    currency: str
    subtotal_amount: str
    tax_amount: str
    total_amount: str
    iban: str
    language: str
    lines: list[tuple[str, str, str, str]] = field(default_factory=list)


@dataclass
class GeneratedMail:
    file_name: str
    kind: str
    message: EmailMessage
    documents: list[str] = field(default_factory=list)  # sha256 of each document the intake should take
    fields: list[dict[str, object]] = field(default_factory=list)


# ------------------------------------------------------------------------------------ documents


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def make_fields(rng: random.Random, doc_type: str, vendor: tuple[str, ...], day: date, seq: int) -> DocFields:
    name, street, city, country, _domain, currency, lang, tax_id, iban = vendor
    lines = []
    subtotal = Decimal(0)
    for _ in range(rng.randint(1, 4)):
        qty = rng.randint(1, 12)
        price = Decimal(rng.randint(150, 90000)) / 100
        amount = price * qty
        subtotal += amount
        lines.append((rng.choice(ITEMS), str(qty), _money(price), _money(amount)))
    tax = subtotal * TAX_RATES[currency]
    sign = "-" if doc_type == "credit_note" else ""
    prefix = {"invoice": "INV", "credit_note": "CN", "purchase_order": "PO"}[doc_type]
    return DocFields(
        doc_type=doc_type,
        vendor_name=name,
        vendor_address=f"{street}, {city}, {country}",
        vendor_tax_id=tax_id,
        customer_name=CUSTOMER,
        invoice_number=f"{prefix}-{day.year}-{seq:05d}",
        invoice_date=day.isoformat(),
        due_date=(day + timedelta(days=30)).isoformat(),
        po_number=f"PO-{rng.randint(10000, 99999)}",
        currency=currency,
        subtotal_amount=sign + _money(subtotal),
        tax_amount=sign + _money(tax),
        total_amount=sign + _money(subtotal + tax),
        iban=iban,
        language=lang,
        lines=lines,
    )


def make_pdf(f: DocFields) -> bytes:
    """A one-page PDF with a text layer holding the document's header fields and lines (deterministic)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    lab = LABELS[f.language]
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, invariant=1)
    c.setTitle(f"{lab[f.doc_type]} {f.invoice_number}")
    width, height = A4
    y = height - 60
    c.setFont("Helvetica-Bold", 16)
    c.drawString(50, y, f.vendor_name)
    c.setFont("Helvetica", 9)
    for line in f.vendor_address.split(", "):
        y -= 12
        c.drawString(50, y, line)
    if f.vendor_tax_id:
        y -= 12
        c.drawString(50, y, f"Tax ID: {f.vendor_tax_id}")
    c.setFont("Helvetica-Bold", 20)
    c.drawRightString(width - 50, height - 60, lab[f.doc_type])
    c.setFont("Helvetica", 10)
    ry = height - 90
    rows = [(lab["number"], f.invoice_number), (lab["date"], f.invoice_date)]
    if f.doc_type != "purchase_order":
        rows.append((lab["due"], f.due_date))
    rows.append((lab["po_number"], f.po_number))
    for k, v in rows:
        c.drawRightString(width - 160, ry, k + ":")
        c.drawString(width - 150, ry, v)
        ry -= 14
    y = min(y, ry) - 30
    c.drawString(50, y, f"{lab['bill_to']}: {f.customer_name}")
    y -= 30
    c.setFont("Helvetica-Bold", 10)
    for x, t in ((50, "Description"), (330, "Qty"), (400, "Unit price"), (490, "Amount")):
        c.drawString(x, y, t)
    c.setFont("Helvetica", 10)
    for desc, qty, price, amount in f.lines:
        y -= 16
        c.drawString(50, y, desc)
        c.drawRightString(350, y, qty)
        c.drawRightString(460, y, price)
        c.drawRightString(545, y, amount)
    y -= 30
    for k, v in ((lab["subtotal"], f.subtotal_amount), (lab["tax"], f.tax_amount), (lab["total"], f.total_amount)):
        c.drawRightString(460, y, k)
        c.drawRightString(545, y, f"{v} {f.currency}")
        y -= 16
    y -= 20
    c.drawString(50, y, f"{lab['terms']}: {lab['terms_text']}")
    if f.iban:
        y -= 14
        c.drawString(50, y, f"IBAN: {f.iban}")
    c.showPage()
    c.save()
    return buf.getvalue()


def make_receipt_png(rng: random.Random, vendor: tuple[str, ...], day: date) -> tuple[bytes, dict[str, object]]:
    """A till receipt as a PNG image (black text on white), with its fields."""
    from PIL import Image, ImageDraw

    currency = vendor[5]
    items = [(rng.choice(ITEMS)[:22], Decimal(rng.randint(99, 4999)) / 100) for _ in range(rng.randint(2, 5))]
    total = sum((p for _, p in items), Decimal(0))
    lines = [
        vendor[0][:28],
        vendor[1],
        vendor[2],
        "",
        f"Date: {day.isoformat()}  {rng.randint(8, 19):02d}:{rng.randint(0, 59):02d}",
        f"Receipt #{rng.randint(1000, 9999)}",
        "-" * 30,
    ]
    lines += [f"{n:<22}{_money(p):>8}" for n, p in items]
    lines += ["-" * 30, f"{'TOTAL ' + currency:<22}{_money(total):>8}", "", "Paid by card. Thank you!"]
    img = Image.new("L", (300, 22 + 16 * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, text in enumerate(lines):
        draw.text((12, 10 + 16 * i), text, fill=0)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue(), {
        "doc_type": "receipt",
        "vendor_name": vendor[0],
        "invoice_date": day.isoformat(),
        "total_amount": _money(total),
        "currency": currency,
    }


def make_logo_png(vendor: tuple[str, ...]) -> bytes:
    """A small logo (a coloured bar with initials): the kind of image that must NOT be taken."""
    from PIL import Image, ImageDraw

    digest = hashlib.sha256(vendor[0].encode()).digest()
    img = Image.new("RGB", (120, 36), (digest[0], digest[1], digest[2]))
    ImageDraw.Draw(img).text((8, 12), "".join(w[0] for w in vendor[0].split()[:3]), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------- mails


class InboxGenerator:
    """Builds the mails; every random choice comes from one ``random.Random(seed)``."""

    def __init__(self, seed: int = 1, start: date = date(2026, 1, 5)):
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = start
        self.seq = 0
        self.index = 0
        self.last_invoice: tuple[DocFields, bytes, tuple[str, ...]] | None = None

    # -- helpers
    def _vendor(self) -> tuple[str, ...]:
        return self.rng.choice(VENDORS)

    def _day(self) -> date:
        return self.start + timedelta(days=self.rng.randint(0, 80))

    def _envelope(
        self, vendor: tuple[str, ...], subject: str, day: date, sender_local: str = "billing"
    ) -> EmailMessage:
        msg = EmailMessage(policy=policy.SMTP)
        msg["From"] = f"{vendor[0]} <{sender_local}@{vendor[4]}>"
        msg["To"] = f"Accounts Payable <{RECIPIENT}>"
        msg["Subject"] = subject
        hour, minute = self.rng.randint(6, 20), self.rng.randint(0, 59)
        tz = timezone(timedelta(hours=1 if vendor[5] in ("EUR", "CHF") else 0 if vendor[5] == "GBP" else -8))
        msg["Date"] = format_datetime(datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz))
        token = hashlib.sha256(f"{self.seed}:{self.index}:{subject}".encode()).hexdigest()[:16]
        msg["Message-ID"] = f"<{token}.{self.index}@{vendor[4]}>"
        msg["MIME-Version"] = "1.0"
        return msg

    def _body(self, vendor: tuple[str, ...], f: DocFields | None, doc: str = "") -> str:
        lab = LABELS[vendor[6]]
        text = lab["body"].format(doc=doc, no=f.invoice_number) if f else ""
        return f"{lab['greeting']}\n\n{text}\n\n{lab['regards']}\n{vendor[0]}\n{vendor[1]}, {vendor[2]}\n"

    def _doc(self, doc_type: str) -> tuple[DocFields, bytes, tuple[str, ...], date]:
        vendor, day = self._vendor(), self._day()
        self.seq += 1
        f = make_fields(self.rng, doc_type, vendor, day, self.seq)
        return f, make_pdf(f), vendor, day

    @staticmethod
    def _fields_dict(f: DocFields) -> dict[str, object]:
        d = {k: v for k, v in f.__dict__.items() if k != "lines"}
        return d

    def _with_logo_signature(self, msg: EmailMessage, vendor: tuple[str, ...], text: str) -> None:
        """Plain + HTML body whose signature shows the vendor logo inline (cid:)."""
        msg.set_content(text)
        cid = f"logo{self.index}@{vendor[4]}"
        html = (
            "<html><body>"
            + "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
            + f'<p><img src="cid:{cid}" alt="{vendor[0]}" width="120" height="36"></p></body></html>'
        )
        msg.add_alternative(html, subtype="html")
        html_part = msg.get_payload()[1]
        html_part.add_related(
            make_logo_png(vendor),
            maintype="image",
            subtype="png",
            cid=f"<{cid}>",
            filename="logo.png",
            disposition="inline",
        )

    # -- kinds
    def invoice(self, doc_type: str = "invoice", logo: bool | None = None) -> GeneratedMail:
        f, pdf, vendor, day = self._doc(doc_type)
        lab = LABELS[vendor[6]]
        word = lab[doc_type].capitalize() if vendor[6] != "en" else lab[doc_type].title()
        msg = self._envelope(vendor, f"{word} {f.invoice_number}", day)
        body = self._body(vendor, f, word)
        if logo if logo is not None else self.rng.random() < 0.4:
            self._with_logo_signature(msg, vendor, body)
        else:
            msg.set_content(body)
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{f.invoice_number}.pdf")
        if doc_type == "invoice":
            self.last_invoice = (f, pdf, vendor)
        return GeneratedMail("", doc_type, msg, [_sha(pdf)], [self._fields_dict(f)])

    def credit_note(self) -> GeneratedMail:
        return self.invoice("credit_note")

    def purchase_order(self) -> GeneratedMail:
        g = self.invoice("purchase_order")
        return g

    def receipt(self) -> GeneratedMail:
        vendor, day = self._vendor(), self._day()
        png, fields = make_receipt_png(self.rng, vendor, day)
        msg = self._envelope(vendor, f"Your receipt from {vendor[0]}", day, "noreply")
        msg.set_content(f"Thank you for your purchase.\nYour receipt is attached.\n\n{vendor[0]}\n")
        msg.add_attachment(png, maintype="image", subtype="png", filename=f"receipt-{day.isoformat()}.png")
        return GeneratedMail("", "receipt", msg, [_sha(png)], [fields])

    def newsletter(self) -> GeneratedMail:
        vendor, day = self._vendor(), self._day()
        msg = self._envelope(vendor, f"{vendor[0]} news: spring offers", day, "news")
        text = (
            "Dear customer,\n\nour spring offers are here: 10% off all toner until the end of the month.\n\n"
            "Unsubscribe: reply with STOP."
        )
        self._with_logo_signature(msg, vendor, text)
        return GeneratedMail("", "newsletter", msg, [], [])

    def corrupt_pdf(self) -> GeneratedMail:
        f, pdf, vendor, day = self._doc("invoice")
        broken = pdf[: len(pdf) // 3]  # cut short in transfer: header present, no xref, no %%EOF
        msg = self._envelope(vendor, f"Invoice {f.invoice_number}", day)
        msg.set_content(self._body(vendor, f, "invoice"))
        msg.add_attachment(broken, maintype="application", subtype="pdf", filename=f"{f.invoice_number}.pdf")
        return GeneratedMail("", "corrupt_pdf", msg, [_sha(broken)], [self._fields_dict(f)])

    def zip_two(self) -> GeneratedMail:
        f1, pdf1, vendor, day = self._doc("invoice")
        self.seq += 1
        f2 = make_fields(self.rng, "invoice", vendor, day, self.seq)
        pdf2 = make_pdf(f2)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for fx, data in ((f1, pdf1), (f2, pdf2)):
                info = zipfile.ZipInfo(
                    f"invoices/{fx.invoice_number}.pdf", date_time=(day.year, day.month, day.day, 9, 0, 0)
                )
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, data)
        msg = self._envelope(vendor, f"Invoices {f1.invoice_number} and {f2.invoice_number}", day)
        msg.set_content(self._body(vendor, None) + "\nTwo invoices are in the attached archive.\n")
        msg.add_attachment(buf.getvalue(), maintype="application", subtype="zip", filename=f"invoices-{day}.zip")
        return GeneratedMail(
            "", "zip_two_invoices", msg, [_sha(pdf1), _sha(pdf2)], [self._fields_dict(f1), self._fields_dict(f2)]
        )

    def duplicate(self) -> GeneratedMail:
        if self.last_invoice is None:
            self.invoice()
        f, pdf, vendor = self.last_invoice  # type: ignore[misc]
        day = date.fromisoformat(f.invoice_date) + timedelta(days=14)
        msg = self._envelope(vendor, f"Reminder: invoice {f.invoice_number} is due", day)
        msg.set_content(
            self._body(vendor, f, "invoice") + "\nThis is a friendly reminder; the invoice is attached again.\n"
        )
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"{f.invoice_number}.pdf")
        return GeneratedMail("", "duplicate", msg, [_sha(pdf)], [self._fields_dict(f)])

    def forwarded(self) -> GeneratedMail:
        inner = self.invoice(logo=False)
        vendor = ("Buyer GmbH", "", "", "", "buyer-gmbh.example", "EUR", "en", "", "")
        day = self._day()
        msg = self._envelope(vendor, "Fwd: " + str(inner.message["Subject"]), day, "j.smith")
        del msg["From"]
        msg["From"] = "John Smith <j.smith@buyer-gmbh.example>"
        msg.set_content("Hi AP team,\n\nforwarding this one, it came to me by mistake.\n\nJohn\n")
        msg.add_attachment(inner.message, disposition="inline")
        inner.kind, inner.message = "forwarded", msg
        return inner

    def octet_stream(self) -> GeneratedMail:
        f, pdf, vendor, day = self._doc("invoice")
        msg = self._envelope(vendor, f"Invoice {f.invoice_number}", day)
        msg.set_content(self._body(vendor, f, "invoice"))
        msg.add_attachment(pdf, maintype="application", subtype="octet-stream", filename=f"{f.invoice_number}.dat")
        return GeneratedMail("", "octet_stream_pdf", msg, [_sha(pdf)], [self._fields_dict(f)])

    def german_rfc2231(self) -> GeneratedMail:
        f, pdf, vendor, day = self._doc("invoice")
        vendor = VENDORS[1]
        msg = self._envelope(vendor, f"Ihre Rechnung {f.invoice_number} für März", day)
        msg.set_content(self._body(vendor, f, "Rechnung"))
        # The email package writes a non-ASCII name as RFC 2231: filename*=utf-8''Rechnung%20M%C3%A4rz...
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=f"Rechnung März {f.invoice_number}.pdf")
        return GeneratedMail("", "rfc2231_german_name", msg, [_sha(pdf)], [self._fields_dict(f)])

    def encoded_word_name(self) -> GeneratedMail:
        f, pdf, vendor, day = self._doc("invoice")
        vendor = VENDORS[2]
        msg = self._envelope(vendor, f"Facture {f.invoice_number}", day)
        msg.set_content(self._body(vendor, f, "facture"))
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename="x.pdf")
        # As Outlook writes it: encoded words inside the quoted name, split over two folded lines.
        # set_raw keeps the header as written (the policy would re-encode it as RFC 2231).
        part = msg.get_payload()[-1]
        name = f"Facture n°{f.invoice_number} réglée.pdf"
        words = ["=?UTF-8?B?" + base64.b64encode(half.encode()).decode() + "?=" for half in (name[:14], name[14:])]
        for header in ("Content-Disposition", "Content-Type"):
            del part[header]
        part.set_raw("Content-Type", 'application/pdf;\r\n name="' + "\r\n ".join(words) + '"')
        part.set_raw("Content-Disposition", 'attachment;\r\n filename="' + "\r\n ".join(words) + '"')
        return GeneratedMail("", "encoded_word_name", msg, [_sha(pdf)], [self._fields_dict(f)])

    def generate(self, n: int) -> list[GeneratedMail]:
        """``n`` mails: every special kind once (when n allows), the rest ordinary documents."""
        special: list[Callable[[], GeneratedMail]] = [
            self.invoice,
            self.duplicate,
            self.receipt,
            self.newsletter,
            self.zip_two,
            self.forwarded,
            self.octet_stream,
            self.german_rfc2231,
            self.corrupt_pdf,
            self.credit_note,
            self.purchase_order,
            self.encoded_word_name,
        ]
        common: list[Callable[[], GeneratedMail]] = [self.invoice] * 6 + [
            self.credit_note,
            self.purchase_order,
            self.receipt,
            self.newsletter,
        ]
        plan = special[:n] + [self.rng.choice(common) for _ in range(max(0, n - len(special)))]
        mails = []
        for i, make in enumerate(plan, start=1):
            self.index = i
            g = make()
            g.file_name = f"{i:03d}-{g.kind}.eml"
            _fix_boundaries(g.message, f"{self.seed}-{i}")
            mails.append(g)
        return mails


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fix_boundaries(msg: EmailMessage, token: str) -> None:
    """Fixed MIME boundaries (the email package draws random ones) so the same seed gives the same bytes."""
    k = 0
    for part in msg.walk():
        if part.is_multipart():
            k += 1
            part.set_boundary(f"=_invoicebot_{token}_{k}")


def _write(out: Path, mails: list[GeneratedMail], seed: int) -> None:
    """Write the mails as .eml files plus manifest.json (kind and document hashes per file)."""
    manifest = []
    for g in mails:
        (out / g.file_name).write_bytes(g.message.as_bytes(policy=policy.SMTP))
        manifest.append(
            {
                "file": g.file_name,
                "kind": g.kind,
                "message_id": str(g.message["Message-ID"]).strip("<>"),
                "documents": g.documents,
                "fields": g.fields,
            }
        )
    unique = len({s for m in manifest for s in m["documents"]})
    summary = {"seed": seed, "count": len(mails), "unique_documents": unique, "mails": manifest}
    (out / "manifest.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def write_inbox(out: str | Path, n: int = 50, seed: int = 1) -> list[GeneratedMail]:
    """Write ``n`` mails as ``NNN-kind.eml`` plus ``manifest.json`` into ``out``; return them."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    mails = InboxGenerator(seed).generate(n)
    _write(out, mails, seed)
    return mails


DEMO_KINDS = ("invoice", "german_rfc2231", "octet_stream", "zip_two", "forwarded", "newsletter", "receipt", "duplicate")


def write_demo_inbox(out: str | Path, seed: int = 7) -> list[GeneratedMail]:
    """The small demo inbox (8 mails, one of each common case) shipped in resources/demo_inbox/."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    gen = InboxGenerator(seed)
    mails = []
    for i, kind in enumerate(DEMO_KINDS, start=1):
        gen.index = i
        g = getattr(gen, kind)()
        g.file_name = f"{i:02d}-{g.kind}.eml"
        _fix_boundaries(g.message, f"demo{seed}-{i}")
        mails.append(g)
    _write(out, mails, seed)
    return mails


def main(argv: list[str] | None = None) -> int:
    """``invoicebot make-inbox --out DIR -n 50 --seed 1 [--demo]``: write a generated inbox of .eml files."""
    p = argparse.ArgumentParser(prog="invoicebot make-inbox", description=__doc__.splitlines()[0])
    p.add_argument("--out", required=True, help="folder to write the .eml files and manifest.json into")
    p.add_argument("-n", "--count", type=int, default=50, help="number of mails (default 50)")
    p.add_argument("--seed", type=int, default=1, help="random seed; the same seed writes the same bytes")
    p.add_argument("--demo", action="store_true", help="write the 8-mail demo inbox instead (ignores -n)")
    args = p.parse_args(argv)
    if args.count < 1:
        p.error("-n must be 1 or more")
    mails = write_demo_inbox(args.out, args.seed) if args.demo else write_inbox(args.out, args.count, args.seed)
    kinds: dict[str, int] = {}
    for g in mails:
        kinds[g.kind] = kinds.get(g.kind, 0) + 1
    size = sum(p.stat().st_size for p in Path(args.out).glob("*.eml"))
    print(
        f"wrote {len(mails)} mails ({size} bytes) to {args.out}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items()))
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
