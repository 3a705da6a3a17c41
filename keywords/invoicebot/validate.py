"""Business checks on an extracted invoice: sums, dates, IBAN, currency, sign.

``validate_invoice`` takes canonical values (amounts "1234.56", dates "YYYY-MM-DD", see
invoicebot.schema) and returns :class:`~invoicebot.schema.ValidationIssue` objects; it never raises
on bad data.  Errors mean "do not post this without a person"; warnings mean "look twice".

Codes:

========================  ========  ==========================================================
code                      severity  when
========================  ========  ==========================================================
SUM_MISMATCH              error     subtotal + tax differs from total by more than 0.01
LINE_SUM_MISMATCH         warning   line item amounts do not add up to the subtotal (or total)
DUE_BEFORE_INVOICE        error     due date earlier than invoice date
FUTURE_DATE               error     a date more than a year after ``today``
IMPLAUSIBLE_DATE          error     a date before 1990
BAD_DATE                  error     a date field that is not YYYY-MM-DD
BAD_AMOUNT                error     an amount field that is not a decimal number
BAD_IBAN                  error     IBAN with a wrong length for its country or a failing checksum
BAD_CURRENCY              error     currency that is not an ISO 4217 code the vocabulary knows
MISSING_TOTAL             warning   invoice-like document without a total
ZERO_TOTAL                warning   invoice with a total of 0.00
NEGATIVE_TOTAL            warning   negative total on a document that is not a credit note
MISSING_CURRENCY          warning   no currency (it is never guessed)
AMOUNT_DUE_EXCEEDS_TOTAL  warning   amount due larger than the total
========================  ========  ==========================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .normalize import normalize_iban
from .schema import AMOUNT_FIELDS, DATE_FIELDS, INVOICE_LIKE_TYPES, LineItem, ValidationIssue
from .vocabulary import Vocabulary, load_vocabulary

TOLERANCE = Decimal("0.01")
EARLIEST_PLAUSIBLE = date(1990, 1, 1)
FUTURE_LIMIT = timedelta(days=365)

_IBAN_SHAPE = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$")


def iban_problem(text: str | None, *, vocabulary: Vocabulary | None = None) -> str | None:
    """Why ``text`` is not a valid IBAN (a sentence), or None when it is valid.

    Checks the shape, the length registered for its country (ISO 13616, kept in languages.yaml)
    and the mod-97 check digits.
    """
    iban = normalize_iban(text)
    if not iban:
        return "it is empty"
    if not _IBAN_SHAPE.match(iban):
        return "an IBAN is two letters, two check digits and 10 to 30 letters or digits"
    voc = vocabulary or load_vocabulary()
    country = iban[:2]
    length = voc.iban_length(country)
    if length is None:
        return f"{country} is not a country that issues IBANs"
    if len(iban) != length:
        return f"an IBAN of {country} has {length} characters, this one has {len(iban)}"
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    if int(number) % 97 != 1:
        return "its check digits do not match (mod 97); a character was probably misread"
    return None


def iban_is_valid(text: str | None, *, vocabulary: Vocabulary | None = None) -> bool:
    """True when ``text`` is an IBAN with the right length for its country and valid check digits."""
    return iban_problem(text, vocabulary=vocabulary) is None


_IBAN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9OIl]{2}(?:[ ]?[A-Z0-9]{1,4}){1,9}")
_IBAN_GROUPS = re.compile(r"\s*((?:[A-Z0-9]{1,4}[ ]?){1,8})")
#: the check digits are digits: a letter there is a misread (OCR, or a font where O and 0 look alike)
_CHECK_DIGIT_MISREADS = str.maketrans("OIl", "011")


def find_ibans(text: str, *, vocabulary: Vocabulary | None = None,
               continuation: str | None = None) -> list[tuple[int, int, str]]:
    """Valid IBANs in a line of text, printed in groups or in one run: (start, end, IBAN without spaces).

    A run of groups often goes on into the next word ("AT64 2514 8726 4798 4535 SWIFT-BIC: ..."), so the
    longest prefix that ends between groups and passes the length and check-digit test is taken.  A run that
    reaches the end of the line may go on at the start of the next one (``continuation``: a narrow column wraps
    it); the span is then this line's part.  An O, I or l among the check digits is read as 0 or 1 (the check
    digits decide whether that was right).
    """
    out = []
    for m in _IBAN_RUN.finditer(text):
        run = m.group(0)
        run = run[:2] + run[2:4].translate(_CHECK_DIGIT_MISREADS) + run[4:]
        tails = [""]
        if continuation and not text[m.end():].strip():
            more = _IBAN_GROUPS.match(continuation)
            if more:
                tails.insert(0, " " + more.group(1).rstrip())
        found = None
        for tail in tails:
            full = run + tail
            for end in [len(full)] + [k for k in range(len(full) - 1, 3, -1) if full[k] == " "]:
                iban = full[:end].replace(" ", "")
                if iban_is_valid(iban, vocabulary=vocabulary):
                    found = (m.start(), m.start() + min(end, len(run)), iban)
                    break
            if found:
                break
        if found:
            out.append(found)
    return out


def _amount(values: Mapping[str, Any], name: str, issues: list[ValidationIssue]) -> Decimal | None:
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = Decimal(str(raw).strip())
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite():
        issues.append(
            ValidationIssue(
                "BAD_AMOUNT",
                f"{name} is {raw!r}, which is not a decimal number like 1234.56; correct the value or "
                "let the extractor normalise it",
                [name],
            )
        )
        return None
    return value


def _date(values: Mapping[str, Any], name: str, issues: list[ValidationIssue]) -> date | None:
    raw = values.get(name)
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        issues.append(
            ValidationIssue(
                "BAD_DATE",
                f"{name} is {raw!r}, which is not a date written YYYY-MM-DD; correct the value",
                [name],
            )
        )
        return None


def _item_amount(item: Any) -> Any:
    if isinstance(item, LineItem):
        return item.amount
    if isinstance(item, Mapping):
        return item.get("amount")
    return getattr(item, "amount", None)


def validate_invoice(
    values: Mapping[str, str | None],
    *,
    today: date | None = None,
    line_items: Iterable[LineItem | Mapping[str, Any]] | None = None,
    document_type: str | None = "invoice",
    vocabulary: Vocabulary | None = None,
) -> list[ValidationIssue]:
    """Check one invoice's canonical values; return the issues found (empty list: nothing to say).

    ``values`` maps header fields to canonical strings (missing or None: not extracted).
    ``line_items`` (LineItem objects or dicts with ``amount``) are summed against the subtotal.
    ``document_type`` decides which checks apply: a credit note may be negative; only invoice-like
    documents (invoice, credit note, receipt) need a total.
    """
    today = today or date.today()
    voc = vocabulary or load_vocabulary()
    issues: list[ValidationIssue] = []
    amounts = {name: _amount(values, name, issues) for name in sorted(AMOUNT_FIELDS)}
    dates = {name: _date(values, name, issues) for name in sorted(DATE_FIELDS)}
    subtotal, tax, total = amounts["subtotal_amount"], amounts["tax_amount"], amounts["total_amount"]
    due = amounts["amount_due"]
    is_credit = document_type == "credit_note"
    invoice_like = document_type is None or document_type in INVOICE_LIKE_TYPES

    # Sums.
    if subtotal is not None and tax is not None and total is not None:
        diff = subtotal + tax - total
        if abs(diff) > TOLERANCE:
            issues.append(
                ValidationIssue(
                    "SUM_MISMATCH",
                    f"subtotal_amount {subtotal} + tax_amount {tax} = {subtotal + tax}, but total_amount is "
                    f"{total} (off by {abs(diff)}); check the three amounts on the document",
                    ["subtotal_amount", "tax_amount", "total_amount"],
                )
            )
    items = list(line_items or [])
    if items:
        item_values = []
        bad = False
        for item in items:
            raw = _item_amount(item)
            if raw is None or raw == "":
                continue
            try:
                item_values.append(Decimal(str(raw)))
            except InvalidOperation:
                bad = True
        target_name = "subtotal_amount" if subtotal is not None else ("total_amount" if total is not None else None)
        target = subtotal if subtotal is not None else total
        if item_values and target is not None and not bad:
            item_sum = sum(item_values, Decimal(0))
            # Each line may have been rounded on the document: allow half a cent per line.
            tolerance = max(TOLERANCE, Decimal("0.005") * len(item_values))
            if abs(item_sum - target) > tolerance:
                issues.append(
                    ValidationIssue(
                        "LINE_SUM_MISMATCH",
                        f"the {len(item_values)} line item amounts add up to {item_sum}, but {target_name} is "
                        f"{target}; a line may be missing or misread (discounts and shipping lines count too)",
                        [target_name],
                        "warning",
                    )
                )
    if due is not None and total is not None and total > 0 and due > total + TOLERANCE:
        issues.append(
            ValidationIssue(
                "AMOUNT_DUE_EXCEEDS_TOTAL",
                f"amount_due {due} is larger than total_amount {total}; an earlier balance may be included, "
                "check which amount to pay",
                ["amount_due", "total_amount"],
                "warning",
            )
        )

    # Dates.
    inv, due_date = dates["invoice_date"], dates["due_date"]
    if inv is not None and due_date is not None and due_date < inv:
        issues.append(
            ValidationIssue(
                "DUE_BEFORE_INVOICE",
                f"due_date {due_date.isoformat()} is before invoice_date {inv.isoformat()}; day and month may "
                "be swapped (DMY against MDY), check both dates on the document",
                ["invoice_date", "due_date"],
            )
        )
    for name in sorted(DATE_FIELDS):
        d = dates[name]
        if d is None:
            continue
        if d > today + FUTURE_LIMIT:
            issues.append(
                ValidationIssue(
                    "FUTURE_DATE",
                    f"{name} {d.isoformat()} is more than a year after today ({today.isoformat()}); the year "
                    "or the date order was probably misread",
                    [name],
                )
            )
        elif d < EARLIEST_PLAUSIBLE:
            issues.append(
                ValidationIssue(
                    "IMPLAUSIBLE_DATE",
                    f"{name} {d.isoformat()} is before {EARLIEST_PLAUSIBLE.year}; the year was probably misread",
                    [name],
                )
            )

    # IBAN.
    iban = values.get("iban")
    if iban:
        problem = iban_problem(iban, vocabulary=voc)
        if problem:
            issues.append(
                ValidationIssue(
                    "BAD_IBAN",
                    f"iban {iban!r} is not valid: {problem}; compare it with the document before paying",
                    ["iban"],
                )
            )

    # Currency.
    currency = values.get("currency")
    if not currency:
        issues.append(
            ValidationIssue(
                "MISSING_CURRENCY",
                "no currency was found on the document and none is assumed; enter the currency by hand",
                ["currency"],
                "warning",
            )
        )
    elif currency not in voc.currencies:
        issues.append(
            ValidationIssue(
                "BAD_CURRENCY",
                f"currency {currency!r} is not an ISO 4217 code known to the vocabulary "
                "(resources/vocabulary/currencies.yaml); correct it or add the currency there",
                ["currency"],
            )
        )

    # Total.
    if invoice_like:
        if total is None and values.get("total_amount") in (None, ""):
            issues.append(
                ValidationIssue(
                    "MISSING_TOTAL",
                    "no total_amount was found; enter it from the document",
                    ["total_amount"],
                    "warning",
                )
            )
        elif total is not None and total == 0:
            issues.append(
                ValidationIssue(
                    "ZERO_TOTAL",
                    "total_amount is 0.00; check that the right amount was read (a fully credited invoice "
                    "may be right)",
                    ["total_amount"],
                    "warning",
                )
            )
    if total is not None and total < 0 and not is_credit:
        issues.append(
            ValidationIssue(
                "NEGATIVE_TOTAL",
                f"total_amount {total} is negative on a document classified as {document_type or 'unknown'}; "
                "it may be a credit note, or a minus sign was misread",
                ["total_amount"],
                "warning",
            )
        )
    return issues


__all__ = ["EARLIEST_PLAUSIBLE", "FUTURE_LIMIT", "TOLERANCE", "iban_is_valid", "iban_problem", "validate_invoice"]
