"""Keywords that read, classify, extract and check one document (thin: the engine does the work)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from invoicebot.errors import InvoiceBotError
from invoicebot.masking import mask_data, mask_fields, mask_text
from invoicebot.review import parse_required
from invoicebot.schema import INVOICE_LIKE_TYPES, Document, ExtractionResult
from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from .base import (
    Component,
    DocumentUnreadable,
    FieldsMissing,
    InvoiceInvalid,
    InvoiceRobotError,
    MaskedDict,
    NotAnInvoice,
)

#: Keys the keywords add to ``ExtractionResult.to_dict()`` for convenient use in a task.
_EXTRA_KEYS = ("value", "confidence")


def invoice_record(result: ExtractionResult) -> MaskedDict:
    """The dict a keyword returns: the result as JSON plus ``value`` and ``confidence`` per field (logged masked)."""
    data = result.to_dict()
    data["value"] = result.values()
    data["confidence"] = {k: f.confidence for k, f in result.fields.items()}
    return MaskedDict(data)


def to_result(invoice: Any) -> ExtractionResult:
    """Accept an ``ExtractionResult`` or the dict `Extract Invoice Fields` returned (maybe edited in a task)."""
    if isinstance(invoice, ExtractionResult):
        return invoice
    if isinstance(invoice, dict):
        data = {k: v for k, v in invoice.items() if k not in _EXTRA_KEYS}
        try:
            return ExtractionResult.from_dict(json.loads(json.dumps(data)))
        except (TypeError, ValueError, KeyError) as exc:
            raise InvoiceRobotError(f"the invoice given is not an extraction result ({exc}); pass what "
                                    "`Extract Invoice Fields` returned") from exc
    raise InvoiceRobotError(f"expected the invoice that `Extract Invoice Fields` returned, got {type(invoice).__name__}")


def check_required(result: ExtractionResult, required: list[str], min_confidence: float) -> dict[str, str]:
    """``{field: why}`` for required fields that are missing or below ``min_confidence``  # To ease unit testing."""
    out = {}
    for name in required:
        f = result.fields.get(name)
        if f is None or f.value in (None, ""):
            out[name] = "missing"
        elif f.confidence < min_confidence:
            out[name] = f"confidence {f.confidence:.2f} < {min_confidence:.2f}"
    return out


def log_result(result: ExtractionResult) -> None:
    if result.error:
        logger.info(f"{Path(result.document).name}: {result.error.get('code')} — {result.error.get('message')}")
        return
    shown = mask_fields({k: {"value": f.value, "confidence": f.confidence} for k, f in result.fields.items()})
    lines = [f"{k} = {v['value']} ({v['confidence']:.2f})" for k, v in shown.items()]
    logger.info(f"{Path(result.document).name}: {result.document_type} ({result.document_type_confidence:.2f}), "
                f"{len(result.fields)} field(s) by {result.extractor}:\n" + "\n".join(lines))


class DocumentKeywords(Component):
    """Read a document, tell its type, extract the invoice fields and check them."""

    def _path(self, document: Any) -> str:
        if isinstance(document, Document):
            return document.path
        if isinstance(document, dict) and "document" in document:
            return str(document["document"])
        return os.fspath(document)

    def _read(self, path: str) -> Document:
        try:
            doc = self.ctx.engine.read(path)
        except InvoiceBotError as exc:
            raise DocumentUnreadable(path, exc.code, str(exc)) from exc
        self.ctx.cache["last_document"] = doc  # kept for the review package (one document, not a growing cache)
        return doc

    @keyword
    def read_document(self, path: str) -> Document:
        """Reads a PDF or image into pages of words with their boxes.

        | =Arguments= | =Description= |
        | ``path`` | Path of a PDF, PNG, JPEG or TIFF file, e.g. one saved by `Save Invoice Attachments`. |

        Returns a ``Document`` (``${doc.pages}``, ``${doc.text}``, ``${doc.sha256}``). A page without a text
        layer is read with OCR.

        Example:
        | ${doc} =    `Read Document`    ${OUTPUT_DIR}/attachments/invoice-1042.pdf
        | Should Contain    ${doc.text}    Invoice

        Fails with ``EMPTY_FILE``, ``CORRUPT``, ``ENCRYPTED``, ``UNSUPPORTED_TYPE``, ``TOO_MANY_PAGES`` ... and
        the reason, when the file cannot be read; a person must then look at the original.  The engine runs in a
        child process: a document that needs more memory than ``INVOICEBOT_MAX_MEMORY_MB`` (default 1536), takes
        longer than ``INVOICEBOT_DOC_TIMEOUT_S`` (default 120 s) or crashes a reader library fails with
        ``MEMORY_LIMIT``, ``TIMEOUT`` or ``WORKER_CRASHED``, and the next keyword works as before.
        """
        doc = self._read(os.fspath(path))
        logger.info(f"{Path(doc.path).name}: {len(doc.pages)} page(s), {len(doc.words)} words "
                    f"({', '.join(sorted({p.source for p in doc.pages})) or 'no pages'})")
        return doc

    @keyword
    def classify_document(self, document: Any, expected: str | None = None) -> DotDict:
        """Tells the document type (invoice, credit_note, purchase_order, receipt, ...) with its confidence.

        | =Arguments= | =Description= |
        | ``document`` | A path, or a document returned by `Read Document`. |
        | ``expected`` | Optional comma separated types; the keyword fails when the document is another type. |

        Returns a dict with ``type`` and ``confidence``.

        Example:
        | ${kind} =    `Classify Document`    ${pdf}
        | IF    '${kind.type}' == 'credit_note'    Log    a credit note
        | `Classify Document`    ${pdf}    expected=invoice,credit_note

        Fails with ``NOT_AN_INVOICE`` when ``expected`` is given and the type is not in it, and like
        `Read Document` when the file cannot be read.
        """
        doc = document if isinstance(document, Document) else self._read(self._path(document))
        try:
            doc_type, confidence = self.ctx.engine.classify(doc)
        except InvoiceBotError as exc:  # a limit of the engine's process (memory, time) or its crash
            raise DocumentUnreadable(doc.path, exc.code, str(exc)) from exc
        logger.info(f"{Path(doc.path).name}: {doc_type} (confidence {confidence:.2f})")
        if expected:
            allowed = [t.strip() for t in expected.split(",") if t.strip()]
            if doc_type not in allowed:
                raise NotAnInvoice(doc.path, doc_type, confidence, allowed)
        return DotDict(type=doc_type, confidence=confidence)

    @keyword
    def extract_invoice_fields(self, document: Any, required: str | list[str] | None = None,
                               min_confidence: float | None = None, allow_unreadable: bool = False) -> DotDict:
        """Extracts the canonical invoice fields of a document, each with confidence, page and box.

        | =Arguments= | =Description= |
        | ``document`` | A path, or a document returned by `Read Document`. |
        | ``required`` | Comma separated fields that must be found, e.g. ``vendor_name,total_amount``. Default: none. |
        | ``min_confidence`` | Lowest confidence accepted for a required field; default: the library's ``confidence_threshold``. |
        | ``allow_unreadable`` | When true, an unreadable file returns a result with ``error`` set instead of failing. |

        Returns the extraction result as a dict: ``${invoice.value.total_amount}``, ``${invoice.confidence.total_amount}``,
        ``${invoice.document_type}``, ``${invoice.issues}`` (the engine's checks) and ``${invoice.error}``.

        Example:
        | ${invoice} =    `Extract Invoice Fields`    ${pdf}    required=vendor_name,invoice_number,total_amount
        | Log    ${invoice.value.total_amount} ${invoice.value.currency}

        Fails with ``LOW_CONFIDENCE`` naming each required field that is missing or below ``min_confidence``,
        and like `Read Document` when the file cannot be read (unless ``allow_unreadable``).
        """
        names = self._required(required)
        threshold = self.ctx.confidence_threshold if min_confidence in (None, "") else float(min_confidence)
        if isinstance(document, Document):
            doc = document
        else:
            path = self._path(document)
            try:
                doc = self._read(path)
            except DocumentUnreadable as exc:
                if not allow_unreadable:
                    raise
                result = ExtractionResult(document=path, error={"code": exc.code, "message": str(exc).split(": ", 1)[-1]})
                log_result(result)
                return invoice_record(result)
        try:
            result = self.ctx.engine.extract(doc)
        except InvoiceBotError as exc:  # a limit of the engine's process (memory, time) or its crash
            if not allow_unreadable:
                raise DocumentUnreadable(doc.path, exc.code, str(exc)) from exc
            result = ExtractionResult(document=doc.path, sha256=doc.sha256, error=exc.to_dict())
            log_result(result)
            return invoice_record(result)
        log_result(result)
        problems = check_required(result, names, threshold)
        if problems:
            raise FieldsMissing(problems, doc.path)
        return invoice_record(result)

    def _required(self, required: str | list[str] | None) -> list[str]:
        if required in (None, "", []):
            return []
        try:
            return parse_required(required)
        except ValueError as exc:
            raise InvoiceRobotError(str(exc)) from exc

    @keyword
    def validate_invoice(self, invoice: Any) -> list[DotDict]:
        """Checks an invoice's values again (sums, dates, IBAN, currency) and returns the issues found.

        Use after a task or a person changed values; `Extract Invoice Fields` already ran the checks once.

        | =Arguments= | =Description= |
        | ``invoice`` | The result of `Extract Invoice Fields` (values may have been edited). |

        Returns a list of issues, each with ``code``, ``message``, ``fields`` and ``severity``; the invoice's
        ``issues`` are replaced by them.

        Example:
        | Set To Dictionary    ${invoice.value}    total_amount=119.00
        | ${issues} =    `Validate Invoice`    ${invoice}
        | Should Be Empty    ${issues}

        Fails with a message naming the field when a value is not in canonical form (the checks themselves never fail).
        """
        from invoicebot.validate import validate_invoice

        values = dict(invoice.get("value") or {}) if isinstance(invoice, dict) else to_result(invoice).values()
        if not values:
            values = to_result(invoice).values()
        doc_type = invoice.get("document_type") if isinstance(invoice, dict) else to_result(invoice).document_type
        try:
            issues = validate_invoice(values, document_type=doc_type)
        except (ValueError, InvoiceBotError) as exc:
            raise InvoiceRobotError(f"the invoice's values cannot be checked: {exc}") from exc
        out = [MaskedDict(code=i.code, message=i.message, fields=list(i.fields), severity=i.severity) for i in issues]
        if isinstance(invoice, dict):
            invoice["issues"] = [dict(i) for i in out]
        logger.info(mask_text(f"{len(out)} issue(s): " + "; ".join(f"{i.code}: {i.message}" for i in out)) if out else "no issues")
        return out

    @keyword
    def invoice_should_be_valid(self, invoice: Any, warnings_fail: bool = False,
                                document_types: str = ",".join(sorted(INVOICE_LIKE_TYPES))) -> None:
        """Fails unless the document is an invoice-like type whose values pass every check.

        | =Arguments= | =Description= |
        | ``invoice`` | The result of `Extract Invoice Fields`. |
        | ``warnings_fail`` | When true, warnings fail too (default: only errors). |
        | ``document_types`` | Comma separated types accepted (default: credit_note, invoice, receipt). |

        Example:
        | ${invoice} =    `Extract Invoice Fields`    ${pdf}
        | `Invoice Should Be Valid`    ${invoice}

        Fails with ``NOT_AN_INVOICE`` for another document type, with ``INVALID`` listing each failed check
        (e.g. ``SUM_MISMATCH: subtotal + tax != total``), or with the reader's code when the file was unreadable.
        """
        result = to_result(invoice)
        if result.error:
            raise DocumentUnreadable(result.document, result.error.get("code", "ERROR"), result.error.get("message", ""))
        allowed = [t.strip() for t in document_types.split(",") if t.strip()]
        if result.document_type not in allowed:
            raise NotAnInvoice(result.document, result.document_type, result.document_type_confidence, allowed)
        bad = [i for i in result.issues if i.severity == "error" or (warnings_fail and i.severity == "warning")]
        if bad:
            raise InvoiceInvalid([mask_data({"code": i.code, "message": i.message}) for i in bad], result.document)
        logger.info(f"{Path(result.document).name}: valid {result.document_type}")
