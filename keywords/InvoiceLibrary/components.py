"""The list of keyword components: one module and one ``*Keywords`` class per area."""

from __future__ import annotations

from .accounting import AccountingKeywords
from .base import LibraryContext
from .documents import DocumentKeywords
from .mailbox import MailboxKeywords
from .model import ModelKeywords
from .review import ReviewKeywords
from .workitems import WorkItemKeywords

#: One component per area; each is handed the shared context.
COMPONENTS = (DocumentKeywords, MailboxKeywords, ReviewKeywords, ModelKeywords, AccountingKeywords, WorkItemKeywords)


def load_components(ctx: LibraryContext) -> list:
    return [component(ctx) for component in COMPONENTS]
