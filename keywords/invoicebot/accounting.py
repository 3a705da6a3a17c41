"""From an extracted invoice to what is keyed into an accounting UI, and back.

Plain data in and out, no Robot or browser here:

* ``build_keying_payload`` turns extraction values (``ExtractionResult.values()`` plus line items)
  into the record a UI profile types: supplier, reference, dates, currency, lines and the tax,
  checked for sums first.  What cannot be keyed faithfully raises ``KeyingRejected`` (review).
* ``classify_matches`` looks at the invoices the accounting system already holds for that supplier
  and reference: the same document keyed by an earlier run (``ALREADY_KEYED``: crash recovery),
  or another invoice with the same reference, or the same amount and date (``DUPLICATE``).
* ``compare_readback`` lists every difference between what was keyed and what the UI shows after
  saving, so that nothing is left silently wrong.

Amounts are ``Decimal`` internally and strings with two places at the edges (see schema.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .errors import InvoiceBotError

CENT = Decimal("0.01")
#: Prefix of the marker written into the invoice's description: which document was keyed.
MARKER_PREFIX = "invoicebot:"
REQUIRED_FIELDS = ("vendor_name", "invoice_number", "invoice_date", "currency", "total_amount")


class KeyingRejected(InvoiceBotError):
    """The invoice cannot be keyed as it is (business exception): a person must look at it."""

    code = "KEYING_REJECTED"

    def __init__(self, code: str, message: str, fields: list[str] | None = None):
        self.code = code
        self.fields = fields or []
        super().__init__(message)


@dataclass
class KeyingLine:
    """One invoice line as typed: quantity x unit price, on the line product that carries the tax."""

    quantity: str
    unit_price: str
    amount: str
    product: str
    description: str = ""


@dataclass
class KeyingPayload:
    """What a UI profile types for one supplier invoice (all strings, ISO dates, two-place amounts)."""

    supplier: str
    reference: str
    invoice_date: str
    currency: str
    untaxed_amount: str
    tax_amount: str
    total_amount: str
    tax_rate: str  # percent as a string, e.g. "21"; "" when the invoice has no tax
    lines: list[KeyingLine]
    marker: str  # written to the invoice description; finds this document again after a crash
    due_date: str = ""
    payment_term: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def to_decimal(value: Any, name: str = "amount") -> Decimal | None:
    """A canonical amount string (or number) as ``Decimal``; ``None`` for a missing value."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value).replace(",", "").strip())
    except InvalidOperation as exc:
        raise KeyingRejected("BAD_AMOUNT", f"{name} {value!r} is not an amount; fix the extraction", [name]) from exc


def money(value: Decimal) -> str:
    return str(value.quantize(CENT, rounding=ROUND_HALF_UP))


def document_marker(values: dict[str, Any], sha256: str = "") -> str:
    """A stable marker of one document: its file hash when known, else a hash of its key fields."""
    if sha256:
        return MARKER_PREFIX + sha256[:16]
    key = "|".join(str(values.get(k) or "") for k in ("vendor_name", "invoice_number", "invoice_date",
                                                        "total_amount"))
    return MARKER_PREFIX + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def choose_tax_rate(untaxed: Decimal, tax: Decimal, rates: list[Decimal]) -> Decimal | None:
    """The configured percent rate whose tax on ``untaxed`` equals ``tax`` to the cent, or None."""
    if tax == 0:
        return Decimal(0) if Decimal(0) in rates else None
    for rate in sorted(rates, key=lambda r: abs(untaxed * r / 100 - tax)):
        if abs((untaxed * rate / 100).quantize(CENT, rounding=ROUND_HALF_EVEN) - tax) <= CENT / 2:
            return rate
        if abs((untaxed * rate / 100).quantize(CENT, rounding=ROUND_HALF_UP) - tax) <= CENT / 2:
            return rate
    return None


def _lines_from_items(items: list[dict[str, Any]], untaxed: Decimal, product: str) -> list[KeyingLine] | None:
    """The extracted line items as keying lines when they are complete and add up; else None."""
    out: list[KeyingLine] = []
    total = Decimal(0)
    for item in items:
        qty = to_decimal(item.get("quantity"), "quantity")
        price = to_decimal(item.get("unit_price"), "unit_price")
        amount = to_decimal(item.get("amount"), "amount")
        if qty is None or price is None or amount is None or qty <= 0:
            return None
        if abs((qty * price).quantize(CENT, rounding=ROUND_HALF_UP) - amount) > CENT / 2:
            return None
        total += amount
        out.append(KeyingLine(quantity=_plain(qty), unit_price=_plain(price), amount=money(amount),
                              product=product, description=str(item.get("description") or "")))
    if not out or abs(total - untaxed) > CENT / 2:
        return None
    return out


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros beyond two places (what a person types)."""
    text = format(value.normalize(), "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.rstrip("0")
        if len(frac) < 2 and frac:
            frac = frac.ljust(2, "0")
        return f"{whole}.{frac}" if frac else whole
    return text


def build_keying_payload(
    values: dict[str, Any],
    line_items: list[dict[str, Any]] | None = None,
    *,
    tax_products: dict[str, str],
    payment_terms: dict[str, str] | None = None,
    sha256: str = "",
) -> KeyingPayload:
    """Map extraction values to the record a UI profile keys; raise ``KeyingRejected`` when it can't.

    ``tax_products`` maps a percent rate ("21", "0") to the line product that carries that supplier tax
    in the accounting system (profile data).  ``payment_terms`` maps a number of days between invoice
    and due date to a payment term name.
    """
    missing = [k for k in REQUIRED_FIELDS if not values.get(k)]
    if missing:
        raise KeyingRejected("MISSING_FIELD", f"cannot key the invoice: missing {', '.join(missing)}; "
                             "complete them in review", missing)
    try:
        invoice_date = dt.date.fromisoformat(str(values["invoice_date"]))
    except ValueError as exc:
        raise KeyingRejected("BAD_DATE", f"invoice_date {values['invoice_date']!r} is not YYYY-MM-DD",
                             ["invoice_date"]) from exc
    total = to_decimal(values["total_amount"], "total_amount")
    untaxed = to_decimal(values.get("subtotal_amount"), "subtotal_amount")
    tax = to_decimal(values.get("tax_amount"), "tax_amount")
    if total is None:
        raise KeyingRejected("MISSING_FIELD", "cannot key the invoice: missing total_amount", ["total_amount"])
    if untaxed is None and tax is not None:
        untaxed = total - tax
    if untaxed is None:
        untaxed = total
    if tax is None:
        tax = total - untaxed
    if untaxed + tax != total:
        raise KeyingRejected("SUM_MISMATCH", f"subtotal {money(untaxed)} + tax {money(tax)} != total {money(total)}; "
                             "correct the amounts in review", ["subtotal_amount", "tax_amount", "total_amount"])
    if untaxed <= 0:
        raise KeyingRejected("NOT_AN_INVOICE", f"net amount {money(untaxed)} is not positive; credit notes are "
                             "keyed by hand", ["subtotal_amount"])
    rates = {Decimal(k): v for k, v in tax_products.items()}
    rate = choose_tax_rate(untaxed, tax, list(rates))
    if rate is None:
        known = ", ".join(f"{_plain(r)}%" for r in sorted(rates))
        raise KeyingRejected("UNKNOWN_TAX", f"tax {money(tax)} on net {money(untaxed)} matches no configured tax "
                             f"rate ({known}); key it by hand or add the rate to the profile", ["tax_amount"])
    product = rates[rate]
    lines = _lines_from_items(line_items or [], untaxed, product)
    if lines is None:
        lines = [KeyingLine(quantity="1", unit_price=money(untaxed), amount=money(untaxed), product=product,
                            description=f"Invoice {values['invoice_number']}")]
    due = str(values.get("due_date") or "")
    term = ""
    if due and payment_terms:
        try:
            days = (dt.date.fromisoformat(due) - invoice_date).days
            term = payment_terms.get(str(days), "")
        except ValueError:
            due = ""
    return KeyingPayload(
        supplier=str(values["vendor_name"]).strip(),
        reference=str(values["invoice_number"]).strip(),
        invoice_date=invoice_date.isoformat(),
        currency=str(values["currency"]).upper(),
        untaxed_amount=money(untaxed),
        tax_amount=money(tax),
        total_amount=money(total),
        tax_rate=_plain(rate),
        lines=lines,
        marker=document_marker(values, sha256),
        due_date=due,
        payment_term=term,
    )


def keying_input(invoice: Any) -> tuple[dict[str, Any], list[dict[str, Any]], str]:
    """Accept an ExtractionResult, its ``to_dict()``, or a plain values dict; return values, items, sha256."""
    # a dict (the keywords' masked dicts too) has a callable .values(): look at it as a dict first
    if not isinstance(invoice, dict) and hasattr(invoice, "line_items") and callable(getattr(invoice, "values", None)):
        items = [asdict(li) if not isinstance(li, dict) else li for li in invoice.line_items]
        return dict(invoice.values()), items, getattr(invoice, "sha256", "") or ""
    if isinstance(invoice, dict):
        if "fields" in invoice and isinstance(invoice["fields"], dict):
            vals = {k: (v.get("value") if isinstance(v, dict) else v) for k, v in invoice["fields"].items()}
            return vals, list(invoice.get("line_items") or []), str(invoice.get("sha256") or "")
        vals = {k: v for k, v in invoice.items() if k != "line_items"}
        return vals, list(invoice.get("line_items") or []), str(invoice.get("sha256") or "")
    raise TypeError(f"cannot key {type(invoice).__name__}: give an ExtractionResult or a dict of field values")


@dataclass
class Match:
    status: str  # "ALREADY_KEYED" or "DUPLICATE"
    invoice: dict[str, Any]
    reason: str


def _norm(text: Any) -> str:
    return " ".join(str(text or "").split()).casefold()


def classify_matches(payload: KeyingPayload, found: list[dict[str, Any]]) -> Match | None:
    """Decide what the invoices already in the accounting system mean for this payload.

    ``found``: dicts with ``id``, ``supplier``, ``reference``, ``invoice_date``, ``total_amount``,
    ``description`` and ``state`` (what the profile's ``Find Supplier Invoice`` returns).
    Cancelled invoices are ignored.  The same marker means an earlier run keyed this very document.
    """
    live = [f for f in found if str(f.get("state") or "") != "cancelled"]
    for inv in live:
        if payload.marker and payload.marker in str(inv.get("description") or ""):
            return Match("ALREADY_KEYED", inv, f"invoice {inv.get('id')} carries this document's marker "
                         f"{payload.marker}: an earlier run keyed it")
    for inv in live:
        if _norm(inv.get("supplier")) == _norm(payload.supplier) and _norm(inv.get("reference")) == _norm(
                payload.reference):
            return Match("DUPLICATE", inv, f"supplier {payload.supplier!r} already has invoice {inv.get('id')} with "
                         f"reference {payload.reference!r}")
    for inv in live:
        same_amount = to_decimal(inv.get("total_amount")) == Decimal(payload.total_amount)
        if (_norm(inv.get("supplier")) == _norm(payload.supplier) and same_amount
                and str(inv.get("invoice_date") or "") == payload.invoice_date):
            return Match("DUPLICATE", inv, f"supplier {payload.supplier!r} already has invoice {inv.get('id')} of "
                         f"{payload.total_amount} on {payload.invoice_date} (reference {inv.get('reference')!r})")
    return None


@dataclass
class Difference:
    field: str
    keyed: str
    read_back: str


COMPARED = ("supplier", "reference", "invoice_date", "currency", "untaxed_amount", "tax_amount", "total_amount")


def compare_readback(payload: KeyingPayload, read_back: dict[str, Any]) -> list[Difference]:
    """Every field where the record read back from the UI differs from what was keyed (and extracted)."""
    keyed = payload.to_dict()
    out: list[Difference] = []
    for name in COMPARED:
        want = str(keyed[name])
        got = read_back.get(name)
        if name.endswith("_amount"):
            try:
                same = got is not None and to_decimal(got, name) == Decimal(want)
            except KeyingRejected:
                same = False
        elif name in ("supplier", "reference"):
            same = _norm(got) == _norm(want)
        else:
            same = str(got or "") == want
        if not same:
            out.append(Difference(name, want, "" if got is None else str(got)))
    n_lines = read_back.get("line_count")
    if n_lines is not None and int(n_lines) != len(payload.lines):
        out.append(Difference("line_count", str(len(payload.lines)), str(n_lines)))
        return out
    for i, (line, got) in enumerate(zip(payload.lines, read_back.get("line_amounts") or [], strict=False), 1):
        if to_decimal(got, f"line {i} amount") != Decimal(line.amount):
            out.append(Difference(f"line {i} amount", line.amount, str(got)))
    for i, (line, got) in enumerate(zip(payload.lines, read_back.get("line_products") or [], strict=False), 1):
        if _norm(got) != _norm(line.product):
            out.append(Difference(f"line {i} product", line.product, str(got)))
    return out


@dataclass
class KeyingOutcome:
    """What ``Key Invoice Into Accounting`` reports for one invoice."""

    status: str  # KEYED, ALREADY_KEYED, DUPLICATE, REVIEW
    code: str = ""
    message: str = ""
    invoice_id: int | None = None
    state: str = ""
    posted: bool = False
    differences: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    payload: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
