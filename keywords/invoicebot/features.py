"""Turn a document's candidates into model inputs: context strings and numeric features.

Shared by training and prediction (no torch here).  For every candidate the model
reads three short texts with the pretrained encoder (what stands to its left on the
line, the column header above it, its own text segment) and a vector of layout,
shape and vocabulary features, including what the rules think of it.  The strings
of one document are de-duplicated, so each is encoded once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from decimal import Decimal

from . import rules
from .candidates import Candidate, DocumentContext
from .schema import DOCUMENT_TYPES, HEADER_FIELDS, field_kind

#: Fields the candidate ranker predicts (currency comes from the document-wide currency evidence).
MODEL_FIELDS: tuple[str, ...] = tuple(f for f in HEADER_FIELDS if f != "currency")
NONE = "none"
CLASSES: tuple[str, ...] = (*MODEL_FIELDS, NONE)
KIND_OF_FIELD = {f: rules.FIELD_KIND_TO_CANDIDATE[field_kind(f)] for f in MODEL_FIELDS}
KINDS = ("date", "amount", "id", "name")
LABEL_KEYS: tuple[str, ...] = (*HEADER_FIELDS, "other")

_DIGIT = re.compile(r"\d")
LEFT_WORDS = 5
_MASK_DIGITS = re.compile(r"\d")


def class_mask(kind: str) -> list[bool]:
    """Which output classes a candidate of this kind may take."""
    return [KIND_OF_FIELD.get(c) == kind or c == NONE for c in CLASSES]


@dataclass
class DocFeatures:
    strings: list[str] = field(default_factory=list)
    cand_strings: list[tuple[int, int, int]] = field(default_factory=list)  # (left, above, self) string ids
    cand_feats: list[list[float]] = field(default_factory=list)
    cand_kinds: list[int] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    doc_strings: list[int] = field(default_factory=list)  # string ids read by the document classifier
    doc_feats: list[float] = field(default_factory=list)
    rule_fields: dict = field(default_factory=dict)  # what the rules extracted (features and fill-in share it)


class _Strings:
    def __init__(self):
        self.index: dict[str, int] = {"": 0}
        self.items: list[str] = [""]

    def add(self, s: str) -> int:
        s = " ".join(s.split())[:120]
        i = self.index.get(s)
        if i is None:
            i = self.index[s] = len(self.items)
            self.items.append(s)
        return i


def _mask(text: str) -> str:
    return _MASK_DIGITS.sub("0", text)


def _left_text(ctx: DocumentContext, c: Candidate) -> str:
    """The last few words before the candidate on its line (digits masked: the words matter, not the numbers)."""
    line = ctx.lines[c.line]
    return " ".join(_mask(line.text[: c.start]).split()[-LEFT_WORDS:])


def _above_text(ctx: DocumentContext, c: Candidate) -> str:
    if c.above:
        return c.above[0].phrase
    # the nearest line above whose words stand over the candidate
    line = ctx.lines[c.line]
    for j in range(c.line - 1, max(-1, c.line - 3), -1):
        up = ctx.lines[j]
        if up.page != line.page:
            break
        words = [w.text for w in up.words if w.bbox[2] >= c.bbox[0] - 10 and w.bbox[0] <= c.bbox[2] + 10]
        if words:
            return " ".join(_mask(" ".join(words)).split()[:LEFT_WORDS])
    return ""


def _self_text(ctx: DocumentContext, c: Candidate) -> str:
    """A name is read for what it says; a date, amount or id is described by the shape features instead."""
    return c.value if c.kind == "name" else ""


def numeric_features(ctx: DocumentContext, c: Candidate, rule_picks: dict[str, int], vocab) -> list[float]:
    f = c.features
    out = [1.0 if c.kind == k else 0.0 for k in KINDS]
    out += [f.get("x", 0), f.get("y", 0), c.bbox[2] / 1000, c.bbox[3] / 1000, f.get("first_page", 0), f.get("last_page", 0)]
    heights = ctx.memo("median_height", lambda: _median_height(ctx))
    out.append(min(3.0, ctx.lines[c.line].height / max(1e-6, heights)))
    # amounts
    out += [f.get("amount_rank", 0), f.get("is_max_amount", 0), f.get("repeats", 0), f.get("has_decimals", 0),
            f.get("has_currency", 0)]
    if c.kind == "amount":
        v = Decimal(c.value)
        out += [1.0 if v < 0 else 0.0, 1.0 if v == 0 else 0.0, math.log10(1 + abs(float(v))) / 6]
    else:
        out += [0.0, 0.0, 0.0]
    # ids and names: shape
    digits = len(_DIGIT.findall(c.value))
    out += [min(digits, 20) / 20, min(len(c.value), 40) / 40, 1.0 if any(ch.isalpha() for ch in c.value) else 0.0,
            1.0 if c.value.isupper() else 0.0, min(len(c.value.split()), 10) / 10]
    out.append(c.features.get("legal", 0.0))  # set on name candidates only (candidates.py)
    out.append(1.0 if c.kind == "name" and _mid_phrase(ctx, c) else 0.0)
    # a name spelled in the document's e-mail or web domain, and how often the same name is printed
    out.append(1.0 if c.kind == "name" and rules.matches_domain(c.value, rules.document_domains(ctx)) else 0.0)
    out.append(min(3, rules.name_mentions(ctx, c.value) - 1) / 3 if c.kind == "name" else 0.0)
    out.append(1.0 if rules.is_item_row(c.line, ctx) else 0.0)  # a line-item row: its name is a product, its amounts per line
    first_letter = next((ch for ch in c.value if ch.isalpha()), "")
    out.append(1.0 if c.kind == "name" and first_letter.islower() else 0.0)  # running text, not a name
    # labels around: nearest left and above label fields (one-hot) and their distances
    for hits in (rules._nearest(c.left), rules._nearest(c.above)):
        vec = [0.0] * len(LABEL_KEYS)
        for h in hits:
            key = "other" if h.kind == "other" else h.field
            vec[LABEL_KEYS.index(key)] = 1.0
        out += vec
        out.append(min(1.0, hits[0].distance / 500) if hits else 1.0)
    # what the rules think: label score per field, and whether the rules picked this candidate
    for fname in MODEL_FIELDS:
        if KIND_OF_FIELD[fname] == c.kind:
            s, _ = rules.label_score(c, fname, ctx)
            out.append(s)
            out.append(1.0 if rule_picks.get(fname) == id(c) else 0.0)
        else:
            out += [0.0, 0.0]
    return out


def _mid_phrase(ctx: DocumentContext, c: Candidate) -> bool:
    """Whether the candidate starts inside a phrase: a capitalised word, one space, then the candidate.

    The candidate generator cuts lines at labels, so "Example Web Services, Inc." also yields
    "Services, Inc." (cut at the label "Web"); this tells such a piece from a name after "by", ":" or a gap.
    """
    line = ctx.lines[c.line]
    before = [w for w in line.words if w.bbox[2] <= c.bbox[0] + 1]
    if not before or not line.text[: c.start].endswith(" "):
        return False
    prev = max(before, key=lambda w: w.bbox[2])
    near = c.bbox[0] - prev.bbox[2] < max(4.0, 0.8 * line.height)  # one space, not a column gap
    return near and prev.text[:1].isupper() and prev.text[-1:].isalnum()


def _median_height(ctx: DocumentContext) -> float:
    hs = sorted(line.height for line in ctx.lines) or [1.0]
    return hs[len(hs) // 2] or 1.0


def _rule_picks(ctx: DocumentContext, fields: dict) -> dict[str, int]:
    """id() of the candidate the rules chose for each field (matched by page, box and value)."""
    picks: dict[str, int] = {}
    for name, ef in fields.items():
        if ef.bbox is None:
            continue
        for c in ctx.candidates:
            if c.page == ef.page and c.bbox == ef.bbox:
                picks[name] = id(c)
                break
    return picks


def keep_candidate(ctx: DocumentContext, c: Candidate) -> bool:
    """Candidates worth scoring: every date, amount and id; names only where vendors and customers stand."""
    if c.kind != "name":
        return True
    if c.left or c.above:
        return True
    y = c.bbox[1]
    return c.page == 1 and y < 400 or y > 800 or c.features.get("legal", 0) > 0


def featurize(ctx: DocumentContext, vocab) -> DocFeatures:
    out = DocFeatures()
    strings = _Strings()
    out.rule_fields = rules.extract_fields(ctx, vocab)
    picks = _rule_picks(ctx, out.rule_fields)
    for c in ctx.candidates:
        if not keep_candidate(ctx, c):
            continue
        out.candidates.append(c)
        out.cand_strings.append((strings.add(_left_text(ctx, c)), strings.add(_above_text(ctx, c)), strings.add(_self_text(ctx, c))))
        out.cand_feats.append(numeric_features(ctx, c, picks, vocab))
        out.cand_kinds.append(KINDS.index(c.kind))
    # the document classifier reads the first lines of the first page and the largest lines
    first = [line for line in ctx.lines if line.page == 1][:12]
    big = sorted(ctx.lines, key=lambda line: -line.height)[:4]
    for line in first + big:
        out.doc_strings.append(strings.add(line.text[:80]))
    hits = ctx.doc_type_hits
    total = sum(hits.values()) or 1.0
    out.doc_feats = [hits.get(t, 0.0) / total for t in DOCUMENT_TYPES] + [min(1.0, total / 10)]
    out.doc_feats += [1.0 if ctx.title_type == t else 0.0 for t in DOCUMENT_TYPES]  # what the title says
    out.strings = strings.items
    return out


N_CAND_FEATS = 4 + 6 + 1 + 5 + 3 + 5 + 1 + 1 + 4 + 2 * (len(LABEL_KEYS) + 1) + 2 * len(MODEL_FIELDS)
N_DOC_FEATS = 2 * len(DOCUMENT_TYPES) + 1
