"""Where the fine-tuned model and the rules meet: checks that hold whichever of them picked a field.

The model ranks candidates one field at a time (amounts jointly); afterwards a few facts of the
document decide between its picks and the rules' picks, the same way for every vendor:

- **arithmetic**: when the model's subtotal, tax and total do not add up and the rules' do, the
  rules' three amounts are taken (the sum is evidence the model cannot see candidate by candidate);
  where the tax picked is one rate's row of a breakdown and no total tax is printed, there is no tax;
- **company names end at their legal form** ("Free SAS au capital de ..." is "Free SAS"), and a legal form
  that OCR read with 0 for O ("V.0.F.") is spelled as the vocabulary spells it;
- **the vendor's address** is read under or after the vendor name that was chosen, over several
  lines (``rules.vendor_address``), when it can be found there.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal, InvalidOperation

from .candidates import DocumentContext, mend_legal_form
from .rules import legal_form_span, vendor_address
from .schema import ExtractedField

AMOUNTS = ("subtotal_amount", "tax_amount", "total_amount")


def adds_up(fields: dict[str, ExtractedField]) -> bool | None:
    """True when subtotal + tax = total (to the cent), False when they do not, None when one is missing."""
    try:
        sub, tax, tot = (Decimal(str(fields[n].value)) for n in AMOUNTS)
    except (KeyError, InvalidOperation, TypeError):
        return None
    return abs(sub + tax - tot) <= Decimal("0.01")


def one_rate_of_several(fields: dict[str, ExtractedField], ctx: DocumentContext) -> bool:
    """True when the tax picked is one rate's share of a breakdown and the document prints no total tax: the
    subtotal and total do not add up with it, and the distinct amounts labelled as tax that are below the gap
    between them (two rates or more, the picked one among them) add up to that gap."""
    try:
        sub, tax, tot = (Decimal(str(fields[n].value)) for n in AMOUNTS)
    except (KeyError, InvalidOperation, TypeError):
        return False
    gap = tot - sub
    if gap <= 0 or abs(sub + tax - tot) <= Decimal("0.01"):
        return False
    shares = set()
    for c in ctx.by_kind("amount"):
        if any(h.field == "tax_amount" for h in c.labels):
            try:
                value = Decimal(c.value)
            except InvalidOperation:
                continue
            if 0 < value < gap:
                shares.add(value)
    return tax in shares and len(shares) >= 2 and abs(sum(shares) - gap) <= Decimal("0.01") * len(shares)


def combine(picked: dict[str, ExtractedField], ruled: dict[str, ExtractedField], ctx: DocumentContext,
            vocab) -> dict[str, ExtractedField]:
    """The model's fields (with the rules already filling in per the model's strategies), checked against the
    document's arithmetic, legal forms and address block; returns a new dict."""
    out = dict(picked)
    if adds_up(out) is False and adds_up(ruled):
        for name in AMOUNTS:
            out[name] = ruled[name]
    if one_rate_of_several(out, ctx):  # better no tax than one rate's share of it
        del out["tax_amount"]
    for name in ("vendor_name", "customer_name"):
        f = out.get(name)
        if f is None or not f.value:
            continue
        mended = mend_legal_form(vocab, f.value)
        if mended != f.value:
            f = out[name] = replace(f, value=mended)
        legal = legal_form_span(vocab, f.value)
        if legal is not None and legal[1] < len(f.value):
            out[name] = replace(f, value=f.value[: legal[1]])
    address = vendor_address(ctx, vocab, out.get("vendor_name"))
    if address is not None:
        conf = out["vendor_name"].confidence
        out["vendor_address"] = replace(address, confidence=round(min(address.confidence, conf), 3))
    return out
