"""The PostgreSQL work-item adapter: its pure rules always; its queue behaviour on the real server when the
project's PostgreSQL runs (``scripts/postgres.sh start``), skipped otherwise. tests/acceptance/queue.robot
starts the server itself and never skips."""

from __future__ import annotations

import time
import uuid

import pytest
from InvoiceLibrary.workqueue import (
    COMPLETED,
    DEAD,
    FAILED,
    PENDING,
    LeaseLost,
    PostgresAdapter,
    QueueAdmin,
    QueueConfig,
    QueueError,
    connect,
    default_dsn,
    main,
    release_outcome,
    safe_dsn,
    take_outcome,
)
from RPA.Robocorp.WorkItems import EmptyQueue, State

# --------------------------------------------------------------------------- configuration


def test_config_defaults_are_the_project_server_and_a_producer():
    config = QueueConfig.from_env({})
    assert config.input_queue == "" and config.output_queue == "attachments"
    assert "port=15432" in config.dsn and "passfile=" in config.dsn and "password" not in config.dsn
    assert (config.lease_s, config.max_attempts, config.drain) == (60.0, 3, True)
    assert config.heartbeat_s == 15.0


def test_config_of_a_consumer():
    config = QueueConfig.from_env({"INVOICEBOT_QUEUE_INPUT": "attachments", "INVOICEBOT_QUEUE_LEASE": "8",
                                   "INVOICEBOT_QUEUE_MAX_ATTEMPTS": "5", "INVOICEBOT_QUEUE_WAIT": "2.5",
                                   "INVOICEBOT_QUEUE_DSN": "host=db.example dbname=q"})
    assert config.output_queue == "attachments.done"
    assert (config.lease_s, config.max_attempts, config.drain, config.idle_wait_s) == (8.0, 5, False, 2.5)
    assert config.dsn == "host=db.example dbname=q" and config.poll_s == 0.5


@pytest.mark.parametrize(("env", "message"), [
    ({"INVOICEBOT_QUEUE_LEASE": "soon"}, "INVOICEBOT_QUEUE_LEASE='soon' is not a number"),
    ({"INVOICEBOT_QUEUE_LEASE": "0.5"}, "INVOICEBOT_QUEUE_LEASE='0.5' must be at least 1"),
    ({"INVOICEBOT_QUEUE_INPUT": "a", "INVOICEBOT_QUEUE_OUTPUT": "a"}, "would take its own outputs"),
])
def test_config_errors_name_the_setting(env, message):
    with pytest.raises(QueueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        QueueConfig.from_env(env)


def test_default_dsn_follows_the_server_script_settings(tmp_path):
    dsn = default_dsn({"INVOICEBOT_PG_PORT": "5999", "INVOICEBOT_PG_DIR": str(tmp_path)})
    assert dsn == f"host=127.0.0.1 port=5999 dbname=invoicebot user=postgres passfile={tmp_path / 'pgpass'}"


def test_safe_dsn_never_shows_the_password():
    shown = safe_dsn("host=h port=1 dbname=d user=u password=s3cret-Value")
    assert shown == "host=h port=1 dbname=d user=u"
    assert "s3cret" not in safe_dsn("postgresql://u:s3cret@h:5/d") and "s3cret" not in safe_dsn("password='s3cret")


def test_an_unreachable_server_is_named_without_its_password():
    with pytest.raises(QueueError) as caught:
        connect("host=127.0.0.1 port=1 dbname=q user=u password=s3cret-Value connect_timeout=2")
    message = str(caught.value)
    assert message.startswith("cannot reach the work-item queue at host=127.0.0.1 port=1 dbname=q user=u: ")
    assert "scripts/postgres.sh start" in message and "s3cret" not in message


# --------------------------------------------------------------------------- release and take rules


def test_done_completes():
    assert release_outcome(State.DONE, None, 1, 3).state == COMPLETED


def test_business_failure_is_kept_with_its_code_and_message():
    outcome = release_outcome(State.FAILED, {"type": "BUSINESS", "code": "DUPLICATE", "message": "keyed as 7"}, 1, 3)
    assert (outcome.state, outcome.job, outcome.reason) == (FAILED, "exception", "DUPLICATE: keyed as 7")
    assert release_outcome(State.FAILED, None, 1, 3).reason == "no reason given"


def test_application_failure_retries_until_the_limit_then_is_dead():
    exc = {"type": "APPLICATION", "code": "KEYING", "message": "Tryton down"}
    first = release_outcome(State.FAILED, exc, 1, 3)
    assert (first.state, first.job, first.reason) == (PENDING, "retry", "APPLICATION failure 1 of 3: KEYING: Tryton down")
    last = release_outcome(State.FAILED, exc, 3, 3)
    assert (last.state, last.job) == (DEAD, "failed") and "each of 3 attempts" in last.reason


def test_an_item_taken_too_often_without_release_is_dead():
    assert take_outcome(2, 3, None, 60) is None
    reason = take_outcome(3, 3, "APPLICATION failure 1 of 3: X", 60)
    assert reason.startswith("taken 3 times (the limit) without a release") and "last failure: APPLICATION" in reason


# --------------------------------------------------------------------------- on the real server


@pytest.fixture(scope="module")
def admin():
    try:
        with QueueAdmin() as queue_admin:
            yield queue_admin
    except QueueError as exc:
        pytest.skip(f"the project's PostgreSQL is not running (scripts/postgres.sh start): {exc}")


@pytest.fixture
def queue(admin):
    name = f"unit-{uuid.uuid4().hex[:8]}"
    yield name
    admin.purge(name, f"{name}.done")


def adapter(queue: str = "", output: str = "", **settings: str) -> PostgresAdapter:
    env = {"INVOICEBOT_QUEUE_INPUT": queue, "INVOICEBOT_QUEUE_OUTPUT": output, "INVOICEBOT_QUEUE_WAIT": "0",
           "INVOICEBOT_QUEUE_RETRY_DELAY": "0"}
    env.update({f"INVOICEBOT_QUEUE_{k.upper()}": v for k, v in settings.items()})
    return PostgresAdapter(QueueConfig.from_env(env))


def produce(queue: str, count: int) -> list[str]:
    producer = adapter(output=queue)
    seed = producer.reserve_input()
    ids = []
    for n in range(count):
        item = producer.create_output(seed, {"n": n})
        producer.add_file(item, "doc.pdf", original_name=f"doc-{n}.pdf", content=b"%PDF-" + str(n).encode())
        ids.append(item)
    producer.close()
    return ids


def test_a_draft_is_invisible_until_sealed_with_its_files(admin, queue):
    producer = adapter(output=queue)
    seed = producer.reserve_input()
    first = producer.create_output(seed, {"n": 0})
    assert admin.counts(queue)["DRAFT"] == 1
    consumer = adapter(queue)
    with pytest.raises(EmptyQueue):
        consumer.reserve_input()  # the draft is no job yet
    producer.add_file(first, "doc.pdf", original_name="doc.pdf", content=b"%PDF-0")
    producer.close()  # seals the last draft
    item = consumer.reserve_input()
    assert (item, consumer.list_files(item), consumer.get_file(item, "doc.pdf")) == (first, ["doc.pdf"], b"%PDF-0")
    consumer.close()


def test_each_item_is_taken_once_by_two_consumers_and_outputs_go_live_with_the_release(admin, queue):
    produce(queue, 6)
    a, b = adapter(queue), adapter(queue)
    taken = []
    for consumer in (a, b, a, b, a, b):
        item = consumer.reserve_input()
        taken.append(item)
        consumer.create_output(item, {"from": item})
        assert admin.counts(f"{queue}.done")["PENDING"] == len(taken) - 1  # the output waits for the release
        consumer.release_input(item, State.DONE)
    assert len(set(taken)) == 6 and admin.counts(queue)[COMPLETED] == 6
    assert sorted(str(i["parent_id"]) for i in admin.items(f"{queue}.done")) == sorted(taken)
    with pytest.raises(EmptyQueue):
        a.reserve_input()
    a.close()
    b.close()


def test_failures_are_kept_with_code_and_message_and_retries_end_dead(admin, queue):
    produce(queue, 2)
    consumer = adapter(queue, max_attempts="2")
    business = consumer.reserve_input()
    consumer.release_input(business, State.FAILED, {"type": "BUSINESS", "code": "LOW_CONFIDENCE", "message": "0.4"})
    app = consumer.reserve_input()
    consumer.release_input(app, State.FAILED, {"type": "APPLICATION", "code": "KEYING", "message": "Tryton down"})
    assert consumer.reserve_input() == app  # offered again
    consumer.release_input(app, State.FAILED, {"type": "APPLICATION", "code": "KEYING", "message": "Tryton down"})
    with pytest.raises(EmptyQueue):
        consumer.reserve_input()
    items = {str(i["id"]): i for i in admin.items(queue)}
    assert (items[business]["state"], items[business]["exception_type"], items[business]["exception_code"],
            items[business]["exception_message"]) == (FAILED, "BUSINESS", "LOW_CONFIDENCE", "0.4")
    assert (items[app]["state"], items[app]["attempts"]) == (DEAD, 2)
    assert "APPLICATION failure on each of 2 attempts" in items[app]["exception_message"]
    assert admin.requeue(queue) == 1 and consumer.reserve_input() == app
    consumer.close()


def test_a_crashed_consumers_item_comes_back_after_the_lease_and_dies_after_the_limit(admin, queue):
    produce(queue, 1)
    crashed = adapter(queue, lease="1", max_attempts="2")
    item = crashed.reserve_input()
    crashed._heartbeat.stopped.set()  # as if killed: no more heartbeats, no release
    other = adapter(queue, lease="1", max_attempts="2", wait="drain")
    started = time.monotonic()
    assert other.reserve_input() == item  # waited for the lease to expire
    assert time.monotonic() - started >= 0.5
    with pytest.raises(LeaseLost, match="no longer held by this consumer"):
        crashed.release_input(item, State.DONE)  # too late: the other one holds it
    other._heartbeat.stopped.set()  # it dies too: the second take was the last
    third = adapter(queue, lease="1", max_attempts="2", wait="drain")
    with pytest.raises(EmptyQueue):
        third.reserve_input()
    (row,) = admin.items(queue)
    assert (row["state"], row["attempts"]) == (DEAD, 2) and row["exception_message"].startswith("taken 2 times")
    for consumer in (crashed, other, third):
        consumer.close()


def test_a_held_item_keeps_its_lease_while_the_heartbeat_runs(admin, queue):
    produce(queue, 1)
    holder = adapter(queue, lease="1")
    item = holder.reserve_input()
    time.sleep(2.5)  # more than two leases, with heartbeats
    with pytest.raises(EmptyQueue):
        adapter(queue, lease="1").reserve_input()
    holder.release_input(item, State.DONE)
    assert admin.counts(queue)[COMPLETED] == 1
    holder.close()


def test_payload_and_files_round_trip(admin, queue):
    (item,) = produce(queue, 1)
    consumer = adapter(queue)
    assert consumer.reserve_input() == item
    consumer.save_payload(item, {"n": 0, "note": "Müller & Söhne", "nested": {"a": [1, 2]}})
    consumer.add_file(item, "result.json", original_name="result.json", content=b"{}")
    consumer.remove_file(item, "doc.pdf")
    assert consumer.load_payload(item)["nested"] == {"a": [1, 2]}
    assert consumer.list_files(item) == ["result.json"]
    with pytest.raises(FileNotFoundError, match="has no file 'doc.pdf'"):
        consumer.get_file(item, "doc.pdf")
    consumer.release_input(item, State.DONE)
    consumer.close()


def test_the_cli_prints_states_and_dead_items(admin, queue, capsys):
    produce(queue, 2)
    consumer = adapter(queue)
    item = consumer.reserve_input()
    consumer.release_input(item, State.FAILED, {"type": "BUSINESS", "code": "INVALID", "message": "sums differ"})
    consumer.close()
    lines: list[str] = []
    assert main(["status", queue], out=lines.append) == 0
    assert lines == [f"{queue}: draft 0, pending 1, reserved 0, completed 0, failed 1, dead 0"]
    lines.clear()
    assert main(["dead", queue], out=lines.append) == 0
    assert '"exception_code": "INVALID", "exception_message": "sums differ"' in lines[0]


def test_outputs_of_a_held_input_wait_for_its_release_and_a_retried_attempt_drops_them(admin, queue):
    produce(queue, 1)
    consumer = adapter(queue, output=f"{queue}.done")
    item = consumer.reserve_input()
    consumer.create_output(item, {"part": 1})
    consumer.create_output(item, {"part": 2})  # does not hand on part 1: its input is still held
    assert admin.counts(f"{queue}.done")["DRAFT"] == 2
    consumer.release_input(item, State.FAILED, {"type": "APPLICATION", "code": "X", "message": "retry"})
    assert admin.counts(f"{queue}.done") == dict.fromkeys(admin.counts(f"{queue}.done"), 0)
    assert consumer.reserve_input() == item
    consumer.create_output(item, {"part": 1})
    consumer.create_output(item, {"part": 2})
    consumer.release_input(item, State.DONE)
    assert admin.counts(f"{queue}.done")["PENDING"] == 2
    consumer.close()
