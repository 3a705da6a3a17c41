"""The canonical invoice schema and the plain data that flows between the stages.

This module is the one source of truth for field names, document types and the
shape of the data (see docs/architecture.md).  Every stage takes and returns these
dataclasses; each one turns into JSON with ``to_dict`` and back with ``from_dict``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

#: Header fields of the canonical invoice record, in display order.
HEADER_FIELDS: tuple[str, ...] = (
    "vendor_name",
    "vendor_address",
    "vendor_tax_id",
    "customer_name",
    "invoice_number",
    "invoice_date",
    "due_date",
    "po_number",
    "payment_terms",
    "currency",
    "subtotal_amount",
    "tax_amount",
    "total_amount",
    "amount_due",
    "quarter_to_date",
    "year_to_date",
    "iban",
)

#: Fields of one line item.
LINE_ITEM_FIELDS: tuple[str, ...] = ("description", "quantity", "unit_price", "amount")

#: Which header fields hold which kind of value (drives normalisation and scoring).
DATE_FIELDS: frozenset[str] = frozenset({"invoice_date", "due_date"})
AMOUNT_FIELDS: frozenset[str] = frozenset(
    {"subtotal_amount", "tax_amount", "total_amount", "amount_due", "quarter_to_date", "year_to_date"}
)
ID_FIELDS: frozenset[str] = frozenset({"invoice_number", "po_number", "vendor_tax_id", "iban"})
NAME_FIELDS: frozenset[str] = frozenset({"vendor_name", "customer_name"})
TEXT_FIELDS: frozenset[str] = frozenset({"vendor_address", "payment_terms"})

#: Document types the classifier tells apart.
DOCUMENT_TYPES: tuple[str, ...] = (
    "invoice",
    "credit_note",
    "purchase_order",
    "receipt",
    "remittance_advice",
    "statement",
    "other",
)

#: Document types whose fields are extracted as an invoice (a receipt is a paid invoice).
INVOICE_LIKE_TYPES: frozenset[str] = frozenset({"invoice", "credit_note", "receipt"})

#: Which header fields a document of each type carries.  On a purchase order or a remittance advice the
#: issuer is the buyer or payer, so there is no vendor, invoice number or invoice date to read; a statement
#: lists what a vendor's customer owes; "other" (letters, newsletters) has no invoice fields at all.  The
#: extractor leaves out the fields a confidently classified document does not carry, and the synthetic
#: corpus labels exactly these.
FIELDS_BY_DOCUMENT_TYPE: dict[str, frozenset[str]] = {
    **{t: frozenset(HEADER_FIELDS) for t in INVOICE_LIKE_TYPES},
    "statement": frozenset({"vendor_name", "vendor_address", "vendor_tax_id", "customer_name", "currency", "amount_due",
                            "quarter_to_date", "year_to_date", "iban"}),
    "purchase_order": frozenset({"po_number", "currency", "subtotal_amount", "tax_amount", "total_amount"}),
    "remittance_advice": frozenset({"currency", "total_amount"}),
    "other": frozenset(),
}


def field_kind(name: str) -> str:
    """Return ``date``, ``amount``, ``id``, ``name``, ``currency`` or ``text`` for a header field."""
    if name in DATE_FIELDS:
        return "date"
    if name in AMOUNT_FIELDS:
        return "amount"
    if name in ID_FIELDS:
        return "id"
    if name in NAME_FIELDS:
        return "name"
    if name == "currency":
        return "currency"
    if name in TEXT_FIELDS:
        return "text"
    raise KeyError(f"unknown canonical field {name!r}; known: {', '.join(HEADER_FIELDS)}")


BBox = tuple[float, float, float, float]


@dataclass
class Word:
    """One word on a page; the box is ``(x0, y0, x1, y1)`` normalised to 0..1000 of the page."""

    text: str
    bbox: BBox
    page: int  # 1-based
    source: str = "text"  # "text" (PDF text layer) or "ocr"
    confidence: float = 1.0  # OCR confidence 0..1; 1.0 for the text layer
    line: int = -1  # index of the line on its page, set by the reader (-1: unknown)
    block: int = -1  # index of the block (paragraph) on its page, -1: unknown


@dataclass
class Page:
    number: int  # 1-based
    width: float  # in points (PDF) or pixels (image)
    height: float
    source: str  # "text" or "ocr"
    words: list[Word] = field(default_factory=list)
    rotation: int = 0  # degrees (counter-clockwise) the page was turned to make it upright
    seconds: float = 0.0  # time spent reading this page


@dataclass
class Document:
    path: str
    media_type: str  # "application/pdf", "image/png", ...
    pages: list[Page] = field(default_factory=list)
    sha256: str = ""

    def __repr__(self) -> str:
        # what Robot logs of a Document (TRACE: arguments and return values): never its words, which hold IBANs
        return (f"Document(path={self.path!r}, media_type={self.media_type!r}, pages={len(self.pages)}, "
                f"words={sum(len(p.words) for p in self.pages)}, sha256={self.sha256[:12]!r})")

    @property
    def words(self) -> list[Word]:
        return [w for p in self.pages for w in p.words]

    @property
    def text(self) -> str:
        """Plain text, one line of words per reader line, pages separated by form feeds."""
        out = []
        for page in self.pages:
            lines: dict[int, list[Word]] = {}
            for w in page.words:
                lines.setdefault(w.line, []).append(w)
            out.append("\n".join(" ".join(w.text for w in ws) for _, ws in sorted(lines.items())))
        return "\f".join(out)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        pages = []
        for p in data.get("pages", []):
            words = [Word(**{**w, "bbox": tuple(w["bbox"])}) for w in p.get("words", [])]
            pages.append(Page(**{**p, "words": words}))
        return cls(path=data["path"], media_type=data["media_type"], pages=pages, sha256=data.get("sha256", ""))


@dataclass
class ExtractedField:
    """One extracted value in canonical form, with where it was found and how sure we are."""

    value: str | None
    confidence: float
    page: int | None = None
    bbox: BBox | None = None
    raw: str | None = None  # the text on the page it was read from
    source: str = "rules"  # "rules", "model", "derived", "review"


@dataclass
class LineItem:
    description: str | None = None
    quantity: str | None = None
    unit_price: str | None = None
    amount: str | None = None
    page: int | None = None
    bbox: BBox | None = None


@dataclass
class ValidationIssue:
    code: str  # e.g. SUM_MISMATCH, DUE_BEFORE_INVOICE, FUTURE_DATE, BAD_IBAN, MISSING_FIELD
    message: str
    fields: list[str] = field(default_factory=list)
    severity: str = "error"  # "error" or "warning"


@dataclass
class ExtractionResult:
    """What the engine says about one document: the record the rest of the robot acts on."""

    document: str
    sha256: str = ""
    document_type: str | None = None
    document_type_confidence: float = 0.0
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    line_items: list[LineItem] = field(default_factory=list)
    issues: list[ValidationIssue] = field(default_factory=list)
    error: dict[str, str] | None = None  # {"code": ..., "message": ...} when the document could not be read
    pages: int = 0
    seconds: float = 0.0
    extractor: str = "rules"

    @property
    def ok(self) -> bool:
        return self.error is None

    def value(self, name: str) -> str | None:
        f = self.fields.get(name)
        return f.value if f else None

    def values(self) -> dict[str, str | None]:
        return {k: f.value for k, f in self.fields.items()}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExtractionResult:
        def box(b):
            return tuple(b) if b is not None else None

        fields = {k: ExtractedField(**{**v, "bbox": box(v.get("bbox"))}) for k, v in data.get("fields", {}).items()}
        for name in fields:
            if name not in HEADER_FIELDS:
                raise ValueError(f"unknown field {name!r} in extraction result for {data.get('document')}")
        items = [LineItem(**{**li, "bbox": box(li.get("bbox"))}) for li in data.get("line_items", [])]
        issues = [ValidationIssue(**i) for i in data.get("issues", [])]
        rest = {k: v for k, v in data.items() if k not in ("fields", "line_items", "issues")}
        return cls(**rest, fields=fields, line_items=items, issues=issues)
