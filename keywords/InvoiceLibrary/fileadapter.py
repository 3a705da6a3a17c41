"""A local work-item queue in JSON files that loses nothing: the embedded default of the robot.

rpaframework's ``FileAdapter`` simulates a queue for development, and in production it loses work:

- it rewrites the output file in place (a crash mid-write leaves half a queue) and starts each run with an
  empty output list, so a producer run overwrites the items an earlier run queued and no consumer took yet;
- an unreadable or missing input file becomes one empty item, so a consumer "processes" nothing and passes;
- it forgets what was released, so every consumer run takes every item again.

``DurableFileAdapter`` (``RPA_WORKITEMS_ADAPTER=InvoiceLibrary.fileadapter.DurableFileAdapter``) keeps the
FileAdapter's files and layout (the producer's output file is the consumer's input file) and adds:

- every write goes to a temporary file, is fsynced and renamed over the old one: the file is whole or old;
- a producer starts from the items already in its output file, less those a consumer has finished, so
  nothing queued is lost by the next run; an item that lacks its file (a run stopped between making the item
  and attaching the file) is dropped, so that the next run makes it whole;
- a consumer refuses an input file that is missing or unreadable, with the path and what to do;
- each release is appended (fsynced) to ``<input file>.released.jsonl``; an item released DONE or with a
  BUSINESS exception is not taken again, one with an APPLICATION exception is retried up to
  ``INVOICEBOT_WORKITEM_ATTEMPTS`` times (default 3) and then kept as dead, logged with its last reason.

An item is known by its payload's ``item_key`` (the producer's attachment key); items without one (the
producer's empty trigger item) are always taken.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from RPA.Robocorp.WorkItems import FileAdapter, State

log = logging.getLogger(__name__)

JOURNAL_SUFFIX = ".released.jsonl"


class WorkItemsFileError(RuntimeError):
    """The local work-items file cannot be used as it is; the message says which file and what to do."""

    ROBOT_SUPPRESS_NAME = True


def max_attempts() -> int:
    raw = os.environ.get("INVOICEBOT_WORKITEM_ATTEMPTS") or "3"
    try:
        return max(1, int(raw))
    except ValueError:
        raise WorkItemsFileError(f"INVOICEBOT_WORKITEM_ATTEMPTS={raw!r} is not a whole number; use e.g. 3") from None


def item_key_of(item: dict[str, Any]) -> str | None:
    """The key of a work item: its payload's ``item_key``; None for an item without one."""
    payload = item.get("payload")
    if isinstance(payload, dict) and payload.get("item_key"):
        return str(payload["item_key"])
    return None


def expected_file(item: dict[str, Any]) -> str | None:
    """The file an item of this robot must carry: the attachment (producer) or the result (consumer)."""
    payload = item.get("payload")
    if not isinstance(payload, dict):
        return None
    if payload.get("result_file"):
        return str(payload["result_file"])
    if payload.get("file_name") and not payload.get("duplicate_of"):
        return str(payload["file_name"])
    return None


def incomplete(item: dict[str, Any], folder: Path) -> bool:
    """Whether an item lacks the file it must carry: a run was stopped between making the item and adding its
    file (``Create Output Work Item`` saves the payload first).  Such an item is dropped, so the next run makes it
    whole again instead of leaving a consumer an item without its document."""
    want = expected_file(item)
    if want is None:
        return False
    files = item.get("files") or {}
    if want not in files:
        return True
    path = Path(files[want])
    return not (path if path.is_absolute() else folder / path).is_file()


def journal_path(items_file: Path) -> Path:
    return items_file.with_name(items_file.name + JOURNAL_SUFFIX)


def read_journal(items_file: Path) -> dict[str, dict[str, Any]]:
    """key -> {"state", "exception", "attempts"} of the releases recorded for ``items_file``'s items.

    A last line cut short by a crash is ignored (that release did not finish: the item is taken again)."""
    path = journal_path(items_file)
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    lines = path.read_text(encoding="utf-8", errors="replace").split("\n")
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            key = str(rec["key"])
        except (ValueError, KeyError, TypeError):
            if n == len(lines):  # the torn last line of a crash
                log.warning("%s: the last line was cut short (a crash while writing?); it is ignored", path)
                continue
            raise WorkItemsFileError(
                f"line {n} of the work-item journal {path} is damaged; remove that line (then that item is taken "
                "again) or restore the file") from None
        seen = out.setdefault(key, {"attempts": 0})
        seen["attempts"] += 1
        seen["state"], seen["exception"] = rec.get("state"), rec.get("exception")
    return out


def finished(entry: dict[str, Any] | None, attempts: int) -> bool:
    """Whether an item with this journal entry is not to be taken again: done, a business exception, or dead."""
    if not entry:
        return False
    if entry.get("state") == State.DONE.value:
        return True
    exc = entry.get("exception") or {}
    if str(exc.get("type", "")).upper() == "BUSINESS":
        return True
    return entry.get("attempts", 0) >= attempts


def read_items(path: Path, role: str) -> list[dict[str, Any]]:
    """The items of a work-items file; raises WorkItemsFileError when it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkItemsFileError(
            f"the {role} work-items file {path} does not exist; run the producer first, or check "
            "RPA_INPUT_WORKITEM_PATH / RPA_OUTPUT_WORKITEM_PATH") from None
    except (OSError, ValueError) as exc:
        raise WorkItemsFileError(
            f"the {role} work-items file {path} is unreadable ({exc}); nothing was taken from it. Restore it "
            "from a backup or repair the JSON; do not delete it, it holds queued work") from None
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise WorkItemsFileError(
            f"the {role} work-items file {path} is not a list of work items (objects with 'payload' and "
            "'files'); nothing was taken from it")
    return data


def write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class DurableFileAdapter(FileAdapter):
    """The FileAdapter's files and layout, with atomic writes, carried-over outputs and a release journal."""

    def __init__(self, *args, **kwargs):
        self._attempts = max_attempts()
        super().__init__(*args, **kwargs)  # reads the inputs through load_database below
        self.outputs = self._carried_outputs()
        if not Path(self.output_path).exists():  # a run that queues nothing hands on an empty queue, not no file
            self._save_to_disk("output")

    # -- inputs
    def load_database(self) -> list[dict[str, Any]]:
        path = self.input_path
        if not path:
            raise WorkItemsFileError("RPA_INPUT_WORKITEM_PATH is not set: the local queue needs its input "
                                     "work-items file (see devdata/README.md)")
        items = read_items(Path(path), "input")
        journal = read_journal(Path(path))
        todo, dead = [], []
        for item in items:
            key = item_key_of(item)
            entry = journal.get(key) if key else None
            if not finished(entry, self._attempts):
                todo.append(item)
            elif entry.get("state") != State.DONE.value and str((entry.get("exception") or {}).get("type", "")).upper() != "BUSINESS":
                dead.append((key, entry))
        for key, entry in dead:
            log.warning("work item %s failed %d times, the last with %s; it is kept as dead and not taken again",
                        key, entry.get("attempts", 0), entry.get("exception"))
        skipped = len(items) - len(todo)
        if skipped:
            logging.info("%s: %d of %d work items were finished before and are not taken again", path, skipped, len(items))
        return todo or [{"payload": {}}]

    def release_input(self, item_id: str, state: State, exception: dict | None = None):
        super().release_input(item_id, state, exception)
        _, item = self._get_item(item_id)
        key = item_key_of(item)
        if key is None:
            return
        rec = {"key": key, "state": state.value, "exception": exception or None,
               "time": datetime.now(UTC).isoformat(timespec="seconds")}
        path = journal_path(Path(self.input_path))
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(rec, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    # -- outputs
    def _carried_outputs(self) -> list[dict[str, Any]]:
        """The items already in the output file that no consumer has finished: a new run adds to them."""
        path = Path(self.output_path)
        if not path.exists():
            return []
        items = read_items(path, "output")
        journal = read_journal(path)
        kept = [i for i in items if item_key_of(i) and not finished(journal.get(item_key_of(i)), self._attempts)]
        broken = [i for i in kept if incomplete(i, path.parent)]
        for item in broken:
            log.warning("%s: work item %s lacks its file %s (a run was stopped while making it); it is dropped and "
                        "made again", path, item_key_of(item), expected_file(item))
        kept = [i for i in kept if i not in broken]
        if items:
            logging.info("%s: %d queued work item(s) carried over, %d finished or incomplete ones dropped", path,
                         len(kept), len(items) - len(kept))
        if len(kept) != len(items):
            write_atomically(path, json.dumps(kept, indent=4, ensure_ascii=False, default=str))
        return kept

    def _save_to_disk(self, source: str) -> None:
        if source == "input":
            if not self.input_path:
                raise WorkItemsFileError("cannot save an input item without RPA_INPUT_WORKITEM_PATH")
            path, data = Path(self.input_path), self.inputs
        else:
            path, data = Path(self.output_path), self.outputs
        write_atomically(path, json.dumps(data, indent=4, ensure_ascii=False, default=str))

    def output_keys(self) -> set[str]:
        return {k for k in (item_key_of(i) for i in self.outputs) if k}


def queued_keys(output_file: str | os.PathLike[str]) -> set[str]:
    """The item keys a local output work-items file holds (empty when the file does not exist)."""
    path = Path(output_file)
    if not path.exists():
        return set()
    return {k for k in (item_key_of(i) for i in read_items(path, "output") if not incomplete(i, path.parent)) if k}

