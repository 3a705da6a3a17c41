"""The local work-item queue (DurableFileAdapter): nothing queued is lost, nothing finished is taken again."""

from __future__ import annotations

import json

import pytest
from InvoiceLibrary.fileadapter import DurableFileAdapter, WorkItemsFileError, journal_path, queued_keys
from RPA.Robocorp.WorkItems import State


def items(*keys: str) -> list[dict]:
    return [{"payload": {"item_key": k, "file_name": f"{k}.pdf"}, "files": {}} for k in keys]


@pytest.fixture
def paths(tmp_path, monkeypatch):
    trigger = tmp_path / "in" / "work-items.json"
    trigger.parent.mkdir()
    trigger.write_text('[{"payload": {}}]')
    queue = tmp_path / "queue" / "work-items.json"
    monkeypatch.setenv("INVOICEBOT_WORKITEM_ATTEMPTS", "2")
    return trigger, queue


def producer(trigger, queue, monkeypatch) -> DurableFileAdapter:
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(trigger))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(queue))
    return DurableFileAdapter()


def consumer(queue, out, monkeypatch) -> DurableFileAdapter:
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(queue))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(out))
    return DurableFileAdapter()


def take_all(adapter) -> list[str]:
    from RPA.Robocorp.WorkItems import EmptyQueue

    out = []
    while True:
        try:
            item_id = adapter.reserve_input()
        except EmptyQueue:
            return out
        out.append(item_id)


@pytest.mark.parametrize("content", ["[{\"payload\": ", "not json", '{"a": 1}', "[1, 2]"])
def test_an_unreadable_input_file_fails_loudly_instead_of_being_an_empty_queue(tmp_path, monkeypatch, content):
    bad = tmp_path / "work-items.json"
    bad.write_text(content)
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(bad))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "out.json"))
    with pytest.raises(WorkItemsFileError, match=f"input work-items file {bad}.*nothing was taken"):
        DurableFileAdapter()


def test_a_missing_input_file_fails_loudly(tmp_path, monkeypatch):
    monkeypatch.setenv("RPA_INPUT_WORKITEM_PATH", str(tmp_path / "none.json"))
    monkeypatch.setenv("RPA_OUTPUT_WORKITEM_PATH", str(tmp_path / "out.json"))
    with pytest.raises(WorkItemsFileError, match="does not exist; run the producer first"):
        DurableFileAdapter()


def test_a_second_producer_run_keeps_what_the_first_queued_and_no_consumer_took(paths, monkeypatch):
    trigger, queue = paths
    first = producer(trigger, queue, monkeypatch)
    for payload in (i["payload"] for i in items("a", "b")):
        first.add_file(first.create_output("0", payload), payload["file_name"], original_name=payload["file_name"],
                       content=b"%PDF-1.4")
    second = producer(trigger, queue, monkeypatch)  # the next scheduled run, before any consumer ran
    c = items("c")[0]["payload"]
    second.add_file(second.create_output("0", c), "c.pdf", original_name="c.pdf", content=b"%PDF-1.4")
    assert queued_keys(queue) == {"a", "b", "c"}
    assert not list(queue.parent.glob("*.tmp"))


def test_finished_items_are_not_taken_again_and_retried_ones_are_until_dead(paths, monkeypatch, tmp_path):
    trigger, queue = paths
    queue.parent.mkdir(parents=True, exist_ok=True)
    queue.write_text(json.dumps(items("done", "business", "app", "new")))
    c = consumer(queue, tmp_path / "done.json", monkeypatch)
    ids = take_all(c)
    assert len(ids) == 4
    c.release_input(ids[0], State.DONE)
    c.release_input(ids[1], State.FAILED, {"type": "BUSINESS", "code": "INVALID", "message": "sums"})
    c.release_input(ids[2], State.FAILED, {"type": "APPLICATION", "code": "KEYING", "message": "ui down"})
    # killed before "new" was released: it comes again, so does the application failure (attempt 2 of 2)
    again = consumer(queue, tmp_path / "done.json", monkeypatch)
    assert [again.load_payload(i)["item_key"] for i in take_all(again)] == ["app", "new"]
    again.release_input("0", State.FAILED, {"type": "APPLICATION", "code": "KEYING", "message": "ui down"})
    again.release_input("1", State.DONE)
    third = consumer(queue, tmp_path / "done.json", monkeypatch)  # "app" is dead after 2 attempts
    assert third.load_payload(take_all(third)[0]) == {}
    # a producer run now drops the finished items and keeps none of them
    assert producer(trigger, queue, monkeypatch).outputs == []


def test_a_torn_last_journal_line_means_that_release_did_not_happen(paths, monkeypatch, tmp_path):
    _, queue = paths
    queue.parent.mkdir(parents=True, exist_ok=True)
    queue.write_text(json.dumps(items("a")))
    with open(journal_path(queue), "w") as fh:
        fh.write('{"key": "a", "state": "COMPL')
    c = consumer(queue, tmp_path / "done.json", monkeypatch)
    assert c.load_payload(take_all(c)[0])["item_key"] == "a"


def test_the_producer_does_not_queue_an_attachment_whose_item_an_earlier_run_made(paths, monkeypatch, tmp_path):
    from InvoiceLibrary import InvoiceLibrary
    from InvoiceLibrary.workitems import item_key

    lib = InvoiceLibrary(report_dir=str(tmp_path / "report"))
    trigger, queue = paths
    monkeypatch.setenv("RPA_WORKITEMS_ADAPTER", "InvoiceLibrary.fileadapter.DurableFileAdapter")
    att = {"status": "saved", "message_id": "m1", "sha256": "s" * 64, "file_name": "a.pdf"}
    p = producer(trigger, queue, monkeypatch)
    assert lib.attachment_should_be_queued(att) is True
    p.create_output("0", {"item_key": item_key("m1", "s" * 64)})
    assert lib.attachment_should_be_queued(att) is False


def test_an_item_left_without_its_file_by_a_kill_is_dropped_and_made_again(paths, monkeypatch):
    trigger, queue = paths
    first = producer(trigger, queue, monkeypatch)
    first.create_output("0", {"item_key": "a", "file_name": "a.pdf"})  # killed before the file was added
    ok = first.create_output("0", {"item_key": "b", "file_name": "b.pdf"})
    first.add_file(ok, "b.pdf", original_name="b.pdf", content=b"%PDF-1.4")
    assert queued_keys(queue) == {"b"}  # the producer's check does not count the incomplete item
    second = producer(trigger, queue, monkeypatch)
    assert [i["payload"]["item_key"] for i in second.outputs] == ["b"]
    assert [i["payload"]["item_key"] for i in json.loads(queue.read_text())] == ["b"]


def test_a_producer_run_that_queues_nothing_hands_on_an_empty_queue_not_a_missing_file(paths, monkeypatch, tmp_path):
    trigger, queue = paths
    producer(trigger, queue, monkeypatch)
    assert json.loads(queue.read_text()) == []
    c = consumer(queue, tmp_path / "done.json", monkeypatch)
    assert c.load_payload(take_all(c)[0]) == {}
