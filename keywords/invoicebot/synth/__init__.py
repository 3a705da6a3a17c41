"""Synthetic training corpus: generated invoices and other business documents, rendered by several
layout engines (HTML via headless Chromium, reportlab, degraded scans through OCR), read back with
the project reader and labelled word by word.  Entry points: :func:`build_corpus` and :func:`main`.
"""

from invoicebot.synth.corpus import CorpusConfig, build_corpus, main, make_plan

__all__ = ["CorpusConfig", "build_corpus", "main", "make_plan"]
