"""The list of keyword components: one module and one ``*Keywords`` class per area."""

from __future__ import annotations

import importlib

from .base import LibraryContext

#: (module, class) of each component; a module that is not there yet is skipped.
COMPONENTS = (
    ("documents", "DocumentKeywords"),
    ("mailbox", "MailboxKeywords"),
    ("review", "ReviewKeywords"),
    ("model", "ModelKeywords"),
    ("accounting", "AccountingKeywords"),
    ("workitems", "WorkItemKeywords"),
)


def load_components(ctx: LibraryContext) -> list:
    out = []
    for module, cls in COMPONENTS:
        try:
            mod = importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__package__}.{module}":
                continue
            raise
        out.append(getattr(mod, cls)(ctx))
    return out
