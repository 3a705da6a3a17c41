"""One document in, one ExtractionResult out: read, classify, extract, normalise, validate.

``Engine`` holds what is loaded once (vocabulary, model) so a batch or a robot run pays
for it once.  ``process`` never raises for a bad document: the result's ``error`` says
what went wrong, so one bad file never stops a batch.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from . import rules
from .candidates import DocumentContext, build_context
from .config import MODELS_DIR, ReaderSettings
from .errors import DocumentError, InvoiceBotError
from .readers import read_document
from .rules import classify_by_rules
from .schema import FIELDS_BY_DOCUMENT_TYPE, Document, ExtractedField, ExtractionResult
from .validate import validate_invoice
from .vocabulary import Vocabulary, load_vocabulary

log = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = MODELS_DIR / "invoice-minilm"

#: Below this document-type confidence every field is kept, whatever the type: a wrong "purchase order" on an
#: invoice must not cost its fields (the type's own confidence sends it to a person anyway).
TYPE_TRUSTED_FROM = 0.8


def restrict_to_document_type(fields: dict[str, ExtractedField], document_type: str | None, confidence: float,
                              trusted_from: float = TYPE_TRUSTED_FROM) -> dict[str, ExtractedField]:
    """Leave out the fields a confidently classified document does not carry (no invoice date on a
    purchase order, nothing on a newsletter): see ``schema.FIELDS_BY_DOCUMENT_TYPE``.  A trained model
    brings its own ``trusted_from``, chosen on its validation split."""
    allowed = FIELDS_BY_DOCUMENT_TYPE.get(document_type or "")
    if allowed is None or confidence < trusted_from:
        return fields
    return {k: v for k, v in fields.items() if k in allowed}


class Engine:
    """The document engine with its vocabulary and (optionally) the fine-tuned model loaded once."""

    def __init__(self, extractor: str = "auto", *, settings: ReaderSettings | None = None,
                 vocabulary: Vocabulary | None = None, model_dir: str | Path | None = None):
        if extractor not in ("auto", "model", "rules"):
            raise ValueError(f"extractor must be auto, model or rules, not {extractor!r}")
        self.extractor = extractor
        self.settings = settings or ReaderSettings.from_env()
        self.vocabulary = vocabulary or load_vocabulary()
        self.model_dir = Path(model_dir) if model_dir else DEFAULT_MODEL_DIR
        self._model = None
        self._model_checked = False

    @property
    def model(self):
        """The fine-tuned model, loaded on first use; None when the rules are asked for or none is built."""
        if self.extractor == "rules":
            return None
        if not self._model_checked:
            self._model_checked = True
            from .model import load_model  # imports torch: only when a model is wanted

            self._model = load_model(self.model_dir, required=self.extractor == "model")
        return self._model

    def read(self, path: str | Path) -> Document:
        return read_document(path, self.settings)

    def classify(self, doc: Document, ctx: DocumentContext | None = None) -> tuple[str, float]:
        ctx = ctx or build_context(doc, self.vocabulary)
        if self.model is not None:
            return self.model.classify(doc, ctx)
        return classify_by_rules(ctx)

    def classify_path(self, path: str | Path) -> tuple[str | None, float, dict | None]:
        try:
            doc = self.read(path)
        except InvoiceBotError as exc:
            return None, 0.0, exc.to_dict()
        t, c = self.classify(doc)
        return t, c, None

    def extract(self, doc: Document, ctx: DocumentContext | None = None) -> ExtractionResult:
        ctx = ctx or build_context(doc, self.vocabulary)
        result = ExtractionResult(document=doc.path, sha256=doc.sha256, pages=len(doc.pages))
        result.document_type, result.document_type_confidence = self.classify(doc, ctx)
        result.fields = self._fields(doc, ctx)
        vendor = result.fields.get("vendor_name")
        if (vendor is None or vendor.confidence < 0.45) and self._has_text_pages(doc) and not self.settings.ocr_images:
            # the vendor is often only in the logo: read the pictures on the pages too and look again
            with_images = read_document(doc.path, self.settings, ocr_images=True)
            if len(with_images.words) > len(doc.words):
                doc, ctx = with_images, build_context(with_images, self.vocabulary)
                result.fields = self._fields(doc, ctx)
        trusted_from = self.model.card.get("type_trusted_from", TYPE_TRUSTED_FROM) if self.model else TYPE_TRUSTED_FROM
        result.fields = restrict_to_document_type(result.fields, result.document_type, result.document_type_confidence,
                                                   trusted_from)
        result.extractor = "model" if self.model is not None else "rules"
        values = result.values()
        result.issues = validate_invoice(values, document_type=result.document_type)
        return result

    @staticmethod
    def _has_text_pages(doc: Document) -> bool:
        return doc.media_type == "application/pdf" and any(p.source == "text" for p in doc.pages)

    def _fields(self, doc: Document, ctx: DocumentContext):
        if self.model is not None:
            return self.model.extract(doc, ctx, self.vocabulary)
        return rules.extract_fields(ctx, self.vocabulary)

    def process(self, path: str | Path) -> ExtractionResult:
        """Read, classify, extract and validate one document; errors end up in the result."""
        start = time.perf_counter()
        try:
            doc = self.read(path)
            result = self.extract(doc)
        except DocumentError as exc:
            result = ExtractionResult(document=str(path), error=exc.to_dict())
        except InvoiceBotError as exc:
            result = ExtractionResult(document=str(path), error=exc.to_dict())
        except Exception as exc:  # a bad document must never stop a batch
            log.error("unexpected error on %s: %s", path, exc, exc_info=log.isEnabledFor(logging.DEBUG))
            result = ExtractionResult(
                document=str(path),
                error={"code": "INTERNAL", "message": f"unexpected {type(exc).__name__} while processing {path}: {exc}; "
                       "please report it with the document"},
            )
        result.seconds = round(time.perf_counter() - start, 4)
        return result


def process_document(path: str | Path, *, settings: ReaderSettings | None = None, extractor: str = "auto") -> ExtractionResult:
    """Convenience wrapper: a one-off Engine (use ``Engine`` for batches)."""
    return Engine(extractor, settings=settings).process(path)


_default_engine: Engine | None = None


def classify(doc: Document) -> tuple[str, float]:
    """Document type and confidence of a read document (shared engine, loaded once)."""
    global _default_engine
    if _default_engine is None:
        _default_engine = Engine()
    return _default_engine.classify(doc)
