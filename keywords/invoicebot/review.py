"""The review route: decide what needs a person, package it for them, take their corrections back.

``decide`` turns an extraction result into one of three ends (done, review, failed) with a
code and a reason.  ``write_review_package`` puts what a person needs into one folder:

| ``<document>``       | a copy of the attachment |
| ``extraction.json``  | what the engine read (``ExtractionResult.to_dict``), sensitive values masked |
| ``document.json``    | the words with their boxes, when the document could be read, sensitive words masked |
| ``page-N.png``       | each page with every field's box drawn and its confidence |
| ``index.html``       | the page a reviewer opens |
| ``corrections.json`` | the file the reviewer edits: fix values, set ``"status": "corrected"`` |

The package lands in the robot's output folder, which a Control Room uploads as artifacts: the
IBAN, the tax ids and the vendor's address (``masking.SENSITIVE_FIELDS``) are masked in every text
file of it.  Their real values, and the real words, are kept outside it in the review vault,
``<state dir>/review-vault/<item>-<hash>.json`` (``INVOICEBOT_STATE_DIR``, default ``var/state``;
file mode 0600), named in corrections.json's ``vault``.

``import_corrections`` reads corrected packages back, restores each masked value the reviewer
left as it was from the vault (a value they typed is taken as typed), checks them against the
canonical schema and keeps each one as a labelled example (the document's words + the corrected
values) in the corrections store, ``data/corrections/<sha256>.json`` by default.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from .config import PROJECT_ROOT
from .errors import InvoiceBotError
from .masking import SENSITIVE_FIELDS, mask_data, mask_text, mask_token
from .schema import (
    AMOUNT_FIELDS,
    DATE_FIELDS,
    DOCUMENT_TYPES,
    HEADER_FIELDS,
    INVOICE_LIKE_TYPES,
    LINE_ITEM_FIELDS,
    Document,
    ExtractionResult,
)

#: Fields an invoice must have to be keyed without a person looking at it (overridable per call).
DEFAULT_REQUIRED: tuple[str, ...] = ("vendor_name", "invoice_number", "invoice_date", "total_amount")
DEFAULT_MIN_CONFIDENCE = 0.80
#: Pages drawn into a review package (a longer document shows its first pages only).
MAX_REVIEW_PAGES = 10
PACKAGE_STATUSES = ("pending", "corrected", "rejected")


class CorrectionInvalid(InvoiceBotError):
    """A reviewer's corrections.json does not fit the canonical schema."""

    code = "CORRECTION_INVALID"

    def __init__(self, problems: list[str], *, path: str | None = None):
        self.problems = problems
        head = f"{len(problems)} problem(s) in review corrections"
        super().__init__(head + ":\n- " + "\n- ".join(problems) +
                         "\nFix these values in corrections.json and import again; nothing was stored.", path=path)


class ReviewPackageError(InvoiceBotError):
    """A review package folder is missing or incomplete."""

    code = "REVIEW_PACKAGE"


def _retryable_codes() -> frozenset[str]:
    codes: set[str] = set()
    todo: list[type[InvoiceBotError]] = [InvoiceBotError]
    while todo:
        cls = todo.pop()
        if cls.retryable:
            codes.add(cls.code)
        todo.extend(cls.__subclasses__())
    return frozenset(codes)


# ---------------------------------------------------------------------------------------------- decide


@dataclass
class Decision:
    """Where one attachment goes and why."""

    decision: str  # done | review | failed
    code: str = ""  # LOW_CONFIDENCE, INVALID, NOT_AN_INVOICE, DUPLICATE, or the reader's error code
    reason: str = ""
    exception_type: str = ""  # "" for done, BUSINESS (a person must act) or APPLICATION (a retry may fix it)
    fields: list[str] = field(default_factory=list)  # the fields the reason is about

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def low_fields(result: ExtractionResult, required: Iterable[str], min_confidence: float) -> tuple[list[str], list[str]]:
    """Return (missing, low): required fields without a value, and fields below ``min_confidence``."""
    missing, low = [], []
    for name in required:
        f = result.fields.get(name)
        if f is None or f.value in (None, ""):
            missing.append(name)
        elif f.confidence < min_confidence:
            low.append(name)
    return missing, low


def parse_required(required: str | Iterable[str] | None) -> list[str]:
    """Turn ``"a, b"`` or a list into a checked list of canonical field names."""
    if required is None:
        return list(DEFAULT_REQUIRED)
    names = [s.strip() for s in re.split(r"[,\s]+", required)] if isinstance(required, str) else list(required)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in HEADER_FIELDS]
    if unknown:
        raise ValueError(f"unknown field(s) {', '.join(unknown)} in required=; known fields: {', '.join(HEADER_FIELDS)}")
    return names


def decide(result: ExtractionResult, *, required: Iterable[str] = DEFAULT_REQUIRED,
           min_confidence: float = DEFAULT_MIN_CONFIDENCE, invoice_types: Iterable[str] = INVOICE_LIKE_TYPES,
           duplicate: dict[str, Any] | None = None) -> Decision:
    """Decide done / review / failed for one extraction result.

    Order: unreadable document, not an invoice, duplicate, missing or unsure fields (or an unsure document
    type: a purchase order taken for an invoice must not be keyed), failed checks.
    """
    if result.error:
        code = result.error.get("code", "ERROR")
        msg = result.error.get("message", "the document could not be read")
        if code in _retryable_codes():
            return Decision("failed", code, f"{msg} (a retry may succeed once the cause is fixed)", "APPLICATION")
        return Decision("failed", code, f"{msg} — a person must look at the original mail", "BUSINESS")
    types = set(invoice_types)
    if result.document_type not in types:
        return Decision("review", "NOT_AN_INVOICE",
                        f"classified as {result.document_type or 'unknown'} "
                        f"(confidence {result.document_type_confidence:.2f}), not one of {', '.join(sorted(types))}",
                        "BUSINESS")
    if duplicate:
        first = duplicate.get("item_key") or "an earlier item"
        return Decision("review", "DUPLICATE",
                        f"already received as {first} ({duplicate.get('match', 'same document')}); not keyed twice",
                        "BUSINESS")
    missing, low = low_fields(result, required, min_confidence)
    type_unsure = result.document_type_confidence < min_confidence
    if missing or low or type_unsure:
        parts = []
        if type_unsure:
            parts.append(f"document type {result.document_type} only {result.document_type_confidence:.2f} sure")
        if missing:
            parts.append("missing: " + ", ".join(missing))
        if low:
            parts.append(f"below {min_confidence:.2f}: " +
                         ", ".join(f"{n} ({result.fields[n].confidence:.2f})" for n in low))
        return Decision("review", "LOW_CONFIDENCE", "; ".join(parts), "BUSINESS",
                        missing + low + (["document_type"] if type_unsure else []))
    errors = [i for i in result.issues if i.severity == "error"]
    if errors:
        names = sorted({n for i in errors for n in i.fields})
        return Decision("review", "INVALID", "; ".join(f"{i.code}: {i.message}" for i in errors), "BUSINESS", names)
    return Decision("done", "", f"{result.document_type} with all required fields at or above {min_confidence:.2f}")


# ------------------------------------------------------------------------------------------- packages


def safe_name(text: str, limit: int = 80) -> str:
    """A folder/file name made of ``text``: letters, digits, dot, dash, underscore."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._") or "item"
    return s[:limit]


def render_pages(path: str | os.PathLike[str], max_pages: int = MAX_REVIEW_PAGES, width: int = 1100):
    """Yield (page_number, PIL image) for a PDF or an image file; nothing for other files."""
    from PIL import Image, ImageSequence

    p = Path(path)
    with open(p, "rb") as fh:
        head = fh.read(5)
    if head.startswith(b"%PDF"):
        import pypdfium2 as pdfium

        pdf = pdfium.PdfDocument(str(p))
        try:
            for i in range(min(len(pdf), max_pages)):
                page = pdf[i]
                scale = width / max(page.get_width(), 1)
                yield i + 1, page.render(scale=scale).to_pil().convert("RGB")
        finally:
            pdf.close()
        return
    with Image.open(p) as im:
        for i, frame in enumerate(ImageSequence.Iterator(im)):
            if i >= max_pages:
                break
            img = frame.convert("RGB")
            if img.width > width:
                img = img.resize((width, max(1, round(img.height * width / img.width))))
            yield i + 1, img


def draw_fields(img, result: ExtractionResult, page: int, rotation: int = 0):
    """Draw each field found on ``page`` as a box with its name and confidence; return the image."""
    from PIL import ImageDraw, ImageFont

    try:
        font = ImageFont.load_default(size=15)
    except TypeError:  # Pillow < 10.1 has one bitmap size
        font = ImageFont.load_default()
    if rotation:
        img = img.rotate(-rotation, expand=True)
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for name, f in result.fields.items():
        if f.page != page or not f.bbox:
            continue
        x0, y0, x1, y1 = (f.bbox[0] * w / 1000, f.bbox[1] * h / 1000, f.bbox[2] * w / 1000, f.bbox[3] * h / 1000)
        colour = (0, 150, 60) if f.confidence >= DEFAULT_MIN_CONFIDENCE else (220, 120, 0)
        draw.rectangle((x0 - 2, y0 - 2, x1 + 2, y1 + 2), outline=colour, width=3)
        draw.text((x0, max(0, y0 - 17)), f"{name} {f.confidence:.2f}", fill=colour, font=font)
    return img


def default_vault_dir() -> Path:
    """Where the real values of masked fields wait for the import: outside the artifacts, in the state folder."""
    return Path(os.environ.get("INVOICEBOT_STATE_DIR") or PROJECT_ROOT / "var" / "state") / "review-vault"


def vault_name(item: str, sha256: str) -> str:
    """The vault file of one package: stable for the same item and document, wherever the package is copied."""
    return f"{safe_name(item)}-{(sha256 or 'nohash')[:16]}.json"


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by this user only (0600, folder 0700), replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def masked_result(result: ExtractionResult) -> ExtractionResult:
    """A copy of ``result`` with sensitive fields masked by name and IBANs/tax ids masked in every text."""
    return ExtractionResult.from_dict(mask_data(result.to_dict()))


def masked_document(document: Document, result: ExtractionResult | None = None) -> dict[str, Any]:
    """``document.to_dict()`` with the words of sensitive values starred.

    Two rules: the words inside the box of a sensitive field (its IBAN, tax id, address), and every IBAN or
    tax id that ``mask_text`` finds in a line, even one split into words ("DE89 3704 ..."): masking keeps
    the length, so the masked line splits back into the same words.
    """
    data = document.to_dict()
    boxes = []
    for name, f in (result.fields.items() if result else ()):
        if name in SENSITIVE_FIELDS and f.bbox and f.page and f.value not in (None, ""):
            boxes.append((f.page, f.bbox))
    for page in data.get("pages", []):
        lines: dict[int, list[dict[str, Any]]] = {}
        for w in page.get("words", []):
            x0, y0, x1, y1 = w["bbox"]
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            if any(p == w.get("page", page.get("number")) and b[0] <= cx <= b[2] and b[1] <= cy <= b[3]
                   for p, b in boxes):
                w["text"] = mask_token(w["text"], 0, 0) if len(w["text"]) < 8 else mask_token(w["text"])
            lines.setdefault(w.get("line", -1), []).append(w)
        for words in lines.values():
            joined = " ".join(w["text"] for w in words)
            masked = mask_text(joined)
            if masked == joined:
                continue
            at = 0
            for w in words:
                w["text"] = masked[at:at + len(w["text"])]
                at += len(w["text"]) + 1
    return data


def corrections_template(result: ExtractionResult, decision: Decision, file_name: str,
                         meta: dict[str, Any], vault: str = "") -> dict[str, Any]:
    """The corrections.json a reviewer edits; ``result`` and ``meta`` as they may be shown (masked)."""
    sealed = sorted(n for n in SENSITIVE_FIELDS & set(HEADER_FIELDS)
                    if n in result.fields and result.fields[n].value not in (None, ""))
    return {
        "status": "pending",
        "instructions": ("Correct the values below (dates YYYY-MM-DD, amounts like 1234.50, currency ISO 4217), "
                         "set status to 'corrected' (or 'rejected' if this is not something to key), save, then run "
                         "`invoicebot review import <this folder>` or the keyword Import Review Corrections. "
                         "Values with * (the fields in 'masked_fields') are masked: the real ones stay on the robot's "
                         "machine. Leave such a value as it is to keep what was read, or type the whole correct value."),
        "document": file_name,
        "sha256": result.sha256,
        "code": decision.code,
        "reason": mask_text(decision.reason),
        "source": mask_data(meta),
        "document_type": result.document_type,
        "fields": {name: (result.fields[name].value if name in result.fields else None) for name in HEADER_FIELDS},
        "masked_fields": sealed,
        "vault": vault,
        "line_items": mask_data([{k: getattr(li, k) for k in LINE_ITEM_FIELDS} for li in result.line_items]),
        "reviewed_by": "",
    }


def write_review_package(result: ExtractionResult, document_path: str | os.PathLike[str],
                         review_dir: str | os.PathLike[str], item: str, decision: Decision, *,
                         document: Document | None = None, meta: dict[str, Any] | None = None,
                         reader: Callable[[str], Document] | None = None,
                         vault_dir: str | os.PathLike[str] | None = None) -> Path:
    """Write the review package of one item into ``review_dir/<item>/``; return that folder.

    ``document`` (the words) is read with ``reader`` when not given and the file is readable;
    an unreadable file gets a package without page images.  Sensitive values are masked in the
    package; their real values and the real words go to ``vault_dir`` (default ``default_vault_dir()``).
    """
    src = Path(document_path)
    out = Path(review_dir) / safe_name(item)
    out.mkdir(parents=True, exist_ok=True)
    file_name = safe_name(mask_text(src.name), 120)  # "IBAN DE89 3704 ....pdf": the name is shown and listed too
    if src.exists():
        shutil.copy2(src, out / file_name)
    shown = masked_result(result)
    (out / "extraction.json").write_text(json.dumps(shown.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
    if document is None and result.ok and src.exists():
        if reader is None:
            from .readers import read_document as reader  # the engine's reader; imported only when needed
        try:
            document = reader(str(src))
        except InvoiceBotError:
            document = None
    if document is not None:
        (out / "document.json").write_text(json.dumps(masked_document(document, result), ensure_ascii=False),
                                           encoding="utf-8")
    vault = vault_name(item, result.sha256)
    sealed = {n: f.value for n, f in result.fields.items() if n in SENSITIVE_FIELDS and f.value not in (None, "")}
    vault_path = (Path(vault_dir) if vault_dir else default_vault_dir()) / vault
    try:
        _write_private(vault_path, json.dumps({
            "item": item, "sha256": result.sha256, "package": str(out.resolve()),
            "fields": sealed, "masked": {n: shown.fields[n].value for n in sealed},
            "document": document.to_dict() if document is not None else None,
        }, ensure_ascii=False))
    except OSError as exc:
        raise ReviewPackageError(f"cannot keep the real values of review package {out.name} in the review vault "
                                 f"{vault_path}: {exc.strerror or exc}; set INVOICEBOT_STATE_DIR to a folder this "
                                 "user may write (the values are kept out of the package itself)",
                                 path=str(vault_path)) from exc
    corrections = out / "corrections.json"
    if not corrections.exists():  # never overwrite a reviewer's work
        tpl = corrections_template(shown, decision, file_name, meta or {}, vault)
        corrections.write_text(json.dumps(tpl, indent=2, ensure_ascii=False), encoding="utf-8")
    images: list[str] = []
    render_error = ""
    if src.exists():
        rotations = {p.number: p.rotation for p in document.pages} if document else {}
        try:
            for number, img in render_pages(src):
                img = draw_fields(img, result, number, rotations.get(number, 0))
                name = f"page-{number}.png"
                img.save(out / name)
                images.append(name)
        except Exception as exc:  # noqa: BLE001 - any renderer failure: the package is still useful without images
            render_error = f"page images could not be drawn: {exc}"
    shown_decision = Decision(decision.decision, decision.code, mask_text(decision.reason), decision.exception_type,
                              list(decision.fields))
    (out / "index.html").write_text(
        _package_html(shown, shown_decision, file_name, images, mask_data(meta or {}), mask_text(render_error)),
        encoding="utf-8")
    return out


def _package_html(result: ExtractionResult, decision: Decision, file_name: str, images: list[str],
                  meta: dict[str, Any], render_error: str) -> str:
    e = html.escape
    rows = []
    for name in HEADER_FIELDS:
        f = result.fields.get(name)
        if f is None:
            rows.append(f"<tr class='missing'><td>{e(name)}</td><td colspan='4'><i>not found</i></td></tr>")
            continue
        cls = "low" if f.confidence < DEFAULT_MIN_CONFIDENCE else "ok"
        if name in decision.fields:
            cls = "flag"
        rows.append(f"<tr class='{cls}'><td>{e(name)}</td><td>{e(str(f.value))}</td><td>{f.confidence:.2f}</td>"
                    f"<td>{e(str(f.page or ''))}</td><td><small>{e(str(f.raw or ''))} · {e(f.source)}</small></td></tr>")
    issues = "".join(f"<li>{e(i.severity)} {e(i.code)}: {e(i.message)}</li>" for i in result.issues) or "<li>none</li>"
    src = "".join(f"<li>{e(str(k))}: {e(str(v))}</li>" for k, v in meta.items())
    pages = "".join(f"<h3>page {e(n.split('-')[1].split('.')[0])}</h3><img src='{e(n)}' alt='{e(n)}'>" for n in images)
    err = f"<p class='err'>{e(result.error.get('message', ''))}</p>" if result.error else ""
    if render_error:
        err += f"<p class='err'>{e(render_error)}</p>"
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Review: " + e(file_name) + "</title><style>"
        "body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:3px 6px}.low{background:#fff4ce}.flag{background:#fde7e9}.missing{color:#888}.err{color:#b00}"
        "img{max-width:100%;border:1px solid #999;margin-bottom:1em}.wrap{display:flex;gap:2em;align-items:flex-start}"
        "</style></head><body>"
        f"<h1>Review: {e(file_name)}</h1><p><b>{e(decision.code or decision.decision)}</b>: {e(decision.reason)}</p>"
        f"<p>type: {e(str(result.document_type))} ({result.document_type_confidence:.2f}) · "
        f"<a href='{e(file_name)}'>original document</a> · edit <code>corrections.json</code> in this folder</p>"
        f"{err}<ul>{src}</ul><div class='wrap'><div><table><tr><th>field</th><th>value</th><th>confidence</th>"
        f"<th>page</th><th>read from</th></tr>{''.join(rows)}</table><h3>checks</h3><ul>{issues}</ul></div>"
        f"<div>{pages}</div></div></body></html>\n"
    )


# ------------------------------------------------------------------------------------------ corrections


def default_corrections_dir() -> Path:
    return Path(os.environ.get("INVOICEBOT_CORRECTIONS_DIR", PROJECT_ROOT / "data" / "corrections"))


_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_IBAN = re.compile(r"^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$")


def check_corrections(data: Any, where: str) -> list[str]:
    """Return the problems of one corrections.json (empty when it fits the schema)."""
    if not isinstance(data, dict):
        return [f"{where}: must hold a JSON object"]
    problems = []
    status = data.get("status")
    if status not in PACKAGE_STATUSES:
        problems.append(f"{where}: status {status!r} must be one of {', '.join(PACKAGE_STATUSES)}")
    dt = data.get("document_type")
    if dt not in DOCUMENT_TYPES:
        problems.append(f"{where}: document_type {dt!r} must be one of {', '.join(DOCUMENT_TYPES)}")
    fields = data.get("fields")
    if not isinstance(fields, dict):
        return problems + [f"{where}: 'fields' must be an object of field name to value"]
    for name, value in fields.items():
        at = f"{where}: fields.{name}"
        if name not in HEADER_FIELDS:
            problems.append(f"{at} is not a canonical field (known: {', '.join(HEADER_FIELDS)})")
            continue
        if value is None:
            continue
        if not isinstance(value, str):
            problems.append(f"{at} must be a string or null, not {type(value).__name__} ({value!r})")
            continue
        if name in DATE_FIELDS:
            try:
                date.fromisoformat(value)
                if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    raise ValueError
            except ValueError:
                problems.append(f"{at} = {value!r} is not a date written YYYY-MM-DD")
        elif name in AMOUNT_FIELDS and not _AMOUNT.match(value):
            problems.append(f"{at} = {value!r} is not an amount with two decimals, like 1234.50")
        elif name == "currency" and not _CURRENCY.match(value):
            problems.append(f"{at} = {value!r} is not a three-letter ISO 4217 code such as EUR")
        elif name == "iban" and not _IBAN.match(value.replace(" ", "")):
            problems.append(f"{at} is not an IBAN (two letters, two digits, then 11 to 30 letters or digits)")
    items = data.get("line_items", [])
    if not isinstance(items, list):
        problems.append(f"{where}: line_items must be a list")
    else:
        for i, li in enumerate(items):
            if not isinstance(li, dict) or set(li) - set(LINE_ITEM_FIELDS):
                problems.append(f"{where}: line_items[{i}] may only hold {', '.join(LINE_ITEM_FIELDS)}")
            elif li.get("amount") not in (None, "") and not _AMOUNT.match(str(li["amount"])):
                problems.append(f"{where}: line_items[{i}].amount = {li['amount']!r} is not an amount like 12.50")
    return problems


def find_packages(path: str | os.PathLike[str]) -> list[Path]:
    """A package folder itself, or every package folder directly under ``path``."""
    p = Path(path)
    if not p.exists():
        raise ReviewPackageError(f"review folder {p} does not exist; give the folder that the robot wrote "
                                 "(output/review by default) or one package inside it", path=str(p))
    if (p / "corrections.json").is_file():
        return [p]
    found = sorted(d for d in p.iterdir() if (d / "corrections.json").is_file())
    return found


def _load_vault(data: dict[str, Any], vault_dir: Path) -> dict[str, Any] | None:
    name = data.get("vault")
    if not isinstance(name, str) or not name or Path(name).name != name:
        return None
    try:
        return json.loads((vault_dir / name).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None


def unseal_corrections(data: dict[str, Any], vault: dict[str, Any] | None, where: str,
                       vault_dir: Path) -> list[str]:
    """Put the real value back into ``data["fields"]`` where the reviewer left a masked value unchanged.

    A value without ``*`` is the reviewer's own and is kept; an emptied one stays empty.  Returns the
    problems: a masked value whose real one is not in the vault, or a masked value the reviewer edited.
    """
    fields = data.get("fields")
    if not isinstance(fields, dict):
        return []
    problems = []
    real = (vault or {}).get("fields") or {}
    masked = (vault or {}).get("masked") or {}
    names = set(data.get("masked_fields") or []) | {n for n in SENSITIVE_FIELDS if isinstance(fields.get(n), str)}
    for name in sorted(names):
        value = fields.get(name)
        if not isinstance(value, str) or "*" not in value:
            continue
        at = f"{where}: fields.{name}"
        if vault is None:
            problems.append(f"{at} is masked and its real value is not in the review vault {vault_dir / str(data.get('vault'))}; "
                            "import on the machine that wrote the package (same INVOICEBOT_STATE_DIR), or type the "
                            "whole value")
        elif name in real and value == masked.get(name):
            fields[name] = real[name]
        else:
            problems.append(f"{at} = {value!r} is partly masked; leave it exactly as it was to keep the value read, "
                            "or type the whole correct value")
    return problems


def import_corrections(path: str | os.PathLike[str], store_dir: str | os.PathLike[str] | None = None, *,
                       reader: Callable[[str], Document] | None = None,
                       vault_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Import every corrected package under ``path`` into the corrections store.

    Masked values the reviewer left unchanged get their real value back from the review vault
    (``vault_dir``, default ``default_vault_dir()``).  Returns ``{"imported": [...], "rejected": [...],
    "pending": [...], "store": dir}``.  All packages are checked first; when any is invalid,
    ``CorrectionInvalid`` lists every problem and nothing is stored.
    """
    store = Path(store_dir) if store_dir else default_corrections_dir()
    vaults = Path(vault_dir) if vault_dir else default_vault_dir()
    packages = find_packages(path)
    loaded: list[tuple[Path, dict[str, Any], dict[str, Any] | None]] = []
    problems: list[str] = []
    for pkg in packages:
        where = str(pkg / "corrections.json")
        try:
            data = json.loads((pkg / "corrections.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
            continue
        vault = _load_vault(data, vaults) if isinstance(data, dict) else None
        if isinstance(data, dict) and data.get("status") == "corrected":
            problems.extend(unseal_corrections(data, vault, where, vaults))
            problems.extend(check_corrections(data, where))
        elif isinstance(data, dict) and isinstance(data.get("fields"), dict):  # not imported: masks are no error
            shown = {k: (None if k in SENSITIVE_FIELDS and isinstance(v, str) and "*" in v else v)
                     for k, v in data["fields"].items()}
            problems.extend(check_corrections({**data, "fields": shown}, where))
        else:
            problems.extend(check_corrections(data, where))
        loaded.append((pkg, data, vault))
    if problems:
        raise CorrectionInvalid([mask_text(p) for p in problems], path=str(path))
    out: dict[str, Any] = {"imported": [], "rejected": [], "pending": [], "store": str(store)}
    for pkg, data, vault in loaded:
        if data["status"] != "corrected":
            out[data["status"]].append(str(pkg))
            continue
        example = _labelled_example(pkg, data, reader, vault)
        store.mkdir(parents=True, exist_ok=True)
        name = safe_name(example["sha256"] or pkg.name) + ".json"
        (store / name).write_text(json.dumps(example, indent=1, ensure_ascii=False), encoding="utf-8")
        out["imported"].append({"package": str(pkg), "example": str(store / name), "changed": example["changed"]})
    return out


def _labelled_example(pkg: Path, data: dict[str, Any], reader: Callable[[str], Document] | None,
                      vault: dict[str, Any] | None = None) -> dict[str, Any]:
    extraction = {}
    if (pkg / "extraction.json").is_file():
        extraction = json.loads((pkg / "extraction.json").read_text(encoding="utf-8"))
    for name, value in ((vault or {}).get("fields") or {}).items():  # the values read, not their masks
        if name in extraction.get("fields", {}):
            extraction["fields"][name]["value"] = value
    if (vault or {}).get("document"):  # the real words; the package's document.json has masked ones
        doc = Document.from_dict(vault["document"])
    elif (pkg / "document.json").is_file():
        doc = Document.from_dict(json.loads((pkg / "document.json").read_text(encoding="utf-8")))
    else:
        file = pkg / str(data.get("document", ""))
        if not file.is_file():
            raise ReviewPackageError(f"review package {pkg} has neither document.json nor the document "
                                     f"{data.get('document')!r}; it cannot become a training example", path=str(pkg))
        if reader is None:
            from .readers import read_document as reader
        doc = reader(str(file))
    before = {k: v.get("value") for k, v in extraction.get("fields", {}).items()}
    after = {k: v for k, v in data["fields"].items() if v not in (None, "")}
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if extraction.get("document_type") != data["document_type"]:
        changed.append("document_type")
    return {
        "sha256": data.get("sha256") or doc.sha256,
        "document": data.get("document"),
        "document_type": data["document_type"],
        "fields": after,
        "line_items": data.get("line_items", []),
        "changed": changed,
        "reviewed_by": data.get("reviewed_by", ""),
        "corrected_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source": "review",
        "pages": [{"number": p.number, "width": p.width, "height": p.height, "source": p.source} for p in doc.pages],
        "words": [{"text": w.text, "bbox": list(w.bbox), "page": w.page, "line": w.line} for w in doc.words],
        "sensitive_fields": sorted(SENSITIVE_FIELDS & set(after)),
    }


# ---------------------------------------------------------------------------------------------- CLI


def main(argv: list[str] | None = None) -> int:
    """``invoicebot review import DIR [--store DIR]``: import corrected review packages."""
    import argparse
    import sys

    p = argparse.ArgumentParser(prog="invoicebot review", description="Work with review packages.")
    sub = p.add_subparsers(dest="action", required=True)
    imp = sub.add_parser("import", help="import corrected packages into the corrections store")
    imp.add_argument("path", help="a review package folder, or the folder holding them (output/review)")
    imp.add_argument("--store", help=f"corrections store (default {default_corrections_dir()})")
    imp.add_argument("--vault", help=f"review vault holding the masked values (default {default_vault_dir()})")
    args = p.parse_args(argv)
    try:
        out = import_corrections(args.path, args.store, vault_dir=args.vault)
    except (CorrectionInvalid, ReviewPackageError) as exc:
        print(f"invoicebot review import: {exc}", file=sys.stderr)
        return 2
    for item in out["imported"]:
        changed = ", ".join(item["changed"]) or "nothing changed"
        print(f"imported {item['package']} -> {item['example']} ({changed})")
    print(f"{len(out['imported'])} imported, {len(out['pending'])} still pending, "
          f"{len(out['rejected'])} rejected; store: {out['store']}")
    return 0
