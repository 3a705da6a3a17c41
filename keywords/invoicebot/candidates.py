"""Typed candidates for every field, and the context a scorer needs to rank them.

Both extractors share this stage: the rule scorer (``rules.py``) and the fine-tuned
model (``model.py``) only rank what is collected here.  A candidate is a date, an
amount, an id-like token or a name-like text segment found on a page, with the
vocabulary labels seen to its left on the same line and above it in its column.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from . import normalize
from .layout import Line, column_starts, document_lines, split_segments, union, x_overlap
from .schema import BBox, Document
from .validate import find_ibans
from .vocabulary import Vocabulary

# A number that may be an amount: 1.234,56 / 1,234.56 / 1 234,56 / 1'234.50 / 1939 / (12.00) / 12.00- / -9,32
# Spaces group thousands only before a decimal comma ("1 234,56"): "1 278.61" is a quantity and a price.
_AMOUNT_RE = re.compile(
    r"(?<![\w/.,-])\(?-?\s?(?:\d{1,3}(?:[ \u00a0\u202f]\d{3})+,\d{2}|(?:\d{1,3}(?:[.,'\u2019]\d{3})+|\d+)(?:[.,]\d{1,2})?)"
    r"\)?-?(?![\w/]|[.,]\d)"
)
#: a line of a house number and a street's words, no other digit ("160 Oak Street", "12 rue des Lilas")
_HOUSE_NUMBER = re.compile(r"\d{1,4}[a-zA-Z]?,?\s+[^\W\d_][^\d]*$")
_SPACED_TAX_ID = re.compile(r"[\s:.#]*(?P<id>(?:[A-Z]{2} ?)?\d{2,4}(?: \d{2,4}){2,4})(?![\w/-])")
_YEAR_FIRST = re.compile(r"(?:19|20)\d\d\b")
_CURRENCY_DOT = re.compile(r"\b(?:Rs|Rp|SFr|Fr|Tk|Dhs)\.(?=\d)")
#: ten digits and more without a thousands separator: an account, phone or order number, never an amount
_LONG_DIGIT_RUN = re.compile(r"\d{10}")
_ID_RE = re.compile(r"#?\s?[A-Za-z0-9][A-Za-z0-9_/.\-]*[A-Za-z0-9]")
_HAS_DIGIT = re.compile(r"\d")
_PART_SEP = re.compile(r"\s+[·|•*]\s+")  # "*": a middle dot as OCR reads it
_SWISS_UID = re.compile(r"\bCHE[-\s]?\d{3}\.\d{3}\.\d{3}\s(?:MWST|TVA|IVA)\b")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_PERCENT_AFTER = re.compile(r"^\s?%")
_WEBLIKE_TOKEN = re.compile(r"\S*(?:@|www\.|https?://)\S*|\S+\.(?:com|net|org|de|fr|nl|it|es|pl|be|ch|at|co\.uk|in|eu|io)\b\S*", re.I)
_WEBLIKE = re.compile(r"@|www\.|https?://|\b[\w-]+\.(?:com|net|org|de|fr|nl|it|es|pl|be|ch|at|co\.uk|in|eu|io)\b", re.I)


@dataclass
class LabelHit:
    """A vocabulary label seen near a candidate."""

    field: str  # canonical field, or an "other" label name such as customer_number
    phrase: str
    kind: str  # "field" or "other"
    relation: str  # "left" (same line) or "above" (same column, a line above)
    distance: float  # 0..1000 units; words between label and value count too
    bbox: BBox = (0.0, 0.0, 0.0, 0.0)


@dataclass
class Candidate:
    kind: str  # date | amount | id | name
    value: str  # canonical value (ISO date, "1234.56", id as printed, name)
    raw: str
    page: int
    line: int  # index into the document's line list
    bbox: BBox
    start: int  # character span within the line text
    end: int
    left: list[LabelHit] = field(default_factory=list)
    above: list[LabelHit] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)

    @property
    def labels(self) -> list[LabelHit]:
        return self.left + self.above


@dataclass
class DocumentContext:
    """Everything the scorers need about one document."""

    lines: list[Line]
    candidates: list[Candidate]
    label_spans: dict[int, list]  # line index -> vocabulary matches on that line
    language: str | None
    date_order: str
    currency: str | None
    currency_confidence: float
    doc_type_hits: dict[str, float]
    decimals_seen: bool = False  # some amount on the document is written with cents
    title_type: str | None = None  # the type named by the largest document-type keyword at the top of page 1
    heading_type: str | None = None  # the same, from a heading only (taller than most, the keyword alone)

    def by_kind(self, kind: str) -> list[Candidate]:
        return [c for c in self.candidates if c.kind == kind]

    def memo(self, key: Hashable, make: Callable[[], object]):
        """What ``make()`` gives, worked out once per document: the context does not change after
        ``build_context``, so values derived from it (the domains printed, a line's row kind) are kept."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            cache[key] = make()
        return cache[key]


def _column_texts(line: Line) -> list[tuple[int, str]]:
    """The line's text cut where a wide gap parts two columns, each piece with where it starts: a label never
    spans columns ("Date" and "Due Date" heading two columns are not "Date due")."""
    starts = column_starts(line) if line.words else [0]
    if len(starts) == 1:
        return [(0, line.text)]
    spans = [(line.offsets[a][0], line.offsets[b - 1][1]) for a, b in zip(starts, [*starts[1:], len(line.words)], strict=True)]
    return [(s, line.text[s:e]) for s, e in spans]


def _shifted(found: list, by: int) -> list:
    return found if not by else [replace(m, start=m.start + by, end=m.end + by) for m in found]


def _line_matches(vocab: Vocabulary, line: Line, languages: list[str] | None = None) -> list:
    """All vocabulary label matches on a line (fields and confusable 'other' labels), by position.

    A phrase listed under several fields gives one match per field at the same span.  ``languages``
    keeps the labels of the document's likely languages ("Data" is no date label on an English page).
    """
    matches = [(m, "other" if m.other else "field") for s, text in _column_texts(line)
               for m in _shifted(vocab.match_labels(text, languages=languages or None), s)]
    matches.sort(key=lambda t: (t[0].start, -(t[0].end - t[0].start)))
    return matches


#: a type keyword stands (almost) alone, as in a title, when its line holds at most this many more characters
ALONE_EXTRA_CHARS = 25
#: a heading is at least this much taller than the document's median line
HEADING_HEIGHT = 1.15

#: each line with the document-type keywords on it (``Vocabulary.match_doc_types``), read once per document
TypeMatches = list[tuple[Line, list]]


def _segment(line: Line, start: int, end: int) -> list[int]:
    """The words of the line's segment that holds the span: the line cut at gaps wider than 1.5 times the span's
    text height (a title printed right of the vendor's name or a banner on the same baseline is its own
    segment)."""
    idx = line.words_in_span(start, end)
    if not idx:
        return list(range(len(line.words)))
    words = line.words
    h = max(words[i].bbox[3] - words[i].bbox[1] for i in idx)
    lo, hi = min(idx), max(idx)
    while lo > 0 and words[lo].bbox[0] - words[lo - 1].bbox[2] <= 1.5 * h:
        lo -= 1
    while hi < len(words) - 1 and words[hi + 1].bbox[0] - words[hi].bbox[2] <= 1.5 * h:
        hi += 1
    return list(range(lo, hi + 1))


def _stands_alone(line: Line, match) -> bool:
    """The keyword makes (almost) all of its segment of the line."""
    seg = _segment(line, match.start, match.end)
    return sum(len(line.words[i].text) + 1 for i in seg) - 1 <= len(match.phrase) + ALONE_EXTRA_CHARS


def _match_height(line: Line, match) -> float:
    """The text height of the keyword's words (a large title can share its line with smaller text)."""
    heights = sorted(line.words[i].bbox[3] - line.words[i].bbox[1] for i in line.words_in_span(match.start, match.end))
    return heights[len(heights) // 2] if heights else line.height


def _median_height(lines: list[Line]) -> float:
    heights = sorted(line.height for line in lines)
    return heights[len(heights) // 2] if heights else 0.0


def _doc_type_scores(found: TypeMatches, median: float) -> dict[str, float]:
    """Evidence for each document type: keyword hits, weighted up for titles (large, near the top)."""
    median = median or 1.0
    scores: dict[str, float] = {}
    for line, matches in found:
        for m in matches:
            w = 1.0
            if line.page == 1 and line.bbox[1] < 350:
                w += 1.0
            if _match_height(line, m) > 1.3 * median:
                w += 1.5
            if _stands_alone(line, m):
                w += 1.0
            scores[m.field] = scores.get(m.field, 0.0) + w
    return scores


def _title_type(found: TypeMatches, median: float, strict: bool = False) -> str | None:
    """The document type its title names: the tallest type keyword in the top 40% of page 1 (the topmost of
    equally tall ones; the longest of equally tall ones on a line).

    ``strict``: only a heading counts, a keyword taller than most text that stands (almost) alone in its segment
    of the line; not a column label ("PACKING SLIP  DATE OF ISSUE  CUSTOMER NO") nor a meta line merged with a large title."""
    best = None
    for line, matches in found:
        if line.page != 1 or line.bbox[1] > 400:
            continue
        if strict:
            matches = [m for m in matches if _match_height(line, m) >= HEADING_HEIGHT * median and _stands_alone(line, m)]
        if not matches:
            continue
        m = max(matches, key=lambda m: (round(_match_height(line, m), 1), m.end - m.start))
        key = (round(_match_height(line, m), 1), -line.bbox[1])
        if best is None or key > best[0]:
            best = (key, m.field)
    return best[1] if best else None


def _span_bbox(line: Line, start: int, end: int) -> BBox:
    idx = line.words_in_span(start, end)
    return union(line.words[i].bbox for i in idx) if idx else line.bbox


def build_context(doc: Document, vocab: Vocabulary) -> DocumentContext:
    lines = document_lines(doc)
    full_text = "\n".join(line.text for line in lines)
    likely = vocab.likely_languages(full_text)
    language = likely[0] if likely else None
    date_strings = [m.text for line in lines for m in normalize.find_dates(line.text)]
    date_order = normalize.infer_date_order(date_strings, language=language, vocabulary=vocab)
    currency, cur_conf = normalize.detect_currency(full_text, language=language, vocabulary=vocab)

    label_spans: dict[int, list] = {}
    for i, line in enumerate(lines):
        ms = _line_matches(vocab, line, likely)
        if ms:
            label_spans[i] = ms

    decimal_separator = normalize.infer_decimal_separator([m.group(0) for line in lines for m in _AMOUNT_RE.finditer(line.text)])
    candidates: list[Candidate] = []
    for i, line in enumerate(lines):
        claimed: list[tuple[int, int]] = [(m.start, m.end) for m, _ in label_spans.get(i, [])]
        # IBANs first, then dates: their digits must not also become amounts or ids
        after = lines[i + 1] if i + 1 < len(lines) and lines[i + 1].page == line.page else None
        for s, e, iban in find_ibans(line.text, vocabulary=vocab, continuation=after.text if after else None):
            cand = _make(lines, i, "id", iban, s, e)
            cand.features["iban"] = 1.0
            candidates.append(cand)
            claimed.append((s, e))
        # "VAT Reg. No. GB 349 7472 75", "ABN 91 108 015 838": a tax number printed in groups after its label
        for lm, kind in label_spans.get(i, []):
            g = _SPACED_TAX_ID.match(line.text, lm.end) if kind == "field" and lm.field == "vendor_tax_id" else None
            if g and not _overlaps(claimed[len(label_spans.get(i, [])):], g.start("id"), g.end("id")):
                candidates.append(_make(lines, i, "id", normalize.normalize_id(g.group("id")), g.start("id"), g.end("id")))
                claimed.append((g.start("id"), g.end("id")))
        for m in _SWISS_UID.finditer(line.text):  # "CHE-123.456.789 MWST": the suffix (a label too) belongs to it
            candidates.append(_make(lines, i, "id", normalize.normalize_id(m.group(0)), m.start(), m.end()))
            claimed.append((m.start(), m.end()))
        # "Datum: 23 november" and "2014" at the start of the next line: a date wrapped in its cell
        if after is not None and _YEAR_FIRST.match(after.text):
            joined = f"{line.text} {after.text[:4]}"
            for m in normalize.find_dates(joined, order=date_order):
                if m.value is not None and m.start < len(line.text) and m.end == len(joined) \
                        and not _overlaps(claimed, m.start, len(line.text)):
                    candidates.append(_make(lines, i, "date", m.value.isoformat(), m.start, len(line.text)))
                    claimed.append((m.start, len(line.text)))
        for m in normalize.find_dates(line.text, order=date_order):
            if m.value is None or _overlaps(claimed, m.start, m.end):
                continue
            candidates.append(_make(lines, i, "date", m.value.isoformat(), m.start, m.end))
            claimed.append((m.start, m.end))
        # "Rs.15,683.62": the dot of a currency's abbreviation is no decimal point of the amount after it (same
        # length, so the spans stay those of the line)
        amount_text = _CURRENCY_DOT.sub(lambda c: c.group(0)[:-1] + " ", line.text)
        for m in _AMOUNT_RE.finditer(amount_text):
            s, e = m.start(), m.end()
            if _overlaps(claimed, s, e) or _PERCENT_AFTER.match(line.text[e:]):
                continue
            raw = m.group(0).strip()
            if _LONG_DIGIT_RUN.search(raw):  # "Account No. 19510179096414", a customer's PO 4568829124: no amounts
                continue
            amount = normalize.parse_amount(raw, decimal_separator=decimal_separator)
            if amount is None:
                continue
            cand = _make(lines, i, "amount", normalize.format_amount(amount), s, e)
            cand.features["has_decimals"] = 1.0 if re.search(r"[.,]\d{2}\)?-?$", raw) else 0.0
            cand.features["has_currency"] = 1.0 if _currency_near(line.text, s, e, vocab) else 0.0
            candidates.append(cand)
        for m in _ID_RE.finditer(line.text):
            s, e = m.start(), m.end()
            token = m.group(0)
            if not _HAS_DIGIT.search(token) and "_" not in token:
                continue
            inner = s + len(token) - len(token.lstrip())  # "# 123" keeps its "#", a leading space does not count
            if len(normalize.normalize_id(token)) < 3 or any(inner >= a and e <= b for a, b in claimed):
                continue
            if _misread_legal_form(vocab, token):  # "V.0.F." is the legal form V.O.F. as OCR reads it, no number
                continue
            if s == 0 and _HOUSE_NUMBER.match(line.text):  # "160 Oak Street": a house number, no document's
                continue
            candidates.append(_make(lines, i, "id", normalize.normalize_id(token), s, e))
        labels_here = label_spans.get(i, [])
        for seg in split_segments(line):
            s0 = line.text.find(seg.text)
            pieces = [(s0, s0 + len(seg.text))]
            # "Sold by: Example Ltd" -> also the text after each label, up to the next label
            cuts = sorted({m.end for m, _ in labels_here if s0 <= m.start < s0 + len(seg.text)})
            starts = sorted({m.start for m, _ in labels_here})
            first_label = min([st for st in starts if s0 < st < s0 + len(seg.text)], default=None)
            if first_label is not None:  # "Example S.r.l. Coordinate bancarie: ..." -> also what comes before the label
                pieces.append((s0, first_label))
            wrapped = None  # a label's value that runs to the end of the line may go on at the start of the next
            seps = [s0 + m.start() for m in _PART_SEP.finditer(seg.text)]
            for cut in cuts:
                end = s0 + len(seg.text)
                pieces.append((cut, end))
                # "Terms: Binnen 7 dagen na factuurdatum | Currency: EUR": the value ends at the separator too
                sep = min([x for x in seps if x > cut] + [end])
                if sep < end:
                    pieces.append((cut, sep))
                nxt = min([st for st in starts if st >= cut] + [end])
                if nxt < end:
                    pieces.append((cut, nxt))
                elif end >= len(line.text.rstrip()) and wrapped is None:
                    wrapped = (cut, end, _wrapped_tail(lines, i, label_spans))
            # "Example GmbH · Mainstreet 4 · 12345 Town": each part alone too
            for m in _PART_SEP.finditer(seg.text):
                pieces += [(s0, s0 + m.start()), (s0 + m.end(), s0 + len(seg.text))]
            # a web address or e-mail beside a name ("Example B.V. www.example.com") is cut off, not the name
            for m in _WEBLIKE_TOKEN.finditer(seg.text):
                pieces += [(s0, s0 + m.start()), (s0 + m.end(), s0 + len(seg.text))]
            seen: set[tuple[int, int]] = set()
            for a, b in pieces:
                raw = line.text[a:b]
                text = raw.strip(" :;,-|#·•")
                if not _HAS_LETTER.search(text) or len(text) < 2 or len(text) > 80 or _WEBLIKE.search(text):
                    continue
                lead = len(raw) - len(raw.lstrip(" :;,-|#·•"))
                start = a + lead
                if (start, start + len(text)) in seen:
                    continue
                seen.add((start, start + len(text)))
                legal = legal_form_span(vocab, text)
                candidates.append(_name(lines, i, text, start, legal is not None))
                if wrapped is not None and wrapped[2] and (a, b) == wrapped[:2]:
                    whole = f"{text} {wrapped[2]}"
                    candidates.append(_name(lines, i, text, start, legal_form_span(vocab, whole) is not None, whole))
                # "Free SAS au capital de ...", "Example B.V. iov Client": the company ends with its legal form
                if legal is not None and legal[1] < len(text) and (start, start + legal[1]) not in seen:
                    seen.add((start, start + legal[1]))
                    cut = text[: legal[1]]
                    candidates.append(_name(lines, i, cut, start, legal_form_span(vocab, cut) is not None))

    found = [(line, vocab.match_doc_types(line.text)) for line in lines]
    median = _median_height(lines)
    ctx = DocumentContext(
        lines=lines,
        candidates=candidates,
        label_spans=label_spans,
        language=language,
        date_order=date_order,
        currency=currency,
        currency_confidence=cur_conf,
        doc_type_hits=_doc_type_scores(found, median),
        title_type=_title_type(found, median),
        heading_type=_title_type(found, median, strict=True),
    )
    ctx.decimals_seen = any(c.features.get("has_decimals") for c in candidates if c.kind == "amount")
    for c in candidates:
        _attach_labels(ctx, c)
    _add_features(ctx)
    return ctx


_LEGAL_SEARCH: dict[int, re.Pattern[str]] = {}
_LEGAL_KEYS: dict[int, dict[str, str]] = {}


def _legal_keys(vocab: Vocabulary) -> dict[str, str]:
    """Each legal-form spelling by its letters alone, case folded ("spzoo" -> "Sp. z o.o.")."""
    keys = _LEGAL_KEYS.get(id(vocab))
    if keys is None:
        keys = {re.sub(r"[\s.]", "", sp).casefold(): sp for lf in vocab.legal_forms for sp in lf.spellings}
        _LEGAL_KEYS[id(vocab)] = keys
    return keys


def mend_legal_form(vocab: Vocabulary, name: str) -> str:
    """A company name whose legal form OCR read with 0 for O ("Terel Techniek V.0.F.", "Example Sp. z 0.0."),
    with the form's letters put back as the vocabulary spells them; any other name as it is."""
    tokens = name.split()
    for k in (3, 2, 1):
        if len(tokens) <= k:
            continue
        suffix = " ".join(tokens[-k:])
        if "0" not in suffix:
            continue
        spelling = _legal_keys(vocab).get(re.sub(r"[\s.]", "", suffix).replace("0", "o").casefold())
        if spelling is None:
            continue
        letters = iter(ch for ch in spelling if ch not in " .")  # as many as the suffix has letters and digits
        mended = []
        for ch in suffix:
            if ch in " .":
                mended.append(ch)
            else:
                letter = next(letters)
                mended.append(letter if ch == "0" else ch)
        return " ".join([*tokens[:-k], "".join(mended)])
    return name


def _misread_legal_form(vocab: Vocabulary, token: str) -> bool:
    """A legal form whose O or I was read as 0 or 1 ("V.0.F.", "B.V.")."""
    return re.sub(r"[\s.#]", "", token).replace("0", "o").replace("1", "i").casefold() in _legal_keys(vocab)


def legal_form_span(vocab: Vocabulary, text: str) -> tuple[int, int] | None:
    """Where a legal-form suffix (GmbH, B.V., Ltd ...) stands in ``text``, anywhere on the line, or None.

    Unlike ``Vocabulary.find_legal_form`` (a name that ends with the form) this finds the form
    in a longer line such as "Example AG - Mainstreet 4 - 12345 Town".
    """
    pat = _LEGAL_SEARCH.get(id(vocab))
    if pat is None:
        spellings = {sp for lf in vocab.legal_forms for sp in lf.spellings}
        alts = [r"[\s.]*".join(re.escape(p) for p in re.split(r"[\s.]+", sp) if p) + r"\.?" for sp in spellings]
        # an acronym is also written with dots: SRL as S.r.l., SAS as S.A.S.
        alts += [r"\.".join(sp) + r"\." for sp in spellings if sp.isalpha() and sp.isupper() and 2 <= len(sp) <= 5]
        alts.sort(key=len, reverse=True)
        pat = re.compile(r"(?:(?<=[\s,(])|^)(?P<form>" + "|".join(alts) + r")(?=\s*(?:[),;|\-–]|\s|$))", re.IGNORECASE)
        _LEGAL_SEARCH[id(vocab)] = pat
    for m in pat.finditer(text):
        form = m.group("form")
        letters = [ch for ch in form if ch.isalpha()]
        if m.start("form") == 0 or not letters or letters[0].islower():
            continue  # "1.00 kg", "their company": running text, not a company
        if sum(ch.isalpha() for ch in text[: m.start("form")]) < 2:
            continue
        return m.start("form"), m.end("form")
    return None


_SLOGAN = re.compile(r"!|^(?:[^\W\d_]{3,}\.\s+){2,}[^\W\d_]{3,}\.?$")
_STREET_NUMBER = re.compile(r"[\s,]\d+[A-Za-z]?(?:[/-]\d+)?\.?$|^\d+,?\s+[^\W\d_]")  # "Viale Church, 35", "43 Linden Ave"


def is_slogan(text: str) -> bool:
    """A banner line rather than a party's name: "Now open on Saturdays!", "Fast. Reliable. Local." """
    return bool(_SLOGAN.search(text.strip()))


def is_label_text(ctx: DocumentContext, c: Candidate) -> bool:
    """The candidate's text is a label and nothing else ("Monnaie" heading a column): never a field's value."""
    return any(m.start <= c.start and m.end >= c.end for m, _ in ctx.label_spans.get(c.line, []))


def unlikely_terms(ctx: DocumentContext, c: Candidate) -> bool:
    """Not a payment-terms text: a label alone, a bare date ("31. März 2017"), or a text that runs on past a
    part separator into the next field ("14 dagen netto | Munteenheid: EUR")."""
    text = c.value.strip()
    if is_label_text(ctx, c) or _PART_SEP.search(text):
        return True
    found = normalize.find_dates(text)
    return any(m.value is not None and m.start == 0 and m.end >= len(text.rstrip(" .")) for m in found)


def own_label(c: Candidate) -> LabelHit | None:
    """The label a candidate stands under or after: the nearest on its line, else the nearest above it."""
    return min(c.left or c.above, key=lambda h: h.distance, default=None)


def under_credit_note_reference(ctx: DocumentContext, vocab: Vocabulary, value: str, page: int | None,
                                bbox: BBox | None) -> bool:
    """Whether the id printed at ``page``/``bbox`` stands under a po_number label that names a reference only
    ("Your Ref.", "Vs. riferimento"): on a credit note that is the invoice it corrects, not the buyer's order."""
    for c in ctx.candidates:
        if c.kind == "id" and c.page == page and c.value == value and tuple(c.bbox) == tuple(bbox or ()):
            near = own_label(c)
            return near is not None and near.field == "po_number" and vocab.is_credit_note_reference(near.phrase)
    return False


def item_rows(ctx: DocumentContext) -> frozenset[int]:
    """The lines that hold two amounts with decimals or more ("1,50 32,97 49,46"): item rows and totals, where no
    party's name stands.  House numbers and postcodes are whole numbers and do not count."""
    def make():
        counts: dict[int, int] = {}
        for c in ctx.candidates:
            if c.kind == "amount" and c.features.get("has_decimals"):
                counts[c.line] = counts.get(c.line, 0) + 1
        return frozenset(i for i, n in counts.items() if n >= 2)
    return ctx.memo("item_rows", make)


def not_a_party(ctx: DocumentContext, c: Candidate) -> bool:
    """A candidate that cannot be a vendor or customer: its text is ``unlikely_party``, or it stands on an item
    row."""
    return unlikely_party(c.value) or c.line in item_rows(ctx)


def unlikely_party(text: str) -> bool:
    """Not a vendor's or customer's name: a banner line, or a line that ends in a number as a street ("Viale
    Church, 35", "al. Oakowa 151/14") or a product line ("Cloud Storage 56137") does, or starts with a house
    number ("43 Linden Avenue"; "3M Company" is a name)."""
    return is_slogan(text) or bool(_STREET_NUMBER.search(text.strip()))


def _overlaps(spans, s, e) -> bool:
    return any(s < b and e > a for a, b in spans)


def _currency_near(text: str, s: int, e: int, vocab: Vocabulary) -> bool:
    window = text[max(0, s - 5) : s] + " " + text[e : e + 5]
    return bool(vocab.find_currency_mentions(window))


def _wrapped_tail(lines: list[Line], i: int, label_spans: dict) -> str | None:
    """The text that continues line ``i`` at the start of the next line when a narrow cell or a strip of
    "label: value | label: value" wraps ("Terms of payment: Net" / "14 days | Currency: EUR"): the next line's
    words up to its first separator or label, when that line stands right below, within this one's width
    (left-aligned or centred), and the piece is short."""
    if i + 1 >= len(lines):
        return None
    line, nxt = lines[i], lines[i + 1]
    if nxt.page != line.page or not 0 <= nxt.bbox[1] - line.bbox[3] < 0.8 * max(line.height, 1.0):
        return None
    slack = 2 * max(line.height, 1.0)
    if nxt.bbox[0] < line.bbox[0] - slack or nxt.bbox[2] > line.bbox[2] + slack:
        return None
    stop = min([m.start for m, _ in label_spans.get(i + 1, [])] + [len(nxt.text)])
    m = _WRAP_STOP.search(nxt.text, 0, stop)
    tail = nxt.text[: m.start() if m else stop].strip(" :;,-|#·•")
    return tail if tail and len(tail) <= 40 and _HAS_LETTER.search(tail) else None


_WRAP_STOP = re.compile(r"\s[|·•]\s|\s{3,}")


def _name(lines: list[Line], i: int, text: str, start: int, legal: bool, value: str | None = None) -> Candidate:
    """A name candidate for ``text`` on line ``i``; ``value`` when it goes on past the line (a wrapped value);
    ``features["legal"]`` says whether a legal form (GmbH, B.V. ...) stands in it."""
    cand = _make(lines, i, "name", value or text, start, start + len(text))
    if legal:
        cand.features["legal"] = 1.0
    return cand


def _make(lines: list[Line], i: int, kind: str, value: str, s: int, e: int) -> Candidate:
    line = lines[i]
    return Candidate(kind, value, line.text[s:e].strip(), line.page, i, _span_bbox(line, s, e), s, e)


def _attach_labels(ctx: DocumentContext, c: Candidate) -> None:
    line = ctx.lines[c.line]
    # "Invoice # 77", "Invoice No.123456": the label holds the "#" or "No." the id's span starts with
    raw = line.text[c.start : c.end]
    at = raw.rfind(c.value) if c.kind == "id" else -1
    core = c.start + (at if at >= 0 else len(raw) - len(raw.lstrip("#: ")))
    # same line, to the left: the nearest label wins, others are kept for context
    for m, kind in ctx.label_spans.get(c.line, []):
        if m.end <= core:
            lb = _span_bbox(line, m.start, m.end)
            gap_words = len(line.text[m.end : c.start].split())
            c.left.append(LabelHit(m.field, m.phrase, kind, "left", max(0.0, c.bbox[0] - lb[2]) + 40 * gap_words, lb))
    c.left.sort(key=lambda h: h.distance)
    # above, in the same column, within a few lines on the same page
    height = max(8.0, line.height)
    for j in range(c.line - 1, max(-1, c.line - 6), -1):
        up = ctx.lines[j]
        if up.page != line.page or c.bbox[1] - up.bbox[3] > 6 * height:
            break
        for m, kind in ctx.label_spans.get(j, []):
            lb = _span_bbox(up, m.start, m.end)
            if _in_column(lb, c.bbox):
                c.above.append(LabelHit(m.field, m.phrase, kind, "above", c.bbox[1] - lb[3], lb))
    c.above.sort(key=lambda h: h.distance)
    # "... | Re.-datum" ending the line above and the value starting this one: a label wrapped before its value.
    # Not where the line above is a row of column headings with one right over the value ("Gutschriftsnummer
    # Leistungszeitraum Auftragsbestätigung Nr" over "FS/2026/03/4044 ... 5347331"): that one is its label.
    if not c.left and not line.text[: c.start].strip() and c.line > 0:
        up = ctx.lines[c.line - 1]
        here = ctx.label_spans.get(c.line - 1, [])
        ends = [(m, kind) for m, kind in here if not up.text[m.end:].strip(" :")]
        if (ends and up.page == line.page and 0 <= c.bbox[1] - up.bbox[3] < 1.5 * height
                and not _heading_over(up, here, c.bbox)):
            m, kind = ends[-1]
            c.left.append(LabelHit(m.field, m.phrase, kind, "left", 40.0, _span_bbox(up, m.start, m.end)))


def _in_column(label: BBox, box: BBox) -> bool:
    """A label stands in the column of a value below it: they overlap, or the value starts under the label."""
    return x_overlap(label, box) > 0.3 or label[0] - 15 <= box[0] <= label[2] + 5


def _heading_over(up: Line, spans: list, box: BBox) -> bool:
    """Some label of line ``up`` is a column heading (no value after it before the next label) over ``box``."""
    spans = sorted(spans, key=lambda mk: mk[0].start)
    nexts = [m.start for m, _ in spans[1:]] + [len(up.text)]
    return any(not up.text[m.end : n].strip(" :|") and _in_column(_span_bbox(up, m.start, m.end), box)
               for (m, _), n in zip(spans, nexts, strict=True))


def _add_features(ctx: DocumentContext) -> None:
    amounts = [c for c in ctx.candidates if c.kind == "amount"]
    values = sorted({Decimal(c.value) for c in amounts}, reverse=True)
    n_pages = max((c.page for c in ctx.candidates), default=1)
    for c in ctx.candidates:
        f = c.features
        f["x"] = c.bbox[0] / 1000
        f["y"] = c.bbox[1] / 1000
        f["last_page"] = 1.0 if c.page == n_pages else 0.0
        f["first_page"] = 1.0 if c.page == 1 else 0.0
        f["line_height"] = ctx.lines[c.line].height / 100
        if c.kind == "amount" and values:
            rank = values.index(Decimal(c.value))
            f["amount_rank"] = min(rank, 10) / 10
            f["is_max_amount"] = 1.0 if rank == 0 else 0.0
            same = sum(1 for a in amounts if a.value == c.value)
            f["repeats"] = min(same, 5) / 5
