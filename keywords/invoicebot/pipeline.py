"""One document in, one ExtractionResult out: read, classify, extract, normalise, validate.

``Engine`` holds what is loaded once (vocabulary, model) so a batch or a robot run pays
for it once.  ``process`` never raises for a bad document: the result's ``error`` says
what went wrong, so one bad file never stops a batch.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import rules
from .candidates import DocumentContext, build_context, under_credit_note_reference
from .config import MODELS_DIR, ReaderSettings
from .errors import ConfigError, DocumentError, InvoiceBotError
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


def process_context():
    """The multiprocessing context for pools of this package: fork where the system has it (the children share
    the loaded modules), else spawn."""
    return multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")


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


# --- batches on several cores -------------------------------------------------------------------------------------

_worker_engine: Engine | None = None
_worker_fresh = False


def _start_worker(extractor: str, settings: ReaderSettings | None, model_dir: str | None, warm: str | None,
                  fresh: bool, ready) -> None:
    """A pool process's start: its own Engine (the model loaded once per process), warmed on one document."""
    global _worker_engine, _worker_fresh
    _worker_fresh = fresh
    try:
        _worker_engine = Engine(extractor, settings=settings, model_dir=model_dir)
        if warm is not None:
            _worker_engine.process(warm)
    except Exception as exc:  # said to the parent, which stops the pool with this message
        ready.put(f"{type(exc).__name__}: {exc}")
        raise
    ready.put(None)


def _work(path: str) -> ExtractionResult:
    assert _worker_engine is not None, "the pool's initializer did not run"
    if _worker_fresh and _worker_engine.model is not None:
        _worker_engine.model.clear_cache()
    return _worker_engine.process(path)


class EnginePool:
    """``Engine.process`` over a batch on ``workers`` processes, each with its own engine; results come back in the
    order of the paths.  A document that kills its worker process (a crash inside a reader library) gets an error
    result, the pool starts again, and the rest of the batch goes on.

    ``warm``: a document each process handles before it counts as started (so that a benchmark times the steady
    state); ``start()`` waits for every process to be warm.  ``fresh_cache``: forget the model's encoded strings
    before each document (a benchmark that repeats documents must not find them encoded already)."""

    #: how long a process may take to load the engine (and handle the warm-up document)
    START_TIMEOUT_S = 600

    def __init__(self, workers: int, extractor: str = "auto", *, settings: ReaderSettings | None = None,
                 model_dir: str | Path | None = None, warm: str | Path | None = None, fresh_cache: bool = False):
        if workers < 1:
            raise ValueError(f"workers must be 1 or more, not {workers}")
        check_extractor(extractor)
        self.workers = workers
        self._args = (extractor, settings, str(model_dir) if model_dir else None, str(warm) if warm else None, fresh_cache)
        self._mp = process_context()
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> EnginePool:
        if self._pool is None:
            ready = self._mp.Queue()
            self._pool = ProcessPoolExecutor(self.workers, mp_context=self._mp, initializer=_start_worker,
                                             initargs=(*self._args, ready))
            broken = False
            try:
                for _ in range(self.workers):  # a task per process makes each start
                    self._pool.submit(os.getpid)
            except BrokenProcessPool:  # a process failed to start before the last task went in: it says why below
                broken = True
            for _ in range(self.workers):
                try:
                    failure = ready.get(timeout=10 if broken else self.START_TIMEOUT_S)
                except queue.Empty:
                    failure = "a process ended while it started" if broken else f"no answer within {self.START_TIMEOUT_S} s"
                if failure is not None:
                    self._drop()
                    raise ConfigError(f"a worker process of the engine could not start ({failure}); run with one "
                                      "worker to see the error in full")
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> EnginePool:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def process(self, paths) -> Iterator[ExtractionResult]:
        """Results in the order of ``paths``, each as soon as it and those before it are done.  At most two
        documents per process are in flight, so that a crash has few suspects: each is then run alone."""
        paths = [str(p) for p in paths]
        done: dict[int, ExtractionResult] = {}
        todo = deque(range(len(paths)))
        inflight: dict[int, Future] = {}
        nxt = 0
        while todo or inflight:
            self.start()
            while todo and len(inflight) < 2 * self.workers:
                i = todo.popleft()
                inflight[i] = self._pool.submit(_work, paths[i])
            wait(inflight.values(), return_when=FIRST_COMPLETED)
            broken = False
            for i, fut in list(inflight.items()):
                if not fut.done():
                    continue
                try:
                    done[i] = fut.result()
                    del inflight[i]
                except BrokenProcessPool:
                    broken = True
            if broken:
                suspects = sorted(inflight)
                log.warning("a worker process died; %d documents in flight run again, one at a time", len(suspects))
                inflight = {}
                self._drop()
                for i in suspects:
                    done[i] = self._alone(paths[i])
            while nxt in done:
                yield done.pop(nxt)
                nxt += 1

    def _drop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def _alone(self, path: str) -> ExtractionResult:
        self.start()
        try:
            return self._pool.submit(_work, path).result()
        except BrokenProcessPool:
            self._drop()
            log.error("the worker process died on %s", path)
            return ExtractionResult(document=path, error={
                "code": "WORKER_CRASHED",
                "message": f"the process reading {path} died (a crash inside a reader library); the rest of the batch "
                           "went on; run `invoicebot extract --workers 1` on this file alone to see the error, and "
                           "report it with the document"})


def process_many(paths, *, workers: int = 1, extractor: str = "auto", settings: ReaderSettings | None = None,
                 model_dir: str | Path | None = None) -> Iterator[ExtractionResult]:
    """``Engine.process`` over ``paths`` in their order: in this process when ``workers`` is 1, else on an
    ``EnginePool`` of that many processes."""
    paths = list(paths)
    if workers <= 1 or len(paths) <= 1:
        engine = Engine(extractor, settings=settings, model_dir=model_dir)
        for p in paths:
            yield engine.process(p)
        return
    with EnginePool(min(workers, len(paths)), extractor, settings=settings, model_dir=model_dir) as pool:
        yield from pool.process(paths)
