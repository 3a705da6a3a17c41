"""Shared state of the keyword components and the library's error type."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class InvoiceRobotError(Exception):
    """Base of the errors the keywords raise; Robot shows only the message."""

    ROBOT_SUPPRESS_NAME = True


@dataclass
class LibraryContext:
    """State shared by the components: settings, and things loaded once per run (lazily)."""

    model_dir: str | None = None
    vocabulary_dir: str | None = None
    confidence_threshold: float = 0.80
    cache: dict[str, Any] = field(default_factory=dict)


class Component:
    """Base of every keyword component: reaches shared state through ``self.ctx``."""

    def __init__(self, ctx: LibraryContext):
        self.ctx = ctx
