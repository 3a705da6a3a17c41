"""Keywords between the mailbox and the work item queue, and the run report."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from invoicebot.masking import mask_data, mask_text
from invoicebot.report import AttachmentRecord, MailRecord, RunReport, default_state_dir
from invoicebot.review import safe_name
from robot.api import logger
from robot.api.deco import keyword
from robot.utils import DotDict

from .base import Component, InvoiceRobotError
from .documents import to_result

#: Payload keys of an attachment work item (what the producer writes and the consumer reads).
PAYLOAD_KEYS = ("item_key", "message_id", "sender", "subject", "date", "file_name", "sha256", "media_type",
                "origin", "run_id", "duplicate_of")


def _get(obj: Any, name: str, default: Any = "") -> Any:
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def item_key(message_id: str, sha256: str) -> str:
    """A short, stable name for one attachment of one mail  # To ease unit testing."""
    digest = hashlib.sha256(f"{message_id}\n{sha256}".encode()).hexdigest()[:16]
    return f"att-{digest}"


def attachment_payload(saved: Any, message: Any = None) -> dict[str, Any]:
    """The work item payload of one saved (or duplicate-skipped) attachment."""
    mid = _get(saved, "message_id") or _get(message, "message_id")
    sha = _get(saved, "sha256")
    payload = {
        "item_key": item_key(mid, sha),
        "message_id": mid,
        "sender": _get(saved, "sender") or _get(message, "sender"),
        "subject": _get(saved, "subject") or _get(message, "subject"),
        "date": _get(saved, "date") or _get(message, "date"),
        "file_name": _get(saved, "file_name"),
        "sha256": sha,
        "media_type": _get(saved, "media_type"),
        "origin": _get(saved, "origin"),
    }
    reason = _get(saved, "reason")
    if _get(saved, "status") == "skipped" and str(reason).startswith("duplicate"):
        payload["duplicate_of"] = reason
    return payload


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (0600), folders created (0700)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def local_output_holds(key: str) -> bool:
    """Whether the local output work-items file (FileAdapter) holds a whole item with this ``item_key``; always false
    with other adapters, whose queue guards this itself."""
    out = os.environ.get("RPA_OUTPUT_WORKITEM_PATH", "")
    if not key or not out or not os.environ.get("RPA_WORKITEMS_ADAPTER", "").endswith("FileAdapter"):
        return False
    from .fileadapter import WorkItemsFileError, queued_keys

    try:
        return key in queued_keys(out)
    except WorkItemsFileError as exc:
        raise InvoiceRobotError(str(exc)) from exc


def is_queueable(saved: Any) -> bool:
    """True for a saved document and for a duplicate (which is queued so that a person sees it)."""
    status = _get(saved, "status")
    return status == "saved" or (status == "skipped" and str(_get(saved, "reason")).startswith("duplicate"))


class WorkItemKeywords(Component):
    """Build work item payloads from mail, and keep the run report."""

    def _report(self, report_dir: str | None, run_id: str | None = None) -> RunReport:
        """The report of one run: ``<report folder>/<run id>/``; the run id is the producer's."""
        run = run_id or self.ctx.cache.get("run_id") or self.start_run_report()
        self.ctx.cache.setdefault("runs_touched", {})[run] = report_dir
        return RunReport(self.ctx.output_path(report_dir, self.ctx.report_dir, "report") / safe_name(run))

    @keyword
    def start_run_report(self, run_id: str | None = None) -> str:
        """Starts the report of a new run and returns its id; what is recorded from now on goes into it.

        The producer starts the run and writes its id into every work item (``run_id``), so that the
        consumer's outcomes land in the same run's report, whichever machine takes the item.

        | =Arguments= | =Description= |
        | ``run_id`` | An id to use (e.g. the orchestrator's process run id); default: the UTC time and a random part. |

        Example:
        | ${run} =    `Start Run Report`    %{RC_PROCESS_RUN_ID=}

        Fails never.
        """
        run = run_id or (datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3))
        self.ctx.cache["run_id"] = run
        self.ctx.cache.setdefault("runs_touched", {}).setdefault(run, None)  # reported even if nothing is recorded
        logger.info(f"run report {run}")
        return run

    @keyword
    def attachment_work_item_payload(self, attachment: Any, message: Any = None) -> DotDict:
        """Builds the work item payload of one attachment: sender, subject, date, message id, file name, hash.

        | =Arguments= | =Description= |
        | ``attachment`` | One entry of what `Save Invoice Attachments` returned. |
        | ``message`` | The message it came from (fills what the attachment lacks). |

        The payload also holds ``item_key`` (stable per mail and file), ``run_id`` (the run report it belongs
        to, see `Start Run Report`) and, for a document already taken before, ``duplicate_of`` with where it was
        first seen.

        Example:
        | ${payload} =    `Attachment Work Item Payload`    ${attachment}    ${message}
        | Create Output Work Item    variables=${payload}    files=${attachment}[path]    save=True

        Fails when the attachment has neither a message id nor a hash.
        """
        payload = attachment_payload(attachment, message)
        payload["run_id"] = self.ctx.cache.get("run_id") or self.start_run_report()
        if not payload["message_id"] and not payload["sha256"]:
            raise InvoiceRobotError(f"attachment {payload['file_name']!r} has neither a message id nor a hash; "
                                    "pass an entry returned by Save Invoice Attachments")
        return DotDict(payload)

    @keyword
    def invoice_work_item_payload(self, payload: dict, invoice: Any) -> DotDict:
        """Builds the variables of the output work item of a done invoice: where it came from, no field values.

        rpaframework logs work item variables in clear, so the values (with IBAN and tax id) travel in a
        file attached to the item instead: see `Save Invoice Result`.

        | =Arguments= | =Description= |
        | ``payload`` | The input work item's payload. |
        | ``invoice`` | The result of `Extract Invoice Fields`. |

        Example:
        | ${out} =    `Invoice Work Item Payload`    ${payload}    ${invoice}
        | ${json} =    `Save Invoice Result`    ${invoice}    ${OUTPUT_DIR}/done/${payload}[item_key].json
        | Create Output Work Item    variables=${out}    files=${json}    save=${True}

        Fails when ``invoice`` is not an extraction result.
        """
        result = to_result(invoice)
        return DotDict(
            item_key=payload.get("item_key", ""), message_id=payload.get("message_id", ""),
            file_name=payload.get("file_name", ""), sha256=result.sha256, document_type=result.document_type,
            fields=sorted(result.fields), result_file=f"{payload.get('item_key', 'invoice')}.json")

    @keyword
    def save_invoice_result(self, invoice: Any, path: str) -> str:
        """Writes an extraction result as JSON for the next robot or system and returns the path.

        The file at ``path`` lies with the run's artifacts (a Control Room uploads them), so IBAN, tax ids and
        the vendor's address in it are masked; the result with every value in clear is written beside the
        robot's state (``INVOICEBOT_STATE_DIR``, default ``var/state``, under ``results/``, readable by its owner
        only), where the keying step and `Import Review Corrections` of this installation find it.

        | =Arguments= | =Description= |
        | ``invoice`` | The result of `Extract Invoice Fields`. |
        | ``path`` | The JSON file to write (folders are created). |

        Example:
        | ${json} =    `Save Invoice Result`    ${invoice}    ${OUTPUT_DIR}/done/${payload}[item_key].json

        Fails when either file cannot be written.
        """
        result = to_result(invoice)
        target = Path(path)
        full = default_state_dir() / "results" / target.name
        try:
            write_private(full, json.dumps(result.to_dict(), indent=2, ensure_ascii=False))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(mask_data(result.to_dict()), indent=2, ensure_ascii=False), encoding="utf-8")
        except OSError as exc:
            raise InvoiceRobotError(f"cannot write the invoice result {exc.filename or target}: {exc.strerror}; "
                                    "check free space and permissions") from exc
        return str(target)

    @keyword
    def attachment_should_be_queued(self, attachment: Any) -> bool:
        """Returns true when an attachment becomes a work item: a saved document, or a duplicate to report.

        A saved document whose work item the local output work-items file already holds (an earlier run made it
        and was stopped before `Mark Attachment Queued`) is not queued twice.

        | =Arguments= | =Description= |
        | ``attachment`` | One entry of what `Save Invoice Attachments` returned. |

        Example:
        | ${queue} =    `Attachment Should Be Queued`    ${attachment}

        Fails when the local output work-items file is unreadable; an attachment without a status is not queued.
        """
        if not is_queueable(attachment):
            return False
        if _get(attachment, "status") == "saved":
            key = item_key(_get(attachment, "message_id"), _get(attachment, "sha256"))
            if local_output_holds(key):
                logger.info(f"{_get(attachment, 'file_name')}: its work item {key} was queued by an earlier run; "
                            "not queued again")
                return False
        return True

    @keyword
    def work_item_was_handed_on(self, item_key: str) -> bool:
        """Returns true when the local output work-items file already holds an item with this ``item_key``.

        A consumer stopped between handing a done invoice on and releasing its input item takes the item again on
        the next run; this keeps it from handing the invoice on twice.  Always false with other adapters (an
        orchestrator's queue guards this itself).

        | =Arguments= | =Description= |
        | ``item_key`` | The ``item_key`` of the output work item's payload. |

        Example:
        | ${sent} =    `Work Item Was Handed On`    ${out}[item_key]
        | IF    not ${sent}    Create Output Work Item    variables=${out}    save=${True}

        Fails when the local output work-items file is unreadable.
        """
        return local_output_holds(item_key)

    @keyword
    def record_mail_in_run_report(self, message: Any, attachments: list | None = None, queued: int | None = None,
                                  report_dir: str | None = None) -> None:
        """Adds one mail to the run report: who, what, when, how many attachments were queued, what was skipped.

        | =Arguments= | =Description= |
        | ``message`` | A message from `List Vendor Messages`. |
        | ``attachments`` | What `Save Invoice Attachments` returned for it (skipped parts are listed with why). |
        | ``queued`` | Number of work items created; default: the attachments that `Attachment Should Be Queued`. |
        | ``report_dir`` | Report folder (runs in sub-folders); default: the library's ``report_dir`` or ``${OUTPUT_DIR}/report``. |

        Example:
        | `Record Mail In Run Report`    ${message}    ${saved}

        Fails when the report folder cannot be written.
        """
        attachments = list(attachments or [])
        n = int(queued) if queued not in (None, "") else sum(1 for a in attachments if is_queueable(a))
        skipped = [f"{_get(a, 'file_name')}: {_get(a, 'reason')}" for a in attachments
                   if _get(a, "status") == "skipped" and not is_queueable(a)]
        problems = list(_get(message, "problems", None) or [])
        earlier = [a for a in attachments if str(_get(a, "reason")).startswith("already queued from this mail")]
        if problems:
            note = "sent to review: " + "; ".join(problems)
        elif n or earlier:
            note = ""
        else:
            note = "no document attached"
        if skipped:
            note = (note + "; " if note else "") + "skipped " + "; ".join(skipped)
        record = MailRecord(message_id=_get(message, "message_id"), sender=_get(message, "sender"),
                            subject=_get(message, "subject"), mail_date=_get(message, "date"), attachments=n, note=note,
                            review="; ".join(problems))
        self._report(report_dir).add_mail(record)
        logger.info(mask_text(f"mail {record.message_id} from {record.sender}: {n} queued. {note}"))

    @keyword
    def record_attachment_outcome(self, payload: dict, route: dict, invoice: Any = None, seconds: float = 0,
                                  report_dir: str | None = None) -> None:
        """Adds one attachment's end to the run report: done, review or failed, with its code and reason.

        | =Arguments= | =Description= |
        | ``payload`` | The input work item's payload. |
        | ``route`` | The result of `Decide Invoice Route` (or a dict with ``decision``, ``code``, ``reason``). |
        | ``invoice`` | The result of `Extract Invoice Fields`, for type, fields and confidence (optional). |
        | ``seconds`` | Time spent on the item. |
        | ``report_dir`` | Report folder (runs in sub-folders); default: the library's ``report_dir`` or ``${OUTPUT_DIR}/report``. |

        Example:
        | `Record Attachment Outcome`    ${payload}    ${route}    ${invoice}    seconds=${elapsed}

        Fails when the decision is not done, review or failed, or has no reason.
        """
        fields: dict[str, dict[str, Any]] = {}
        doc_type, type_conf = None, None
        if invoice:
            result = to_result(invoice)
            fields = {k: {"value": f.value, "confidence": round(f.confidence, 3)} for k, f in result.fields.items()}
            doc_type, type_conf = result.document_type, result.document_type_confidence
        try:
            record = AttachmentRecord(
                file_name=payload.get("file_name", ""), decision=route.get("decision", ""),
                reason=route.get("reason", ""), code=route.get("code", "") or "", item_id=payload.get("item_key", ""),
                message_id=payload.get("message_id", ""), sender=payload.get("sender", ""),
                subject=payload.get("subject", ""), mail_date=payload.get("date", ""), sha256=payload.get("sha256", ""),
                document_type=doc_type, type_confidence=type_conf, fields=fields, seconds=round(float(seconds), 3))
        except ValueError as exc:
            raise InvoiceRobotError(str(exc)) from exc
        self._report(report_dir, payload.get("run_id") or None).add_attachment(record)

    @keyword
    def write_run_report(self, report_dir: str | None = None) -> DotDict:
        """Renders the run report (HTML, CSV and the counts as JSON) from what was recorded so far.

        | =Arguments= | =Description= |
        | ``report_dir`` | Report folder (runs in sub-folders); default: the library's ``report_dir`` or ``${OUTPUT_DIR}/report``. |

        Renders every run this process recorded into (a consumer may take items of several producer runs).
        Returns a dict with the paths (``html``, ``csv``, ``json``), the ``summary`` counts and the ``run_id``
        of the last one.

        Example:
        | [Teardown]    `Write Run Report`

        Fails when the report folder cannot be written; a damaged line of ``records.jsonl`` (a crash while
        appending) is skipped and counted in the summary's ``damaged_record_lines``.
        """
        touched = dict(self.ctx.cache.get("runs_touched") or {})
        if not touched:
            logger.info("no run was started or recorded into by this process: no report to write")
        out = DotDict()
        for run, folder in touched.items():
            report = self._report(report_dir or folder, run)
            try:
                paths = report.write()
            except ValueError as exc:
                raise InvoiceRobotError(str(exc)) from exc
            summary = report.summary()
            logger.info(f"run report {run}: <a href=\"{Path(paths['html']).resolve().as_uri()}\">{paths['html']}</a> — "
                        + ", ".join(f"{k} {v}" for k, v in summary.items() if k != "codes"), html=True)
            out = DotDict(paths, summary=summary, run_id=run)
        return out
