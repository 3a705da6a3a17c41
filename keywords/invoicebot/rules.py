"""The rule-based extractor: vocabulary labels plus layout, typed by pattern.

It ranks the candidates of ``candidates.py`` by the label that owns each one (the
nearest label to its left on the same line, else the label above it in its
column), then picks subtotal, tax and total jointly so that they add up.  It is the
baseline the fine-tuned model must beat, the weak labeller of the training corpus
and the fallback when the model abstains.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal

from . import normalize
from .candidates import Candidate, DocumentContext, LabelHit
from .schema import AMOUNT_FIELDS, DATE_FIELDS, ExtractedField, field_kind
from .validate import iban_is_valid

#: Which candidate kind feeds which field.
FIELD_KIND_TO_CANDIDATE = {"date": "date", "amount": "amount", "id": "id", "name": "name", "text": "name"}

_URL_RE = re.compile(r"(?:https?://)?(?:www\.)?([a-z0-9-]+)\.(?:[a-z]{2,6})(?:\.[a-z]{2})?\b", re.I)
_EMAIL_RE = re.compile(r"[\w.+-]+@([a-z0-9-]+)\.[a-z.]{2,10}", re.I)
_IBAN_RE = re.compile(r"\b([A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,3})?)\b")


@dataclass
class Scored:
    candidate: Candidate
    score: float
    label: LabelHit | None = None


def owner_label(c: Candidate, ctx: DocumentContext) -> LabelHit | None:
    """The label a candidate belongs to: nearest on its left, else nearest above in its column."""
    if c.left:
        return c.left[0]
    if c.above:
        return c.above[0]
    return None


def _same_kind_between(c: Candidate, hit: LabelHit, ctx: DocumentContext) -> tuple[int, bool]:
    """How many candidates of the same kind stand between the label and this one; is this the last."""
    same_line = [o for o in ctx.candidates if o.line == c.line and o.kind == c.kind and o.bbox[0] >= hit.bbox[2] - 1]
    before = sum(1 for o in same_line if o.start < c.start)
    last = all(o.start <= c.start for o in same_line)
    return before, last


def _nearest(hits: list[LabelHit]) -> list[LabelHit]:
    """The hits at the nearest label span (a phrase may stand for several fields)."""
    return [h for h in hits if h.bbox == hits[0].bbox] if hits else []


def label_score(c: Candidate, field: str, ctx: DocumentContext) -> tuple[float, LabelHit | None]:
    """Score of candidate ``c`` for ``field`` from the labels around it (0 when no label speaks for it)."""
    best, best_hit = 0.0, None
    near = _nearest(c.left)
    mine = [h for h in near if h.kind == "field" and h.field == field]
    left = mine[0] if mine else (near[0] if near else None)
    if left is not None and left.kind == "field" and left.field == field:
        between, last = _same_kind_between(c, left, ctx)
        if between == 0:
            s = 0.92
        elif field in AMOUNT_FIELDS and field in ("total_amount", "amount_due") and last:
            s = 0.7
        else:
            s = 0.35
        s -= min(0.2, left.distance / 2000)
        best, best_hit = s, left
    # a column header above counts when the same line has no closer label for something else
    for hit in _nearest(c.above):
        if hit.kind != "field" or hit.field != field:
            continue
        s = 0.8 - min(0.25, hit.distance / 1000)
        if left is not None and (left.field != field or left.kind != "field"):
            between, _ = _same_kind_between(c, left, ctx)
            if between == 0:
                s -= 0.3  # the label on the left claims it for another field
        if s > best:
            best, best_hit = s, hit
        break
    return best, best_hit


def _ranked(ctx: DocumentContext, field: str, top: int = 4) -> list[Scored]:
    kind = FIELD_KIND_TO_CANDIDATE[field_kind(field)]
    out = []
    for c in ctx.candidates:
        if c.kind != kind:
            continue
        s, hit = label_score(c, field, ctx)
        if s > 0:
            out.append(Scored(c, s, hit))
    # ties: later on the page and lower wins for totals (totals block at the end), earlier otherwise
    late = field in AMOUNT_FIELDS
    out.sort(key=lambda x: (-x.score, (-x.candidate.page, -x.candidate.bbox[1]) if late else (x.candidate.page, x.candidate.bbox[1])))
    return out[:top]


def _field(s: Scored, source: str = "rules") -> ExtractedField:
    c = s.candidate
    return ExtractedField(value=c.value, confidence=round(min(0.99, s.score), 3), page=c.page, bbox=c.bbox, raw=c.raw, source=source)


def _pick_amounts(ctx: DocumentContext) -> dict[str, ExtractedField]:
    ranked = {f: _ranked(ctx, f) for f in ("subtotal_amount", "tax_amount", "total_amount", "amount_due")}
    out: dict[str, ExtractedField] = {}
    sub = ranked["subtotal_amount"] + [None]
    tax = ranked["tax_amount"] + [None]
    tot = ranked["total_amount"] + [None]
    best, best_combo = -1.0, (None, None, None)
    for s, t, g in itertools.product(sub, tax, tot):
        score = sum(x.score for x in (s, t, g) if x is not None)
        if s and t and g:
            ok = abs(Decimal(s.candidate.value) + Decimal(t.candidate.value) - Decimal(g.candidate.value)) <= Decimal("0.01")
            score += 1.0 if ok else -0.4
        elif s and g and not t:
            if Decimal(s.candidate.value) > Decimal(g.candidate.value) > 0:
                score -= 0.5
        if g and t and Decimal(t.candidate.value) > Decimal(g.candidate.value) > 0:
            score -= 0.8
        if score > best:
            best, best_combo = score, (s, t, g)
    s, t, g = best_combo
    consistent = bool(s and t and g) and abs(
        Decimal(s.candidate.value) + Decimal(t.candidate.value) - Decimal(g.candidate.value)
    ) <= Decimal("0.01")
    for name, x in (("subtotal_amount", s), ("tax_amount", t), ("total_amount", g)):
        if x is not None:
            f = _field(x)
            if consistent:
                f.confidence = round(min(0.99, f.confidence + 0.1), 3)
            out[name] = f
    if ranked["amount_due"]:
        out["amount_due"] = _field(ranked["amount_due"][0])
    # derive what the arithmetic implies when one of the three is missing
    if "total_amount" not in out and "amount_due" in out and Decimal(out["amount_due"].value) != 0:
        out["total_amount"] = ExtractedField(**{**out["amount_due"].__dict__, "confidence": 0.5, "source": "derived"})
    tot_v = out.get("total_amount")
    if tot_v and "tax_amount" in out and "subtotal_amount" not in out:
        v = Decimal(tot_v.value) - Decimal(out["tax_amount"].value)
        out["subtotal_amount"] = ExtractedField(normalize.format_amount(v), 0.5, source="derived")
    elif tot_v and "subtotal_amount" in out and "tax_amount" not in out:
        v = Decimal(tot_v.value) - Decimal(out["subtotal_amount"].value)
        if v >= 0:
            out["tax_amount"] = ExtractedField(normalize.format_amount(v), 0.45, source="derived")
    for name in ("quarter_to_date", "year_to_date"):
        r = _ranked(ctx, name)
        if r:
            out[name] = _field(r[0])
    return out


def _pick_dates(ctx: DocumentContext) -> dict[str, ExtractedField]:
    out: dict[str, ExtractedField] = {}
    used: set[int] = set()
    for name in ("invoice_date", "due_date"):
        for s in _ranked(ctx, name):
            if id(s.candidate) not in used:
                out[name] = _field(s)
                used.add(id(s.candidate))
                break
    if "invoice_date" not in out:
        # fallback: the first date of the document that no label claims for something else
        for c in ctx.by_kind("date"):
            hit = c.left[0] if c.left else (c.above[0] if c.above else None)
            if id(c) in used or (hit is not None and hit.field != "invoice_date"):
                continue
            out["invoice_date"] = ExtractedField(c.value, 0.4, c.page, c.bbox, c.raw, "rules")
            break
    inv, due = out.get("invoice_date"), out.get("due_date")
    if inv and due and due.value < inv.value and due.confidence <= inv.confidence:
        del out["due_date"]
    return out


def _pick_ids(ctx: DocumentContext) -> dict[str, ExtractedField]:
    out: dict[str, ExtractedField] = {}
    for name in ("invoice_number", "po_number", "vendor_tax_id"):
        r = _ranked(ctx, name)
        if r:
            out[name] = _field(r[0])
    if "invoice_number" not in out:
        # "Invoice INV/2023/03/0008", "Facture n°562044387": a document title followed by an id
        for c in ctx.by_kind("id"):
            line = ctx.lines[c.line]
            before = line.text[: c.start].strip().rstrip(":#°º.").strip()
            words = before.split()
            if words and words[-1].casefold() in ctx_title_words(ctx) and _looks_like_number(c.value):
                out["invoice_number"] = ExtractedField(c.value, 0.55, c.page, c.bbox, c.raw, "rules")
                break
    for line in ctx.lines:
        for m in _IBAN_RE.finditer(line.text):
            iban = normalize.normalize_iban(m.group(1))
            if iban_is_valid(iban):
                out["iban"] = ExtractedField(iban, 0.95, line.page, line.bbox, m.group(1), "rules")
                break
        if "iban" in out:
            break
    return out


def _looks_like_number(value: str) -> bool:
    return sum(ch.isdigit() for ch in value) >= 3


def ctx_title_words(ctx: DocumentContext) -> set[str]:
    return ctx.__dict__.setdefault("_title_words", set())


def _domains(ctx: DocumentContext) -> set[str]:
    out = set()
    for line in ctx.lines:
        for m in _EMAIL_RE.finditer(line.text):
            out.add(m.group(1).casefold().replace("-", ""))
        for m in _URL_RE.finditer(line.text):
            if "@" not in line.text[max(0, m.start() - 1) : m.start() + 1]:
                out.add(m.group(1).casefold().replace("-", ""))
    return {d for d in out if len(d) >= 3 and d not in {"gmail", "yahoo", "hotmail", "outlook", "example"}}


def _letters(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _pick_names(ctx: DocumentContext, vocab) -> dict[str, ExtractedField]:
    out: dict[str, ExtractedField] = {}
    names = ctx.by_kind("name")
    customer_lines: set[int] = set()
    cust = _ranked(ctx, "customer_name")
    if cust:
        out["customer_name"] = _field(cust[0])
        c0 = cust[0].candidate
        customer_lines = {i for i in range(c0.line, min(len(ctx.lines), c0.line + 5)) if ctx.lines[i].page == c0.page}
    for name in ("payment_terms", "vendor_address"):
        r = _ranked(ctx, name)
        if r:
            out[name] = _field(r[0])
    domains = _domains(ctx)
    scored: list[tuple[float, Candidate, str]] = []
    for c in names:
        text = strip_doc_type_words(vocab, c.value).strip(" .:;,-|")
        if not text or not any(ch.isalpha() for ch in text):
            continue
        s, hit = label_score(c, "vendor_name", ctx)
        legal = legal_form_span(vocab, text)
        if legal is not None:
            text = _cut_company(text, legal)
            s = max(s, 0.6)
        if c.line == _first_line_of_page(ctx, 1) and s < 0.45 and len(text.split()) <= 6:
            s = 0.45
        if s <= 0:
            continue
        folded = _letters(text)
        if domains and folded and any(d in folded or (len(folded) >= 4 and folded in d) for d in domains):
            s += 0.2
        if c.line in customer_lines or (c.above and c.above[0].field == "customer_name"):
            s -= 0.45
        repeats = sum(1 for o in names if o is not c and text.casefold() in o.value.casefold())
        s += min(0.1, 0.05 * repeats)
        scored.append((s, c, text))
    if scored:
        scored.sort(key=lambda t: (-t[0], t[1].page, t[1].bbox[1]))
        s, c, text = scored[0]
        if s >= 0.4:
            out["vendor_name"] = ExtractedField(text, round(min(0.95, s), 3), c.page, c.bbox, c.raw, "rules")
    return out


def strip_doc_type_words(vocab, text: str) -> str:
    """``text`` without document-type keywords ("FACTUUR. Coolblue B.V." -> ". Coolblue B.V.")."""
    for m in sorted(vocab.match_doc_types(text), key=lambda m: -m.start):
        text = text[: m.start] + " " + text[m.end :]
    return " ".join(text.split())


_LEGAL_SEARCH: dict[int, re.Pattern[str]] = {}


def legal_form_span(vocab, text: str) -> tuple[int, int] | None:
    """Where a legal-form suffix (GmbH, B.V., Ltd ...) stands in ``text``, anywhere on the line, or None.

    Unlike ``Vocabulary.find_legal_form`` (a name that ends with the form) this finds the form
    in a longer line such as "Example AG - Mainstreet 4 - 12345 Town".
    """
    pat = _LEGAL_SEARCH.get(id(vocab))
    if pat is None:
        alts = sorted(
            (r"[\s.]*".join(re.escape(p) for p in re.split(r"[\s.]+", sp) if p) + r"\.?"
             for lf in vocab.legal_forms for sp in lf.spellings),
            key=len, reverse=True,
        )
        pat = re.compile(r"(?:(?<=[\s,(])|^)(?P<form>" + "|".join(alts) + r")(?=\s*(?:[),;|\-–]|\s|$))", re.IGNORECASE)
        _LEGAL_SEARCH[id(vocab)] = pat
    m = pat.search(text)
    if not m or m.start("form") == 0:
        return None
    return m.start("form"), m.end("form")


def _first_line_of_page(ctx: DocumentContext, page: int) -> int:
    for i, line in enumerate(ctx.lines):
        if line.page == page:
            return i
    return -1


def _cut_company(text: str, legal: tuple[int, int]) -> str:
    """Keep the company name that ends with the legal form: drop what follows and a leading address part."""
    start, end = legal
    head = text[:end]
    for sep in (" - ", " | ", " – ", ", ", ": "):
        if sep in head[:start]:
            head = head[head[:start].rindex(sep) + len(sep) :]
    return head.strip(" .,;:-")


def extract_fields(ctx: DocumentContext, vocab) -> dict[str, ExtractedField]:
    """Run every rule over a document's candidates; returns the fields it is willing to give."""
    ctx.__dict__["_title_words"] = {
        k.text.casefold() for t in ("invoice", "credit_note", "receipt") for k in vocab.doc_type_keywords(t) if " " not in k.text
    }
    fields: dict[str, ExtractedField] = {}
    fields.update(_pick_dates(ctx))
    fields.update(_pick_amounts(ctx))
    fields.update(_pick_ids(ctx))
    fields.update(_pick_names(ctx, vocab))
    if ctx.currency:
        fields["currency"] = ExtractedField(ctx.currency, round(ctx.currency_confidence, 3), source="rules")
    for name in list(fields):
        if name in DATE_FIELDS and fields[name].value is None:
            del fields[name]
    return fields
