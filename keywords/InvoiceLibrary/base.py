"""Shared state of the keyword components and the library's error types."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from invoicebot.masking import mask_data
from robot.utils import DotDict


class MaskedDict(DotDict):
    """A dict for Robot (``${d.key}``) whose printed form, as Robot logs it, has IBANs and tax ids masked."""

    def __repr__(self) -> str:
        return repr(mask_data(_plain(self)))

    __str__ = __repr__


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class InvoiceRobotError(Exception):
    """Base of the errors the keywords raise; Robot shows only the message."""

    ROBOT_SUPPRESS_NAME = True
    #: Stable code a task can branch on (also the work item exception code).
    code = "ERROR"


class DocumentUnreadable(InvoiceRobotError):
    """The document could not be read (corrupt, encrypted, not a supported file, ...)."""

    def __init__(self, document: str, code: str, message: str):
        self.document, self.code = document, code
        super().__init__(f"{code}: {message}")


class FieldsMissing(InvoiceRobotError):
    """Required fields were not found, or were found with too little confidence."""

    code = "LOW_CONFIDENCE"

    def __init__(self, fields: dict[str, str], document: str):
        self.fields, self.document = fields, document
        listed = ", ".join(f"{name} ({why})" for name, why in fields.items())
        super().__init__(f"LOW_CONFIDENCE: {Path(document).name} lacks {listed}; "
                         "send it to review or lower the threshold")


class InvoiceInvalid(InvoiceRobotError):
    """The invoice's values fail the checks (sums, dates, IBAN, ...)."""

    code = "INVALID"

    def __init__(self, issues: list[dict[str, Any]], document: str):
        self.issues, self.document = issues, document
        listed = "; ".join(f"{i['code']}: {i['message']}" for i in issues)
        super().__init__(f"INVALID: {Path(document).name} fails {len(issues)} check(s): {listed}")


class NotAnInvoice(InvoiceRobotError):
    code = "NOT_AN_INVOICE"

    def __init__(self, document: str, doc_type: str | None, confidence: float, expected: Iterable[str]):
        self.document, self.document_type, self.confidence = document, doc_type, confidence
        super().__init__(f"NOT_AN_INVOICE: {Path(document).name} is a {doc_type or 'document of unknown type'} "
                         f"(confidence {confidence:.2f}), expected {' or '.join(sorted(expected))}")


class ReviewImportFailed(InvoiceRobotError):
    code = "CORRECTION_INVALID"


class ModelCommandFailed(InvoiceRobotError):
    code = "MODEL"


@dataclass
class LibraryContext:
    """State shared by the components: settings, and things loaded once per run (lazily)."""

    model_dir: str | None = None
    vocabulary_dir: str | None = None
    confidence_threshold: float = 0.80
    extractor: str = "auto"
    report_dir: str | None = None
    review_dir: str | None = None
    ledger: str | None = None
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def engine(self):
        """The document engine, built on first use and kept for the run (GLOBAL scope: one model load).

        It runs in one child process (``invoicebot.isolation.IsolatedEngine``) under the limits of one document,
        ``INVOICEBOT_MAX_MEMORY_MB`` and ``INVOICEBOT_DOC_TIMEOUT_S``: a document that needs too much memory,
        hangs or crashes a reader library fails its keyword with ``MEMORY_LIMIT``, ``TIMEOUT`` or
        ``WORKER_CRASHED``, and the robot goes on.  The model is loaded once, in that process."""
        if "engine" not in self.cache:
            from invoicebot.isolation import EngineRecipe, IsolatedEngine
            from invoicebot.pipeline import Engine

            kwargs: dict[str, Any] = {}
            params = inspect.signature(Engine).parameters
            if self.model_dir and "model_dir" in params:
                kwargs["model_dir"] = self.model_dir
            if self.vocabulary_dir and "vocabulary" in params:
                from invoicebot.vocabulary import load_vocabulary

                kwargs["vocabulary"] = load_vocabulary(self.vocabulary_dir)
            engine = Engine(self.extractor, **kwargs)
            recipe = EngineRecipe(self.extractor, model_dir=self.model_dir, vocabulary_dir=self.vocabulary_dir)
            self.cache["engine"] = IsolatedEngine(engine, recipe=recipe if recipe.builds(engine) else None)
        return self.cache["engine"]

    def output_path(self, explicit: str | None, configured: str | None, sub: str) -> Path:
        """An explicit folder, else the library's setting, else ``${OUTPUT_DIR}/<sub>``."""
        if explicit:
            return Path(explicit)
        if configured:
            return Path(configured)
        return robot_output_dir() / sub


def robot_output_dir() -> Path:
    try:
        from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError

        try:
            return Path(BuiltIn().get_variable_value("${OUTPUT_DIR}"))
        except RobotNotRunningError:
            pass
    except ImportError:  # pragma: no cover - robot is a dependency of the library
        pass
    return Path("output")


def call_with_supported(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``func`` with only the keyword arguments it accepts (engine signatures still settle)."""
    params = inspect.signature(func).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return func(*args, **kwargs)
    return func(*args, **{k: v for k, v in kwargs.items() if k in params})


class Component:
    """Base of every keyword component: reaches shared state through ``self.ctx``."""

    def __init__(self, ctx: LibraryContext):
        self.ctx = ctx
