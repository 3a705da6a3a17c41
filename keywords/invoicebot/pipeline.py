"""One document in, one ExtractionResult out: read, classify, extract, normalise, validate.

``Engine`` holds what is loaded once (vocabulary, model) so a batch or a robot run pays
for it once.  ``process`` never raises for a bad document: the result's ``error`` says
what went wrong, so one bad file never stops a batch.
"""

from __future__ import annotations

import logging
import multiprocessing.connection
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from . import rules
from .candidates import DocumentContext, build_context, under_credit_note_reference
from .config import MODELS_DIR, IsolationSettings, ReaderSettings
from .errors import DocumentError, InvoiceBotError
from .isolation import POLL_S, EngineRecipe, IsolatedEngine, error_result, memory_limit_error
from .isolation import process_context as process_context  # bench.py and others take it from here
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
                              trusted_from: float = TYPE_TRUSTED_FROM, ctx: DocumentContext | None = None,
                              vocab: Vocabulary | None = None) -> dict[str, ExtractedField]:
    """Leave out the fields a confidently classified document does not carry (no invoice date on a
    purchase order, nothing on a newsletter): see ``schema.FIELDS_BY_DOCUMENT_TYPE``.  A trained model
    brings its own ``trusted_from``, chosen on its validation split.

    Given the document's context and vocabulary, a credit note's PO printed under a label that names a reference
    only ("Your reference") is left out too: that reference is the invoice the credit note corrects."""
    allowed = FIELDS_BY_DOCUMENT_TYPE.get(document_type or "")
    if allowed is None or confidence < trusted_from:
        return fields
    kept = {k: v for k, v in fields.items() if k in allowed}
    po = kept.get("po_number")
    if (document_type == "credit_note" and po is not None and ctx is not None and vocab is not None
            and under_credit_note_reference(ctx, vocab, po.value, po.page, po.bbox)):
        del kept["po_number"]
    return kept


EXTRACTORS = ("auto", "model", "rules")


def check_extractor(extractor: str) -> None:
    if extractor not in EXTRACTORS:
        raise ValueError(f"extractor must be auto, model or rules, not {extractor!r}")


class Engine:
    """The document engine with its vocabulary and (optionally) the fine-tuned model loaded once."""

    def __init__(self, extractor: str = "auto", *, settings: ReaderSettings | None = None,
                 vocabulary: Vocabulary | None = None, model_dir: str | Path | None = None):
        check_extractor(extractor)
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
                                                   trusted_from, ctx, self.vocabulary)
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
        except MemoryError:  # under the limit of an isolated engine's process (isolation.py), or none left at all
            result = ExtractionResult(document=str(path), error=memory_limit_error(path).to_dict())
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


# --- batches, each document in a child process under limits ---------------------------------------------------

class EnginePool:
    """``Engine.process`` over a batch on ``workers`` child processes (``isolation.IsolatedEngine``: the engine
    built once here, the model loaded once in each child), results in the order of the paths.  Each document runs
    under the limits of ``IsolationSettings`` (memory and time, default from the environment): one that needs too
    much memory, hangs or kills its process gets an error result (``MEMORY_LIMIT``, ``TIMEOUT``,
    ``WORKER_CRASHED``), its process starts again, and the rest of the batch goes on.

    ``warm``: a document each process handles before it counts as started (so that a benchmark times the steady
    state); ``start()`` waits for every process to be warm.  ``fresh_cache``: forget the model's encoded strings
    before each document (a benchmark that repeats documents must not find them encoded already).
    ``peak_mb``: after ``process``, the peak memory (MB, the whole process) of each document of the batch."""

    def __init__(self, workers: int, extractor: str = "auto", *, settings: ReaderSettings | None = None,
                 model_dir: str | Path | None = None, warm: str | Path | None = None, fresh_cache: bool = False,
                 limits: IsolationSettings | None = None):
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        check_extractor(extractor)
        self.workers = workers
        self.extractor, self.settings, self.model_dir = extractor, settings, model_dir
        self.warm, self.fresh_cache = warm, fresh_cache
        self.limits = limits or IsolationSettings.from_env()
        self._engines: list[IsolatedEngine] = []
        self.peak_mb: list[float | None] = []

    def start(self) -> EnginePool:
        if not self._engines:
            engine = Engine(self.extractor, settings=self.settings, model_dir=self.model_dir)
            recipe = EngineRecipe(self.extractor, self.settings, str(self.model_dir) if self.model_dir else None)
            self._engines = [IsolatedEngine(engine, self.limits, warm=self.warm, fresh_cache=self.fresh_cache,
                                            recipe=recipe) for _ in range(self.workers)]
        try:
            for e in self._engines:
                e.start()
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        for e in self._engines:
            e.close()
        self._engines = []

    def __enter__(self) -> EnginePool:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def process(self, paths) -> Iterator[ExtractionResult]:
        """Results in the order of ``paths``, each as soon as it and those before it are done; one document per
        process at a time, so that a limit or a crash names its document."""
        paths = [str(p) for p in paths]
        self.start()
        self.peak_mb = [None] * len(paths)
        done: dict[int, ExtractionResult] = {}
        todo = deque(range(len(paths)))
        doing: dict[IsolatedEngine, tuple[int, float]] = {}  # engine -> (its document's index, when it began)
        nxt = 0
        try:
            while todo or doing:
                for e in self._engines:
                    if todo and e not in doing:
                        i = todo.popleft()
                        e.submit("process", paths[i])
                        doing[e] = (i, time.perf_counter())
                multiprocessing.connection.wait([e.connection for e in doing], timeout=POLL_S)  # then each is watched
                for e, (i, started) in list(doing.items()):
                    finished, value = e.collect(0)
                    if not finished:
                        continue
                    del doing[e]
                    if isinstance(value, InvoiceBotError):
                        value = error_result(paths[i], value, time.perf_counter() - started)
                    done[i], self.peak_mb[i] = value, e.last_peak_mb
                    log.info("%s: %s in %.2f s, peak memory %s MB", paths[i], value.error["code"] if value.error
                             else "done", time.perf_counter() - started, e.last_peak_mb)
                while nxt in done:
                    yield done.pop(nxt)
                    nxt += 1
        except BaseException:  # stopped early (Ctrl-C, a consumer that breaks off): no child keeps working
            for e in doing:
                e.close()
            raise


def process_many(paths, *, workers: int = 1, extractor: str = "auto", settings: ReaderSettings | None = None,
                 model_dir: str | Path | None = None, limits: IsolationSettings | None = None,
                 peaks: list | None = None) -> Iterator[ExtractionResult]:
    """``Engine.process`` over ``paths`` in their order, on an ``EnginePool`` of ``workers`` child processes
    (one too: a document that breaks a limit or crashes costs only its own result).  ``peaks``: a list that
    receives each document's peak memory (MB) once the batch is done."""
    paths = list(paths)
    if not paths:
        return
    with EnginePool(min(max(workers, 1), len(paths)), extractor, settings=settings, model_dir=model_dir,
                    limits=limits) as pool:
        yield from pool.process(paths)
        if peaks is not None:
            peaks[:] = pool.peak_mb
