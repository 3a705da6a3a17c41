"""InvoiceLibrary: the Robot Framework keywords of the invoice robot.

One library class on PythonLibCore's DynamicCore, handed one component per area.
Logic lives in the engine (``invoicebot``); the components here are thin.

| =Setting= | =Description= |
| ``model_dir`` | Folder of the trained model; default: the project's ``models/`` build. |
| ``vocabulary_dir`` | Folder of the vocabulary YAML files; default: ``resources/vocabulary``. |
| ``confidence_threshold`` | Fields below this confidence send the invoice to review (default 0.80). |
| ``extractor`` | ``auto`` (the trained model when built, else the rules), ``model`` or ``rules``. |
| ``report_dir`` | Folder of the run report; default ``${OUTPUT_DIR}/report``. |
| ``review_dir`` | Folder of the review packages; default ``${OUTPUT_DIR}/review``. |
| ``ledger`` | File of documents already taken (duplicate check); default ``var/state/invoice-ledger.jsonl``. |

Values of IBANs and tax ids are masked in everything the keywords log.

Example:
| ***** Settings *****
| Library    InvoiceLibrary    confidence_threshold=0.85
"""

from __future__ import annotations

from invoicebot import __version__
from robotlibcore import DynamicCore

from .base import LibraryContext
from .components import load_components


class InvoiceLibrary(DynamicCore):
    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self, model_dir: str | None = None, vocabulary_dir: str | None = None,
                 confidence_threshold: float = 0.80, extractor: str = "auto", report_dir: str | None = None,
                 review_dir: str | None = None, ledger: str | None = None):
        self.ctx = LibraryContext(model_dir=model_dir or None, vocabulary_dir=vocabulary_dir or None,
                                  confidence_threshold=float(confidence_threshold), extractor=extractor,
                                  report_dir=report_dir or None, review_dir=review_dir or None,
                                  ledger=ledger or None)
        DynamicCore.__init__(self, load_components(self.ctx))
        try:  # carries out rpaframework's protect_keywords: Open Mailbox's arguments stay out of the log at TRACE
            from RPA.core.logger import RobotLogListener

            self.ROBOT_LIBRARY_LISTENER = RobotLogListener()
        except ImportError:  # pragma: no cover - rpaframework is a dependency of the library
            pass
