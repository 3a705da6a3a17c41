"""Helpers of the end-to-end robot suite: generate an inbox, read work items, the run report and logs.

Checks that need several data sets at once live here as keywords that fail with a list of what is wrong.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

from robot.api import logger

DECISIONS = {"done", "review", "failed"}


def generate_inbox(folder: str, count: int = 50, seed: int = 11) -> dict[str, Any]:
    """Write a generated vendor inbox (``invoicebot.mailgen``) and return its manifest."""
    from invoicebot.mailgen import write_inbox

    write_inbox(folder, int(count), int(seed))
    manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    kinds = Counter(m["kind"] for m in manifest["mails"])
    logger.info(f"{manifest['count']} mails: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    from InvoiceLibrary.base import MaskedDict

    return MaskedDict(manifest)  # Robot logs return values at TRACE: the manifest holds IBANs and tax ids


def read_work_items(path: str) -> list[dict[str, Any]]:
    """The items of a FileAdapter work item file; a missing file is an empty queue."""
    p = Path(path)
    if not p.exists():
        return []
    items = json.loads(p.read_text(encoding="utf-8"))
    return [i for i in items if i.get("payload")]


def report_run_folder(report_dir: str) -> str:
    """The one run folder under ``report_dir`` (each e2e run has its own report folder)."""
    runs = sorted(p for p in Path(report_dir).iterdir() if p.is_dir()) if Path(report_dir).is_dir() else []
    if len(runs) != 1:
        raise AssertionError(f"expected one run report under {report_dir}, found {[p.name for p in runs]}")
    return str(runs[0])


def read_report_records(report_dir: str) -> list[dict[str, Any]]:
    """All records of all runs under ``report_dir``."""
    out = []
    for p in sorted(Path(report_dir).glob("*/records.jsonl")):
        out += [json.loads(line) for line in p.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


def every_mail_should_be_reported(manifest: dict, records: list[dict]) -> None:
    """Each generated mail appears exactly once as a mail record."""
    expected = Counter(m["message_id"] for m in manifest["mails"])
    got = Counter(r["message_id"] for r in records if r["kind"] == "mail")
    problems = [f"{mid}: expected once, reported {got.get(mid, 0)} time(s)" for mid in expected if got.get(mid) != 1]
    problems += [f"{mid}: reported but not in the inbox" for mid in got if mid not in expected]
    if problems:
        raise AssertionError("mails lost or doubled in the report:\n" + "\n".join(problems))


def every_attachment_should_have_one_outcome(manifest: dict, work_items: list[dict], records: list[dict]) -> dict:
    """Every document of every mail became one work item, and every work item one outcome with a reason."""
    problems = []
    queued = Counter(i["payload"]["item_key"] for i in work_items)
    problems += [f"work item {k} queued {n} times" for k, n in queued.items() if n != 1]
    by_mail = Counter(i["payload"]["message_id"] for i in work_items)
    for mail in manifest["mails"]:
        if by_mail.get(mail["message_id"], 0) != len(mail["documents"]):
            problems.append(f"{mail['file']} ({mail['kind']}): {len(mail['documents'])} document(s) expected, "
                            f"{by_mail.get(mail['message_id'], 0)} work item(s) queued")
    outcomes = [r for r in records if r["kind"] == "attachment"]
    seen = Counter(r["item_id"] for r in outcomes)
    for key in queued:
        if seen.get(key) != 1:
            problems.append(f"work item {key}: {seen.get(key, 0)} outcome(s) in the report, expected exactly 1")
    for r in outcomes:
        if r["decision"] not in DECISIONS:
            problems.append(f"{r['file_name']}: decision {r['decision']!r}")
        if not str(r.get("reason", "")).strip():
            problems.append(f"{r['file_name']}: {r['decision']} without a reason")
        if r["item_id"] not in queued:
            problems.append(f"{r['file_name']}: outcome for an item that was never queued ({r['item_id']})")
    if problems:
        raise AssertionError(f"{len(problems)} problem(s):\n" + "\n".join(problems))
    counts = Counter(r["decision"] for r in outcomes)
    logger.info(f"{len(outcomes)} outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "; codes: "
                + ", ".join(f"{k} {v}" for k, v in sorted(Counter(r['code'] for r in outcomes if r['code']).items())))
    return dict(counts)


def outcomes_of_kind(manifest: dict, records: list[dict], kind: str) -> list[dict]:
    """The attachment outcomes of the mails of one generated kind (invoice, corrupt_pdf, zip_two, ...)."""
    ids = {m["message_id"] for m in manifest["mails"] if m["kind"] == kind}
    if not ids:
        raise AssertionError(f"the generated inbox has no mail of kind {kind!r}")
    return [r for r in records if r["kind"] == "attachment" and r["message_id"] in ids]


def mails_of_kind(manifest: dict, records: list[dict], kind: str) -> list[dict]:
    ids = {m["message_id"] for m in manifest["mails"] if m["kind"] == kind}
    return [r for r in records if r["kind"] == "mail" and r["message_id"] in ids]


def files_should_not_contain_secrets(manifest: dict, *paths: str) -> None:
    """No IBAN or tax id of the generated documents appears in clear in the given files."""
    secrets = set()
    for mail in manifest["mails"]:
        for f in mail.get("fields") or []:
            for key in ("iban", "vendor_tax_id"):
                if f.get(key):
                    secrets.add(re.sub(r"\s+", "", str(f[key])))
    if not secrets:
        raise AssertionError("the manifest holds no IBAN or tax id to look for")
    leaks = []
    for path in paths:
        text = re.sub(r"\s+", "", Path(path).read_text(encoding="utf-8", errors="replace"))
        leaks += [f"{path}: {s[:4]}…" for s in secrets if s in text]
    if leaks:
        raise AssertionError("secrets in clear:\n" + "\n".join(leaks))
    logger.info(f"{len(secrets)} IBANs/tax ids looked for in {len(paths)} file(s): none in clear")


def files_should_not_hold_the_vault_password(vault: str, secret: str, *paths: str) -> None:
    """The password of ``secret`` in the FileSecrets ``vault`` is in none of ``paths`` (read here, never logged)."""
    password = json.loads(Path(vault).read_text(encoding="utf-8"))[secret]["password"]
    leaks = [p for p in paths if password in Path(p).read_text(encoding="utf-8", errors="replace")]
    if leaks:
        raise AssertionError("the mailbox password is in clear in: " + ", ".join(leaks))
    logger.info(f"the mailbox password is in none of {len(paths)} file(s)")
