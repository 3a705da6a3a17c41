"""Where the project's data lives and the engine's limits, overridable from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: Root of the project checkout (…/keywords/invoicebot/config.py -> …).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
RESOURCES_DIR = Path(os.environ.get("INVOICEBOT_RESOURCES", PROJECT_ROOT / "resources"))
MODELS_DIR = Path(os.environ.get("INVOICEBOT_MODELS", PROJECT_ROOT / "models"))
VOCABULARY_DIR = RESOURCES_DIR / "vocabulary"


def _env_number(name: str, default, kind, what: str):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return kind(raw)
    except ValueError as exc:
        raise ValueError(f"environment variable {name}={raw!r} must be {what}") from exc


def _env_int(name: str, default: int) -> int:
    return _env_number(name, default, int, "a whole number")


@dataclass(frozen=True)
class ReaderSettings:
    """Limits and options of the document readers."""

    max_pages: int = 200  # a longer document is refused (TooManyPages)
    max_image_pixels: int = 100_000_000  # larger images are refused (decompression bombs)
    max_file_bytes: int = 100 * 1024 * 1024
    ocr_dpi: int = 300
    ocr_languages: str = "eng+deu+fra+nld+spa+ita+pol"
    min_text_words: int = 3  # a PDF page with fewer text-layer words is OCR'd
    detect_rotation: bool = True
    ocr_images: bool = False  # always OCR the pictures on text pages (else only when no vendor was found)

    @classmethod
    def from_env(cls) -> ReaderSettings:
        d = cls()
        return cls(
            max_pages=_env_int("INVOICEBOT_MAX_PAGES", d.max_pages),
            max_image_pixels=_env_int("INVOICEBOT_MAX_IMAGE_PIXELS", d.max_image_pixels),
            max_file_bytes=_env_int("INVOICEBOT_MAX_FILE_BYTES", d.max_file_bytes),
            ocr_dpi=_env_int("INVOICEBOT_OCR_DPI", d.ocr_dpi),
            ocr_languages=os.environ.get("INVOICEBOT_OCR_LANGUAGES", d.ocr_languages),
            min_text_words=_env_int("INVOICEBOT_MIN_TEXT_WORDS", d.min_text_words),
            ocr_images=os.environ.get("INVOICEBOT_OCR_IMAGES", "").lower() in ("1", "true", "yes"),
        )


def _env_float(name: str, default: float) -> float:
    return _env_number(name, default, float, "a number of seconds")


@dataclass(frozen=True)
class IsolationSettings:
    """Limits of one document, enforced in the engine's child process (``invoicebot.isolation``).

    ``max_memory_mb``: memory one document may take on top of the loaded engine (model, vocabulary): a document
    that needs more ends as ``MEMORY_LIMIT`` (default 1536, so that the process stays under 2 GB at its peak).
    ``doc_timeout_s``: seconds one step on one document (reading it, or extracting its fields) may take; a
    document that takes longer ends as ``TIMEOUT`` and its process is started again.  0 turns either limit off."""

    max_memory_mb: int = 1536
    doc_timeout_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_memory_mb < 0 or self.doc_timeout_s < 0:
            raise ValueError(f"INVOICEBOT_MAX_MEMORY_MB ({self.max_memory_mb}) and INVOICEBOT_DOC_TIMEOUT_S "
                             f"({self.doc_timeout_s}) must be 0 (no limit) or more")

    @classmethod
    def from_env(cls) -> IsolationSettings:
        d = cls()
        return cls(
            max_memory_mb=_env_int("INVOICEBOT_MAX_MEMORY_MB", d.max_memory_mb),
            doc_timeout_s=_env_float("INVOICEBOT_DOC_TIMEOUT_S", d.doc_timeout_s),
        )
