"""Score extraction results against ground truth: per-field precision, recall, F1 and micro F1.

Ground truth is one JSON per document in the canonical keys (``invoice_number``,
``total_amount`` ...), optionally with ``<field>_alternatives`` listing other accepted
values and ``document_type``.  Predictions are the engine's ``<stem>.json`` files.
Values are compared normalised: dates as ISO, amounts to two decimals, names case-,
space- and punctuation-folded, ids without spaces and a leading '#'.

Only the fields that a ground-truth file names are scored for that document (dev
sets are labelled partially).  A wrong value counts as a false positive and a false
negative; a missing one as a false negative; an extra field the truth does not name
is not scored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from . import normalize
from .schema import HEADER_FIELDS, field_kind


def canonical(name: str, value) -> str | None:
    """The comparable form of a field value."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    kind = field_kind(name)
    if kind == "amount":
        try:
            return str(Decimal(text).quantize(Decimal("0.01")))
        except InvalidOperation:
            parsed = normalize.parse_amount(text)
            return normalize.format_amount(parsed) if parsed is not None else text
    if kind == "date":
        d = normalize.parse_date(text, order="YMD") if len(text) == 10 and text[4] == "-" else normalize.parse_date(text)
        return d.isoformat() if d else text
    if kind == "id":
        return normalize.normalize_id(text).casefold()
    if kind == "currency":
        return text.upper()
    if name == "vendor_address":  # lines joined by commas, dots or nothing: the same address
        return re.sub(r"[\s,;·|•]+", " ", normalize.fold_name(text)).strip()
    return normalize.fold_name(text)


@dataclass
class FieldScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Report:
    fields: dict[str, FieldScore] = field(default_factory=dict)
    documents: int = 0
    missing_predictions: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # one entry per wrong or missing value
    doc_type_total: int = 0
    doc_type_correct: int = 0

    @property
    def micro(self) -> FieldScore:
        total = FieldScore()
        for s in self.fields.values():
            total.tp += s.tp
            total.fp += s.fp
            total.fn += s.fn
        return total

    def to_dict(self) -> dict:
        m = self.micro
        out = {
            "documents": self.documents,
            "micro": {"precision": m.precision, "recall": m.recall, "f1": m.f1, "tp": m.tp, "fp": m.fp, "fn": m.fn},
            "fields": {
                k: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "tp": s.tp, "fp": s.fp, "fn": s.fn}
                for k, s in sorted(self.fields.items())
            },
            "missing_predictions": self.missing_predictions,
            "errors": self.errors,
        }
        if self.doc_type_total:
            out["document_type_accuracy"] = self.doc_type_correct / self.doc_type_total
        return out

    def table(self) -> str:
        rows = [f"{'field':<18} {'prec':>6} {'recall':>6} {'f1':>6} {'tp':>4} {'fp':>4} {'fn':>4}"]
        for k, s in sorted(self.fields.items()):
            rows.append(f"{k:<18} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f} {s.tp:4d} {s.fp:4d} {s.fn:4d}")
        m = self.micro
        rows.append(f"{'MICRO':<18} {m.precision:6.3f} {m.recall:6.3f} {m.f1:6.3f} {m.tp:4d} {m.fp:4d} {m.fn:4d}")
        if self.doc_type_total:
            rows.append(f"document type accuracy {self.doc_type_correct}/{self.doc_type_total}")
        rows.append(f"documents: {self.documents}")
        return "\n".join(rows)


def score_document(truth: dict, predicted: dict[str, str | None], report: Report, name: str = "",
                   complete: bool = False) -> None:
    """Add one document's fields to the report.  ``complete``: the truth names every field the document
    holds (generated documents), so a predicted field the truth lacks is a false positive."""
    if complete:
        for key, got in predicted.items():
            if key in HEADER_FIELDS and got not in (None, "") and truth.get(key) in (None, ""):
                report.fields.setdefault(key, FieldScore()).fp += 1
                report.errors.append({"document": name, "field": key, "expected": None, "got": got})
    for key, expected in truth.items():
        if key not in HEADER_FIELDS or expected in (None, ""):
            continue
        accepted = {canonical(key, expected)}
        accepted |= {canonical(key, alt) for alt in truth.get(f"{key}_alternatives", []) or []}
        got = canonical(key, predicted.get(key))
        s = report.fields.setdefault(key, FieldScore())
        if got is None:
            s.fn += 1
            report.errors.append({"document": name, "field": key, "expected": expected, "got": None})
        elif got in accepted:
            s.tp += 1
        else:
            s.fp += 1
            s.fn += 1
            report.errors.append({"document": name, "field": key, "expected": expected, "got": predicted.get(key)})


def predicted_values(result: dict) -> dict[str, str | None]:
    """Field values from an engine result JSON (``fields: {name: {value: ...}}``) or a flat dict."""
    fields = result.get("fields")
    if isinstance(fields, dict):
        return {k: (v.get("value") if isinstance(v, dict) else v) for k, v in fields.items()}
    return {k: v for k, v in result.items() if k in HEADER_FIELDS}


def evaluate_dirs(gt_dir: str | Path, pred_dir: str | Path) -> Report:
    gt_dir, pred_dir = Path(gt_dir), Path(pred_dir)
    if not gt_dir.is_dir():
        raise FileNotFoundError(f"ground-truth folder {gt_dir} does not exist")
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"prediction folder {pred_dir} does not exist; run `invoicebot extract ... --out {pred_dir}` first")
    report = Report()
    truths = sorted(gt_dir.glob("*.json"))
    if not truths:
        raise FileNotFoundError(f"no ground-truth *.json files in {gt_dir}")
    for gt_file in truths:
        truth = json.loads(gt_file.read_text(encoding="utf-8"))
        pred_file = pred_dir / gt_file.name
        report.documents += 1
        if pred_file.exists():
            result = json.loads(pred_file.read_text(encoding="utf-8"))
        else:
            report.missing_predictions.append(gt_file.stem)
            result = {}
        score_document(truth, predicted_values(result), report, gt_file.stem)
        if "document_type" in truth:
            report.doc_type_total += 1
            report.doc_type_correct += int(result.get("document_type") == truth["document_type"])
    return report
