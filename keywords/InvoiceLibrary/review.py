"""Keywords of the review route: decide done/review/failed, package an item for a person, import corrections."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from invoicebot import review as engine_review
from invoicebot.errors import InvoiceBotError
from invoicebot.masking import mask_text, quiet_document_loggers
from invoicebot.report import Ledger
from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from .base import Component, InvoiceRobotError, MaskedDict, ReviewImportFailed, robot_output_dir
from .documents import to_result


def vault_inside(vault: Path, output_dir: Path) -> bool:
    """True when ``vault`` lies in ``output_dir`` (both resolved)."""
    try:
        vault.resolve().relative_to(output_dir.resolve())
    except ValueError:
        return False
    return True


class ReviewKeywords(Component):
    """Decide what needs a person, hand it over in a review package, take the corrections back."""

    def __init__(self, ctx):
        super().__init__(ctx)
        # once per library instance: pdfminer's DEBUG lines are the document's text (IBANs and tax ids in clear),
        # and Robot logs Python logging at --loglevel DEBUG/TRACE
        quiet_document_loggers()

    def _ledger(self) -> Ledger:
        return Ledger(self.ctx.ledger)

    def _vault_dir(self) -> Path | None:
        """The review vault beside the library's ledger when one is set (the installation's state folder)."""
        return Path(self.ctx.ledger).parent / "review-vault" if self.ctx.ledger else None

    def _warn_vault_in_artifacts(self) -> None:
        """Once per run: a review vault inside ${OUTPUT_DIR} would be uploaded with the artifacts."""
        if self.ctx.cache.get("vault_checked"):
            return
        self.ctx.cache["vault_checked"] = True
        vault = (self._vault_dir() or engine_review.default_vault_dir()).resolve()
        if vault_inside(vault, robot_output_dir()):
            logger.warn(f"the review vault {vault} is inside the output folder {robot_output_dir().resolve()}, which "
                        "is uploaded as the run's artifacts: the real IBANs and tax ids would go with it; set "
                        "INVOICEBOT_STATE_DIR (or the library's ledger) to a folder outside it")

    @keyword
    def decide_invoice_route(self, invoice: Any, item: str, required: str | list[str] | None = None,
                             min_confidence: float | None = None, check_duplicates: bool = True) -> DotDict:
        """Decides whether an extracted document is done, goes to review, or failed, with a code and a reason.

        Checks in this order: unreadable file, not an invoice, duplicate (same file or same vendor and
        invoice number seen before by this installation), required fields missing or unsure, failed checks.

        | =Arguments= | =Description= |
        | ``invoice`` | The result of `Extract Invoice Fields` (with ``allow_unreadable=True`` in a consumer). |
        | ``item`` | A key that names this work item (message id + file hash); a retry of the same item is not its own duplicate. |
        | ``required`` | Comma separated fields that must be found; default ``vendor_name,invoice_number,invoice_date,total_amount``. |
        | ``min_confidence`` | Lowest confidence accepted; default: the library's ``confidence_threshold``. |
        | ``check_duplicates`` | Set false to skip the ledger of documents already seen. |

        Returns a dict: ``decision`` (done, review, failed), ``code`` (LOW_CONFIDENCE, INVALID, NOT_AN_INVOICE,
        DUPLICATE or the reader's code), ``reason``, ``exception_type`` (BUSINESS or APPLICATION) and ``fields``.

        Example:
        | ${route} =    `Decide Invoice Route`    ${invoice}    item=${payload}[item_key]
        | IF    '${route.decision}' == 'review'    `Send Invoice To Review`    ${invoice}    ${route}    item=${payload}[item_key]

        Fails with a message naming the field when ``required`` holds a name that is not a canonical field.
        """
        result = to_result(invoice)
        try:
            names = engine_review.parse_required(required if required not in ("", None) else None)
        except ValueError as exc:
            raise InvoiceRobotError(str(exc)) from exc
        threshold = self.ctx.confidence_threshold if min_confidence in (None, "") else float(min_confidence)
        duplicate = None
        if check_duplicates and result.ok:
            ledger = self._ledger()
            vendor, number = result.value("vendor_name"), result.value("invoice_number")
            duplicate = ledger.find_duplicate(item_key=item, sha256=result.sha256, vendor=vendor, invoice_number=number)
            if duplicate is None:
                ledger.add(item_key=item, sha256=result.sha256, vendor=vendor, invoice_number=number)
        d = engine_review.decide(result, required=names, min_confidence=threshold, duplicate=duplicate)
        logger.info(f"{Path(result.document).name}: {d.decision}" + (f" {d.code}" if d.code else "") +
                    f" — {mask_text(d.reason)}")
        return MaskedDict(d.to_dict())

    @keyword
    def send_invoice_to_review(self, invoice: Any, route: dict | None = None, item: str | None = None,
                               reason: str | None = None, review_dir: str | None = None,
                               source: dict | None = None) -> str:
        """Puts a document in a review package for a person: the file, the extracted JSON and an HTML page.

        The page shows each page image with every field's box and confidence drawn on it; the person corrects
        ``corrections.json`` in the package and it comes back with `Import Review Corrections`.  The package is
        in the output folder (the run's artifacts): the IBAN, tax ids and the vendor's address are masked in it;
        their real values wait in the review vault under the state folder (beside the library's ``ledger``, else
        ``INVOICEBOT_STATE_DIR``, default ``var/state``) until the import.

        | =Arguments= | =Description= |
        | ``invoice`` | The result of `Extract Invoice Fields`. |
        | ``route`` | The result of `Decide Invoice Route` (code and reason shown to the reviewer). |
        | ``item`` | Name of the package folder; default: the document's file name. |
        | ``reason`` | A reason when no ``route`` is given. |
        | ``review_dir`` | Folder of packages; default: the library's ``review_dir`` or ``${OUTPUT_DIR}/review``. |
        | ``source`` | Where it came from (sender, subject, message id ...), shown on the page. |

        Returns the package folder.

        Example:
        | ${package} =    `Send Invoice To Review`    ${invoice}    ${route}    item=${item_key}    source=${payload}
        | File Should Exist    ${package}/index.html

        Fails when the review folder or the review vault cannot be written (the message names it).
        """
        result = to_result(invoice)
        if route:
            decision = engine_review.Decision(**{k: route.get(k) for k in ("decision", "code", "reason", "exception_type")
                                                 if route.get(k) is not None}, fields=list(route.get("fields") or []))
        else:
            decision = engine_review.Decision("review", "REVIEW", reason or "sent to review by the task")
        folder = self.ctx.output_path(review_dir, self.ctx.review_dir, "review")
        self._warn_vault_in_artifacts()
        cached = self.ctx.cache.get("last_document")
        document = cached if cached is not None and cached.path == result.document else None
        reader = None
        if document is None:
            def reader(path: str):  # the engine's reader with the robot's settings
                return self.ctx.engine.read(path)
        try:
            out = engine_review.write_review_package(result, result.document, folder, item or Path(result.document).name,
                                                     decision, document=document, meta=dict(source or {}), reader=reader,
                                                     vault_dir=self._vault_dir())
        except OSError as exc:
            raise InvoiceRobotError(f"cannot write the review package under {folder}: {exc.strerror or exc}; "
                                    "check the folder and free space") from exc
        except InvoiceBotError as exc:
            raise InvoiceRobotError(f"{exc.code}: {mask_text(str(exc))}") from exc
        uri = html.escape(out.resolve().as_uri() + "/index.html")
        logger.info(f"review package: <a href=\"{uri}\">{html.escape(str(out))}</a>", html=True)
        return str(out)

    @keyword
    def import_review_corrections(self, path: str, store: str | None = None) -> DotDict:
        """Reads corrected review packages back and keeps them as labelled examples for training.

        Each package whose ``corrections.json`` has ``"status": "corrected"`` is checked against the canonical
        schema (field names, ISO dates, two-decimal amounts, ISO currency) and stored with the document's words
        in the corrections store; packages still ``pending`` or ``rejected`` are counted, not stored.  A masked
        value (IBAN, tax id, address: shown with ``*``) left as it was gets its real value back from the review
        vault on this machine; a value the person typed is taken as typed.

        | =Arguments= | =Description= |
        | ``path`` | One package folder, or the folder holding packages (``${OUTPUT_DIR}/review``). |
        | ``store`` | Corrections store; default ``data/corrections`` (env ``INVOICEBOT_CORRECTIONS_DIR``). |

        Returns a dict with ``imported`` (package, example, changed fields), ``pending``, ``rejected`` and ``store``.

        Example:
        | ${imported} =    `Import Review Corrections`    ${OUTPUT_DIR}/review
        | Log    ${imported.imported}

        Fails with ``CORRECTION_INVALID`` listing every problem with file and field (nothing is stored then),
        among them a masked value that was edited or whose real value is not in the vault, or when the folder
        does not exist.
        """
        try:
            out = engine_review.import_corrections(path, store, vault_dir=self._vault_dir())
        except InvoiceBotError as exc:
            raise ReviewImportFailed(f"{exc.code}: {mask_text(str(exc))}") from exc
        logger.info(f"{len(out['imported'])} imported, {len(out['pending'])} pending, {len(out['rejected'])} rejected; "
                    f"store {out['store']}")
        return DotDict(out)
