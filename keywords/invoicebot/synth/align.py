"""Align the generator's labelled pieces to the words read back from the rendered document.

Each renderer reports where it printed every labelled piece (page and box, 0..1000).  A word read
back belongs to a piece when its centre lies in the piece's box.  The words of one occurrence are
then checked against the canonical value with the same normalisation a consumer would apply, so a
label is only kept where the words really say the value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from rapidfuzz import fuzz

from invoicebot.schema import Document
from invoicebot.synth.content import Cell, DocContent
from invoicebot.synth.locales import CURRENCY_SYMBOLS, parse_amount, parse_date


def _alnum(s: str) -> str:
    return "".join(ch for ch in s.lower() if ch.isalnum())


def all_cells(doc: DocContent) -> list[Cell]:
    cells: list[Cell] = list(doc.vendor_block) + list(doc.customer_block) + list(doc.ship_block)
    cells += [r.value for r in doc.meta + doc.totals + doc.bank]
    for t in ([doc.items] if doc.items else []) + doc.extra_tables:
        for row in t.rows:
            cells += row
    cells += doc.notes + doc.paragraphs + doc.footer
    if doc.sender_line:
        cells.append(doc.sender_line)
    return cells


def normalise(field: str, text: str, doc: DocContent) -> str | None:
    """The canonical value that the printed ``text`` of ``field`` stands for (None if unreadable)."""
    kind = field.rsplit(".", 1)[-1] if field.startswith("li.") else field
    if kind in ("subtotal_amount", "tax_amount", "total_amount", "amount_due", "quarter_to_date", "year_to_date",
                "unit_price", "amount"):
        return parse_amount(text)
    if kind in ("invoice_date", "due_date"):
        return parse_date(text, doc.date_order)
    if kind == "currency":
        t = text.strip()
        if t.upper() == doc.currency or t in CURRENCY_SYMBOLS.get(doc.currency, []):
            return doc.currency
        return None
    if kind == "quantity":
        s = text.strip().replace(" ", "")
        if "," in s and "." not in s:
            s = s.replace(",", ".")
        elif "," in s:
            s = s.replace(",", "")
        try:
            v = Decimal(s)
        except InvalidOperation:
            return None
        out = f"{v:f}"
        return out.rstrip("0").rstrip(".") if "." in out else out
    if kind in ("invoice_number", "po_number"):
        return text.replace(" ", "").lstrip("#")
    if kind in ("iban", "vendor_tax_id"):
        return re.sub(r"[^0-9A-Za-z]", "", text).upper()
    return _alnum(text)


def expected(field: str, value: str) -> str:
    kind = field.rsplit(".", 1)[-1] if field.startswith("li.") else field
    if kind in ("iban", "vendor_tax_id"):
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if kind in ("vendor_name", "customer_name", "vendor_address", "payment_terms", "description"):
        return _alnum(value)
    if kind in ("invoice_number", "po_number"):
        return value.replace(" ", "")
    return value


def matches(field: str, words_text: str, value: str, doc: DocContent, ocr: bool) -> bool:
    got = normalise(field, words_text, doc)
    want = expected(field, value)
    if got is not None and got == want:
        return True
    if not ocr:
        return False
    # OCR: accept a near miss (one or two wrong characters) so the position is still taught
    a, b = _alnum(words_text), _alnum(want)
    return bool(a) and fuzz.ratio(a, b) >= 85


def canonical_values(doc: DocContent) -> dict[str, str]:
    vals = dict(doc.fields)
    for i, li in enumerate(doc.line_items):
        for k, v in li.items():
            vals[f"li.{i}.{k}"] = v
    return vals


def align(doc: DocContent, spans: list[dict], document: Document, ocr: bool, tol: float = 2.0,
          unrotate: list[float] | None = None, tol_y: float | None = None) -> dict:
    """Return {"fields": {name: {...}}, "line_items": [...], "stats": {...}} for one document."""
    pages = {p.number: p for p in document.pages}
    ty = tol if tol_y is None else tol_y
    centres: dict[int, list[tuple[float, float]]] = {}
    for p in document.pages:
        cs = []
        for w in p.words:
            cx, cy = (w.bbox[0] + w.bbox[2]) / 2, (w.bbox[1] + w.bbox[3]) / 2
            if unrotate and unrotate[0]:
                from invoicebot.synth.scan import unrotate_point

                cx, cy = unrotate_point(cx, cy, *unrotate)
            cs.append((cx, cy))
        centres[p.number] = cs
    values = canonical_values(doc)
    # (field, occ, page) -> set of word indices on that page
    groups: dict[tuple[str, str, int], set[int]] = {}
    for s in spans:
        page = pages.get(s["page"])
        if page is None:
            continue
        for i, (cx, cy) in enumerate(centres[s["page"]]):
            for b in s["boxes"]:
                if b[0] - tol <= cx <= b[2] + tol and b[1] - ty <= cy <= b[3] + ty:
                    for f in s["f"].split():
                        groups.setdefault((f, s["o"], s["page"]), set()).add(i)
                    break
    occurrences: dict[str, list[dict]] = {}
    rejected = 0
    rejected_detail: list[str] = []
    for (f, _occ, pno), idx in sorted(groups.items(), key=lambda kv: (kv[0][2], min(kv[1]))):
        if f not in values:
            continue
        ws = sorted(idx)
        text = " ".join(pages[pno].words[i].text for i in ws)
        if matches(f, text, values[f], doc, ocr):
            occurrences.setdefault(f, []).append({"words": [[pno, i] for i in ws], "text": text})
        else:
            rejected += 1
            rejected_detail.append(f"{f}: {text!r} != {values[f]!r}")
    fields = {}
    raw_by_field: dict[str, list[str]] = {}
    for c in all_cells(doc):
        for text, fs, _occ in c:
            for f in fs:
                raw_by_field.setdefault(f, [])
                if text not in raw_by_field[f]:
                    raw_by_field[f].append(text)
    found = 0
    for f, v in doc.fields.items():
        occ = occurrences.get(f, [])
        found += bool(occ)
        fields[f] = {"value": v, "raw": raw_by_field.get(f, []), "words": [w for o in occ for w in o["words"]],
                     "occurrences": [o["words"] for o in occ]}
    items = []
    for i, li in enumerate(doc.line_items):
        item = dict(li)
        item["words"] = {k: [w for o in occurrences.get(f"li.{i}.{k}", []) for w in o["words"]] for k in li}
        items.append(item)
    return {"fields": fields, "line_items": items,
            "stats": {"fields": len(doc.fields), "fields_found": found, "rejected_occurrences": rejected,
                      "rejected": rejected_detail[:10]}}
