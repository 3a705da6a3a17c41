"""InvoiceLibrary: the Robot Framework keywords of the invoice robot.

One library class on PythonLibCore's DynamicCore, handed one component per area.
Logic lives in the engine (``invoicebot``); the components here are thin.

| =Setting= | =Description= |
| ``model_dir`` | Folder of the trained model; default: the project's ``models/`` build. |
| ``vocabulary_dir`` | Folder of the vocabulary YAML files; default: ``resources/vocabulary``. |
| ``confidence_threshold`` | Fields below this confidence send the invoice to review (default 0.80). |

Example:
| ***** Settings *****
| Library    InvoiceLibrary    confidence_threshold=0.85
"""

from __future__ import annotations

from robotlibcore import DynamicCore

from invoicebot import __version__

from .base import LibraryContext
from .components import load_components


class InvoiceLibrary(DynamicCore):
    ROBOT_LIBRARY_SCOPE = "GLOBAL"
    ROBOT_LIBRARY_VERSION = __version__
    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"

    def __init__(self, model_dir: str | None = None, vocabulary_dir: str | None = None,
                 confidence_threshold: float = 0.80):
        self.ctx = LibraryContext(model_dir=model_dir, vocabulary_dir=vocabulary_dir,
                                  confidence_threshold=float(confidence_threshold))
        DynamicCore.__init__(self, load_components(self.ctx))
