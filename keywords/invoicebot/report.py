"""The run report: what happened to every mail and every attachment, as HTML, CSV and JSON.

The producer records each mail it read, the consumer each attachment it decided on.  Both
append to ``records.jsonl`` in the report folder (one JSON object per line, so several
processes can append), and ``RunReport.write()`` renders ``report.html``, ``report.csv`` and
``summary.json`` from it.  Values of sensitive fields (IBAN, tax id) are masked.

Also here: the ledger of documents already seen, which tells a consumer that an invoice
arrived twice (same file, or same vendor and invoice number) without asking anyone else.
"""

from __future__ import annotations

import csv
import fcntl
import html
import json
import logging
import os
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .config import PROJECT_ROOT
from .masking import mask_fields, mask_text

log = logging.getLogger(__name__)

#: The three ends of an attachment's road.
DECISIONS: tuple[str, ...] = ("done", "review", "failed")

CSV_COLUMNS: tuple[str, ...] = (
    "kind", "time", "item_id", "message_id", "sender", "subject", "mail_date", "file_name", "sha256",
    "document_type", "type_confidence", "decision", "code", "reason", "min_confidence", "fields", "seconds",
)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class MailRecord:
    """One mail the producer read, with how many attachments it turned into work items."""

    message_id: str
    sender: str = ""
    subject: str = ""
    mail_date: str = ""
    attachments: int = 0
    note: str = ""  # e.g. "no document attached" when a mail had nothing to process
    review: str = ""  # why the mail itself went to a person (too large, broken MIME, ...); empty when it did not
    time: str = field(default_factory=_now)
    kind: str = "mail"


@dataclass
class AttachmentRecord:
    """One attachment the consumer decided on: done, review or failed, with a reason."""

    file_name: str
    decision: str
    reason: str
    code: str = ""
    item_id: str = ""
    message_id: str = ""
    sender: str = ""
    subject: str = ""
    mail_date: str = ""
    sha256: str = ""
    document_type: str | None = None
    type_confidence: float | None = None
    fields: dict[str, dict[str, Any]] = field(default_factory=dict)  # {name: {"value", "confidence"}}
    seconds: float = 0.0
    time: str = field(default_factory=_now)
    kind: str = "attachment"

    def __post_init__(self) -> None:
        if self.decision not in DECISIONS:
            raise ValueError(f"decision {self.decision!r} for {self.file_name} is not one of {', '.join(DECISIONS)}")
        if not self.reason:
            raise ValueError(f"decision {self.decision!r} for {self.file_name} has no reason; every decision needs one")

    @property
    def min_confidence(self) -> float | None:
        confs = [f.get("confidence") for f in self.fields.values() if f.get("confidence") is not None]
        return min(confs) if confs else None


class RunReport:
    """Records of one run in ``directory`` and their rendering.

    | ``records.jsonl`` | one line per mail and per attachment (appended) |
    | ``report.html``   | the page an analyst opens |
    | ``report.csv``    | the same rows for a spreadsheet |
    | ``summary.json``  | the counts |
    """

    def __init__(self, directory: str | os.PathLike[str]):
        self.directory = Path(directory)
        self.damaged_lines: list[int] = []

    @property
    def records_path(self) -> Path:
        return self.directory / "records.jsonl"

    def _append(self, record: dict[str, Any]) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            append_jsonl(self.records_path, record)
        except OSError as exc:
            raise OSError(exc.errno, f"cannot add to the run report {self.records_path}: {exc.strerror}; check "
                          "free space and permissions (the item is not released: a rerun records it)") from exc

    def add_mail(self, record: MailRecord) -> None:
        self._append({**asdict(record), "subject": mask_text(record.subject)})

    def add_attachment(self, record: AttachmentRecord) -> None:
        data = asdict(record)
        data["fields"] = mask_fields(record.fields)
        data["reason"] = mask_text(record.reason)
        data["subject"] = mask_text(record.subject)
        self._append(data)

    def records(self) -> list[dict[str, Any]]:
        """The records, one per mail (by message id) and per attachment (by item id): a run that was stopped after
        recording and before finishing records the same mail or item again, and the later record stands.  A line
        that is not valid JSON (a crash while appending) is skipped and counted."""
        raw, self.damaged_lines = read_jsonl(self.records_path)
        last: dict[tuple[str, str], int] = {}
        for i, r in enumerate(raw):
            key = r.get("message_id") if r.get("kind") == "mail" else r.get("item_id")
            last[(str(r.get("kind")), str(key) if key else f"#{i}")] = i
        keep = set(last.values())
        return [r for i, r in enumerate(raw) if i in keep]

    def summary(self) -> dict[str, Any]:
        recs = self.records()
        mails = [r for r in recs if r["kind"] == "mail"]
        atts = [r for r in recs if r["kind"] == "attachment"]
        decisions = Counter(r["decision"] for r in atts)
        codes = Counter(r["code"] for r in atts if r.get("code"))
        return {
            "mails": len(mails),
            "attachments_queued": sum(int(m.get("attachments", 0)) for m in mails),
            "attachments": len(atts),
            **{d: decisions.get(d, 0) for d in DECISIONS},
            "codes": dict(sorted(codes.items())),
            "mails_without_document": sum(1 for m in mails if int(m.get("attachments", 0)) == 0 and not m.get("review")),
            "mails_to_review": sum(1 for m in mails if m.get("review")),
            "damaged_record_lines": len(self.damaged_lines),
        }

    def write(self) -> dict[str, str]:
        """Render the report files from the records; return their paths."""
        self.directory.mkdir(parents=True, exist_ok=True)
        recs = self.records()
        summary = self.summary()
        paths = {
            "html": str(self.directory / "report.html"),
            "csv": str(self.directory / "report.csv"),
            "json": str(self.directory / "summary.json"),
        }
        Path(paths["json"]).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        with open(paths["csv"], "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for r in recs:
                writer.writerow(_csv_row(r))
        Path(paths["html"]).write_text(render_html(recs, summary), encoding="utf-8")
        return paths


def _min_conf(r: dict[str, Any]) -> float | None:
    confs = [f.get("confidence") for f in (r.get("fields") or {}).values() if f.get("confidence") is not None]
    return round(min(confs), 3) if confs else None


def _csv_row(r: dict[str, Any]) -> dict[str, Any]:
    row = {k: r.get(k, "") for k in CSV_COLUMNS}
    if r["kind"] == "mail":
        row["reason"] = r.get("note", "")
        row["decision"] = ""
        row["file_name"] = f"{r.get('attachments', 0)} attachment(s)"
    else:
        row["fields"] = json.dumps({k: v.get("value") for k, v in (r.get("fields") or {}).items()}, ensure_ascii=False)
        row["min_confidence"] = _min_conf(r)
    return {k: csv_cell(v) for k, v in row.items()}


#: A spreadsheet runs a cell that starts with one of these as a formula (``=HYPERLINK(...)``, ``+cmd|...``).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: one that would start a formula gets a leading apostrophe
    (OWASP's advice for CSV injection); numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


_STYLE = """
body{font-family:sans-serif;margin:1.5em;color:#222}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border:1px solid #ccc;padding:4px 6px;vertical-align:top;text-align:left}th{background:#f0f0f0}
.done{background:#e6f4ea}.review{background:#fff4ce}.failed{background:#fde7e9}.mail{background:#f7f7f7}
.counts span{display:inline-block;margin-right:1.5em;font-size:15px}small{color:#666}
"""


def render_html(records: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    e = html.escape
    counts = " ".join(
        f"<span><b>{e(str(summary.get(k, 0)))}</b> {e(k.replace('_', ' '))}</span>"
        for k in ("mails", "attachments_queued", "attachments", *DECISIONS, "mails_without_document", "mails_to_review")
    )
    codes = ", ".join(f"{e(k)}: {v}" for k, v in summary.get("codes", {}).items()) or "none"
    by_message: dict[str, list[dict[str, Any]]] = {}
    order: list[str] = []
    for r in records:
        mid = r.get("message_id") or f"(no message id) {r.get('file_name', '')}"
        if mid not in by_message:
            order.append(mid)
        by_message.setdefault(mid, []).append(r)
    rows = []
    for mid in order:
        for r in by_message[mid]:
            if r["kind"] == "mail":
                rows.append(
                    f"<tr class='mail'><td>{e(r['time'])}</td><td colspan='2'><b>{e(r.get('subject', ''))}</b><br>"
                    f"<small>{e(r.get('sender', ''))} · {e(r.get('mail_date', ''))} · {e(mid)}</small></td>"
                    f"<td colspan='4'>{e(str(r.get('attachments', 0)))} attachment(s) queued"
                    f"{(' — ' + e(r['note'])) if r.get('note') else ''}</td></tr>"
                )
                continue
            fields = "<br>".join(
                f"{e(k)}: {e(str(v.get('value')))} <small>({float(v.get('confidence') or 0):.2f})</small>"
                for k, v in (r.get("fields") or {}).items()
            )
            tconf = r.get("type_confidence")
            doc_type = e(str(r.get("document_type") or "?")) + (f" <small>({tconf:.2f})</small>" if tconf else "")
            rows.append(
                f"<tr class='{e(r['decision'])}'><td>{e(r['time'])}<br><small>{float(r.get('seconds') or 0):.1f} s</small></td>"
                f"<td>{e(r.get('file_name', ''))}<br><small>{e((r.get('sha256') or '')[:12])}</small></td>"
                f"<td>{doc_type}</td><td>{fields}</td><td><b>{e(r['decision'])}</b></td>"
                f"<td>{e(r.get('code') or '')}</td><td>{e(r.get('reason') or '')}</td></tr>"
            )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Invoice robot run report</title>"
        f"<style>{_STYLE}</style></head><body><h1>Invoice robot run report</h1>"
        f"<p><small>rendered {e(_now())}</small></p><p class='counts'>{counts}</p><p>codes: {codes}</p>"
        "<table><tr><th>time</th><th>mail / file</th><th>type</th><th>fields (confidence)</th>"
        "<th>decision</th><th>code</th><th>reason</th></tr>" + "".join(rows) + "</table></body></html>\n"
    )


# ---------------------------------------------------------------- the ledger of documents already seen


def default_state_dir() -> Path:
    return Path(os.environ.get("INVOICEBOT_STATE_DIR") or PROJECT_ROOT / "var" / "state")


def _norm(s: str | None) -> str:
    return re.sub(r"[^0-9a-z]", "", (s or "").casefold())


class Ledger:
    """Documents this installation has already taken, by file hash and by vendor + invoice number.

    One JSON object per line in ``invoice-ledger.jsonl``.  An item that is processed again (a retry of the
    same work item) is not its own duplicate: entries carry the item key that first saw them.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = Path(path) if path else default_state_dir() / "invoice-ledger.jsonl"

    def entries(self) -> list[dict[str, Any]]:
        """The entries; a damaged line (a crash while appending) is skipped with a warning, never fatal."""
        out, damaged = read_jsonl(self.path)
        if damaged:
            log.warning("%s: line(s) %s damaged and skipped", self.path, ", ".join(map(str, damaged)))
        return out

    def find_duplicate(self, *, item_key: str, sha256: str = "", vendor: str | None = None,
                       invoice_number: str | None = None) -> dict[str, Any] | None:
        """Return the earlier entry this document duplicates, or None."""
        v, n = _norm(vendor), _norm(invoice_number)
        for entry in self.entries():
            if entry.get("item_key") == item_key:
                continue
            if sha256 and entry.get("sha256") == sha256:
                return {**entry, "match": "same file"}
            if v and n and entry.get("vendor") == v and entry.get("invoice_number") == n:
                return {**entry, "match": "same vendor and invoice number"}
        return None

    def add(self, *, item_key: str, sha256: str = "", vendor: str | None = None,
            invoice_number: str | None = None, decision: str = "") -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"item_key": item_key, "sha256": sha256, "vendor": _norm(vendor),
                 "invoice_number": _norm(invoice_number), "decision": decision, "time": _now(),
                 "epoch": time.time()}
        append_jsonl(self.path, entry)


# ------------------------------------------------------------------------------------------------ JSON Lines


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line, under a lock, fsynced.  A last line left without its newline by a crash is ended
    first, so that the new line never glues onto it (the torn one is then skipped by ``read_jsonl``)."""
    data = (json.dumps(record, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")
    with open(path, "ab+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            end = fh.seek(0, os.SEEK_END)
            if end:
                fh.seek(end - 1)
                if fh.read(1) != b"\n":
                    data = b"\n" + data
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[int]]:
    """The objects of a JSON Lines file and the numbers of the lines that are not valid JSON objects."""
    if not path.exists():
        return [], []
    out, damaged = [], []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for n, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                damaged.append(n)
                continue
            if isinstance(obj, dict):
                out.append(obj)
            else:
                damaged.append(n)
    return out, damaged
