"""Errors the engine raises.  Each one says what went wrong, where, and what to do.

Every error has a stable ``code`` that a robot can branch on and a message that a
business analyst understands.  The Robot library re-raises them with
``ROBOT_SUPPRESS_NAME`` so that only the message shows in the log.
"""

from __future__ import annotations


class InvoiceBotError(Exception):
    """Base class of every error the engine raises on purpose."""

    code = "ERROR"
    #: True when a retry may succeed (application exception), False for business exceptions.
    retryable = False

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(message)

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": str(self)}


class DocumentError(InvoiceBotError):
    """The document cannot be read as it is; a person must look at it."""

    code = "BAD_DOCUMENT"


class EmptyDocument(DocumentError):
    code = "EMPTY_FILE"


class CorruptDocument(DocumentError):
    code = "CORRUPT"


class EncryptedDocument(DocumentError):
    code = "ENCRYPTED"


class UnsupportedDocument(DocumentError):
    code = "UNSUPPORTED_TYPE"


class TooManyPages(DocumentError):
    code = "TOO_MANY_PAGES"


class ImageTooLarge(DocumentError):
    code = "IMAGE_TOO_LARGE"


class FileTooLarge(DocumentError):
    """The file is larger than the reader's size limit (any type, not only images)."""

    code = "FILE_TOO_LARGE"


class DocumentNotFound(InvoiceBotError, FileNotFoundError):
    """No document file at the given path (missing, or a folder): the caller passed a wrong path."""

    code = "NOT_FOUND"


class OcrUnavailable(InvoiceBotError):
    """Tesseract is missing or failed: the set-up is wrong, not the document."""

    code = "OCR_UNAVAILABLE"
    retryable = True


class ConfigError(InvoiceBotError):
    """A data file (vocabulary, model config, UI profile) is invalid."""

    code = "CONFIG"


class ModelNotFound(InvoiceBotError):
    code = "MODEL_NOT_FOUND"
