"""Each document in a child process under a memory and a time limit (``invoicebot.isolation``): a compression
bomb, a document that hangs and one that kills its process cost only their own result, in a batch
(``process_many`` / ``invoicebot extract``) and in the Robot library."""

from __future__ import annotations

import os
import signal
import time
import zlib
from pathlib import Path

import pytest
from invoicebot import isolation
from invoicebot.config import IsolationSettings
from invoicebot.isolation import IsolatedEngine, MemoryLimitExceeded, WorkerCrashed, backstop_bytes, proc_status_kb
from invoicebot.pipeline import Engine, EnginePool, process_many
from InvoiceLibrary import InvoiceLibrary
from InvoiceLibrary.base import DocumentUnreadable

MB = 1024 * 1024


def flate_bomb(head: bytes, inflated_mb: int) -> bytes:
    """A zlib stream of ``head`` and ``inflated_mb`` MB of spaces, about 1 kB per MB: each MB of spaces is
    compressed once and its block repeated (a full flush makes the blocks alike), the checksum computed apart."""
    spaces = b" " * MB
    c = zlib.compressobj(9)
    start = c.compress(head) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(spaces) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()[:-4]  # the last block; its checksum covers what this compressor saw, not the repeats
    adler = zlib.adler32(head)
    for _ in range(inflated_mb):
        adler = zlib.adler32(spaces, adler)
    return start + block * inflated_mb + end + adler.to_bytes(4, "big")


def bomb_pdf(path: Path, inflated_mb: int = 1100) -> Path:
    """A one-page PDF of about 1 MB whose page content inflates to ``inflated_mb`` MB: an invoice line, then
    spaces.  Read without a limit it took 2.17 GB in memory (19 s) and returned success."""
    stream = flate_bomb(b"BT /F1 12 Tf 72 720 Td (Invoice 4711 Total due 99.00 EUR) Tj ET\n", inflated_mb)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return _write_pdf(path, objects)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = bomb_pdf(tmp_path_factory.mktemp("bomb") / "bomb.pdf")
    assert path.stat().st_size < 2 * MB
    stream = path.read_bytes().split(b"stream\n", 1)[1].rsplit(b"\nendstream", 1)[0]
    inflater = zlib.decompressobj()
    inflated = sum(len(inflater.decompress(stream[i:i + 65536])) for i in range(0, len(stream), 65536))
    assert inflater.eof and inflated > 1000 * MB  # a real bomb: a valid stream of more than 1 GB
    return path


@pytest.fixture
def past_the_readers_checks(monkeypatch):
    """The readers refuse the bombs they know before inflating them (``readers.pdf.check_inflated_sizes``);
    the child's limit is for those they do not know: here, with that check off, every bomb is one of them."""
    from invoicebot.readers import pdf as pdf_reader

    monkeypatch.setattr(pdf_reader, "check_inflated_sizes", lambda *args, **kwargs: None, raising=False)


def image_bomb_pdf(path: Path, images: int = 4, width: int = 16000) -> Path:
    """A page with no text drawn from ``images`` gray pictures of 256 MB each once inflated, 1 MB in all: PDFium
    (C) decodes them when the page is rendered for OCR."""
    zeros = b"\x00" * MB
    c = zlib.compressobj(9)
    block = c.compress(zeros) + c.flush(zlib.Z_FULL_FLUSH)
    end = c.flush()[:-4]
    adler = 1
    for _ in range(256):
        adler = zlib.adler32(zeros, adler)
    picture = block * 256 + end + adler.to_bytes(4, "big")
    height = 256 * MB // width
    names = b" ".join(b"/Im%d %d 0 R" % (i, 5 + i) for i in range(images))
    draw = zlib.compress(b"".join(b"q 595 0 0 842 0 0 cm /Im%d Do Q\n" % i for i in range(images)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /XObject << " + names
        + b" >> >> /Contents 4 0 R >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(draw) + draw + b"\nendstream",
        *(b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 "
          b"/Length %d /Filter /FlateDecode >>\nstream\n" % (width, height, len(picture)) + picture + b"\nendstream"
          for _ in range(images)),
    ]
    return _write_pdf(path, objects)


def _write_pdf(path: Path, objects: list[bytes]) -> Path:
    from invoicebot.fuzz.mutate import build_pdf

    path.write_bytes(build_pdf(objects))
    return path


LIMITS = IsolationSettings(max_memory_mb=300, doc_timeout_s=60)


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    """The fakes below reach the engine's process by fork; torch's threads, started by other tests of the session,
    would have it spawned instead (``isolation.engine_context``), without them."""
    monkeypatch.setattr(isolation, "_fork_is_unsafe", lambda: False)


def test_a_compression_bomb_ends_as_memory_limit_and_the_batch_goes_on(bomb, documents, past_the_readers_checks):
    good = documents.text_pdf(seed=0)
    peaks: list = []
    results = list(process_many([good, bomb, good], workers=1, extractor="rules", limits=LIMITS, peaks=peaks))
    print("peak memory per document (MB):", peaks)
    assert [r.document for r in results] == [str(good), str(bomb), str(good)]
    err = results[1].error
    assert err is not None and err["code"] == "MEMORY_LIMIT", err
    assert str(bomb) in err["message"] and "300 MB" in err["message"] and "INVOICEBOT_MAX_MEMORY_MB" in err["message"]
    assert results[0].error is None and results[2].error is None and results[2].value("total_amount")
    assert peaks[1] is not None and peaks[1] < 2048  # stopped near its budget: a read without it took 2.17 GB


def test_pictures_that_a_c_library_decodes_past_the_limit_end_as_memory_limit(tmp_path, documents,
                                                                             past_the_readers_checks):
    bomb = image_bomb_pdf(tmp_path / "pictures.pdf")
    assert bomb.stat().st_size < 2 * MB
    with IsolatedEngine(Engine("rules"), LIMITS) as engine:
        result = engine.process(bomb)
        print("peak memory of the picture bomb (MB):", engine.last_peak_mb)
        assert result.error is not None and result.error["code"] == "MEMORY_LIMIT", result.error
        assert engine.process(documents.text_pdf(seed=0)).error is None


def test_the_limit_counts_only_the_documents_own_memory(bomb, documents, past_the_readers_checks):
    with IsolatedEngine(Engine("rules"), LIMITS) as engine:
        before = engine.process(documents.text_pdf(seed=1))
        assert before.error is None
        assert engine.limit_bytes is not None
        vm_size = proc_status_kb(engine._proc.pid)["VmSize"] * 1024
        assert 0 < engine.limit_bytes - vm_size <= backstop_bytes(300)  # the engine loaded, the backstop on top
        with pytest.raises(MemoryLimitExceeded, match="300 MB"):
            engine.read(bomb)
        assert engine.starts == 1
        after = engine.process(documents.text_pdf(seed=1))  # a fresh process for the next document
        assert engine.starts == 2
    assert after.error is None and after.value("total_amount") == before.value("total_amount")


def test_a_memory_error_in_the_child_is_memory_limit(documents, monkeypatch):
    real = Engine.read

    def read(self, path):
        if Path(path).name == "invoice_2_1.pdf":
            raise MemoryError
        return real(self, path)

    monkeypatch.setattr(Engine, "read", read)  # the child forks from here: it sees the patch
    with IsolatedEngine(Engine("rules"), LIMITS) as engine:
        result = engine.process(documents.text_pdf(seed=2))
        assert result.error["code"] == "MEMORY_LIMIT", result.error
        with pytest.raises(MemoryLimitExceeded, match="invoice_2_1.pdf needs more than the limit of 300 MB"):
            engine.read(documents.text_pdf(seed=2))
        assert engine.read(documents.text_pdf(seed=0)).pages


def test_a_document_that_hangs_ends_as_timeout_and_the_next_one_is_read(documents, monkeypatch):
    real = Engine.read

    def read(self, path):
        if Path(path).name == "invoice_2_1.pdf":
            time.sleep(3600)  # a C library stuck in a loop
        return real(self, path)

    monkeypatch.setattr(Engine, "read", read)
    batch = [documents.text_pdf(seed=0), documents.text_pdf(seed=2), documents.text_pdf(seed=3)]
    results = list(process_many(batch, workers=2, extractor="rules",
                                limits=IsolationSettings(max_memory_mb=300, doc_timeout_s=1.5)))
    err = results[1].error
    assert err["code"] == "TIMEOUT" and str(batch[1]) in err["message"] and "1.5 s" in err["message"]
    assert "INVOICEBOT_DOC_TIMEOUT_S" in err["message"]
    assert results[0].error is None and results[2].error is None


@pytest.mark.parametrize("how", ["SIGKILL", "SIGABRT", "exit"])
def test_a_document_that_kills_its_process_ends_as_worker_crashed(documents, monkeypatch, how):
    real = Engine.read

    def read(self, path):
        if Path(path).name == "invoice_2_1.pdf":
            if how == "exit":
                os._exit(3)
            os.kill(os.getpid(), getattr(signal, how))  # a segfault or abort() inside a reader library
        return real(self, path)

    monkeypatch.setattr(Engine, "read", read)
    with IsolatedEngine(Engine("rules"), LIMITS) as engine:
        with pytest.raises(WorkerCrashed) as caught:
            engine.read(documents.text_pdf(seed=2))
        message = str(caught.value)
        assert str(documents.text_pdf(seed=2)) in message and "invoicebot read" in message
        assert {"SIGKILL": "signal SIGKILL", "SIGABRT": "signal SIGABRT", "exit": "exit code 3"}[how] in message
        if how == "SIGABRT":  # what a C library does when the limit refuses it memory
            assert "within the limit of 300 MB" in message
        assert engine.process(documents.text_pdf(seed=0)).error is None
        assert engine.starts == 2


def test_one_warm_process_serves_the_run(documents, monkeypatch, tmp_path):
    import sys
    import types

    log = tmp_path / "loads.txt"

    def load_model(model_dir, required=False):  # what the engine calls to load the fine-tuned model
        with log.open("a") as fh:
            fh.write(f"{os.getpid()}\n")

    monkeypatch.setitem(sys.modules, "invoicebot.model", types.SimpleNamespace(load_model=load_model))
    with EnginePool(1, "auto", limits=LIMITS) as pool:
        results = list(pool.process([documents.text_pdf(seed=s) for s in range(4)]))
        again = list(pool.process([documents.text_pdf(seed=0)]))
        child = pool._engines[0]._proc.pid
        assert pool._engines[0].starts == 1
    assert [r.error for r in results + again] == [None] * 5
    assert log.read_text().split() == [str(child)] and child != os.getpid()  # loaded once, in the child


def test_the_engines_log_reaches_the_caller(documents, monkeypatch, caplog):
    import logging

    real = Engine.read

    def read(self, path):
        logging.getLogger("invoicebot.readers").warning("%s page 1: the text layer cannot be read; reading it by "
                                                        "OCR", path)
        return real(self, path)

    monkeypatch.setattr(Engine, "read", read)
    with IsolatedEngine(Engine("rules"), LIMITS) as engine, caplog.at_level(logging.WARNING):
        engine.read(documents.text_pdf(seed=0))
    ours = [r for r in caplog.records if "the text layer cannot be read" in r.getMessage()]
    assert len(ours) == 1 and ours[0].name == "invoicebot.readers" and ours[0].process != os.getpid()
    assert str(documents.text_pdf(seed=0)) in ours[0].getMessage()


def test_where_torch_runs_threads_the_engines_process_is_spawned(documents, monkeypatch, caplog):
    import logging

    from invoicebot.isolation import EngineRecipe

    monkeypatch.setattr(isolation, "_fork_is_unsafe", lambda: True)  # a robot that trained the model in-process
    with caplog.at_level(logging.INFO, logger="invoicebot.isolation"):
        assert isolation.engine_context(None).get_start_method() == "fork"  # nothing to build it with: forked
        assert "the model may hang in it" in caplog.text
        with EnginePool(1, "rules", limits=LIMITS) as pool:
            results = list(pool.process([documents.text_pdf(seed=0)]))
            assert pool._engines[0]._mp.get_start_method() == "spawn"
            assert pool._engines[0].recipe == EngineRecipe("rules")
    with IsolatedEngine(Engine("rules"), LIMITS) as forked:
        expected = forked.process(documents.text_pdf(seed=0))
    assert results[0].error is None
    assert results[0].values() == expected.values()  # built in the fresh process, the same engine


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.delenv("INVOICEBOT_MAX_MEMORY_MB", raising=False)
    monkeypatch.delenv("INVOICEBOT_DOC_TIMEOUT_S", raising=False)
    assert IsolationSettings.from_env() == IsolationSettings(max_memory_mb=1536, doc_timeout_s=120)
    monkeypatch.setenv("INVOICEBOT_MAX_MEMORY_MB", "300")
    monkeypatch.setenv("INVOICEBOT_DOC_TIMEOUT_S", "2.5")
    assert IsolationSettings.from_env() == IsolationSettings(max_memory_mb=300, doc_timeout_s=2.5)
    monkeypatch.setenv("INVOICEBOT_MAX_MEMORY_MB", "lots")
    with pytest.raises(ValueError, match="INVOICEBOT_MAX_MEMORY_MB='lots' must be a whole number"):
        IsolationSettings.from_env()


# --- the Robot library ------------------------------------------------------------------------------------------

@pytest.fixture
def robot(monkeypatch):
    """The library with the real engine, isolated under a 300 MB budget and a 60 s limit."""
    monkeypatch.setenv("INVOICEBOT_MAX_MEMORY_MB", "300")
    monkeypatch.setenv("INVOICEBOT_DOC_TIMEOUT_S", "60")
    library = InvoiceLibrary(extractor="rules")
    yield library
    engine = library.ctx.cache.get("engine")
    if engine is not None:
        engine.close()


def test_the_library_survives_a_compression_bomb(robot, bomb, documents, past_the_readers_checks):
    good = documents.text_pdf(seed=0)
    assert isinstance(robot.ctx.engine, IsolatedEngine)
    with pytest.raises(DocumentUnreadable, match=r"^MEMORY_LIMIT: .*bomb\.pdf needs more than the limit of 300 MB"):
        robot.read_document(str(bomb))
    record = robot.extract_invoice_fields(str(bomb), allow_unreadable=True)
    assert record["error"]["code"] == "MEMORY_LIMIT"
    invoice = robot.extract_invoice_fields(str(good))  # the same robot process goes on
    assert invoice["error"] is None and invoice["value"]["total_amount"]
    assert robot.ctx.cache["last_document"].path == str(good)  # kept for the review package, as before
    assert robot.classify_document(robot.ctx.cache["last_document"])["type"]


def test_the_library_survives_a_crash_and_a_hang(robot, documents, monkeypatch):
    real = Engine.read
    calls = {"n": 0}

    def read(self, path):
        calls["n"] += 1
        if Path(path).name == "invoice_2_1.pdf":
            os.kill(os.getpid(), signal.SIGSEGV)
        if Path(path).name == "invoice_3_1.pdf":
            time.sleep(3600)
        return real(self, path)

    monkeypatch.setattr(Engine, "read", read)
    monkeypatch.setenv("INVOICEBOT_DOC_TIMEOUT_S", "1.5")
    with pytest.raises(DocumentUnreadable, match=r"^WORKER_CRASHED: the process reading .*invoice_2_1.pdf died "
                                                 r"\(signal SIGSEGV\)"):
        robot.classify_document(str(documents.text_pdf(seed=2)))
    with pytest.raises(DocumentUnreadable, match=r"^TIMEOUT: .*invoice_3_1.pdf took longer than the limit of 1.5 s"):
        robot.extract_invoice_fields(str(documents.text_pdf(seed=3)))
    with pytest.raises(DocumentUnreadable, match=r"^CORRUPT: "):  # the engine's own errors come through as before
        robot.read_document(str(_broken(documents)))
    assert robot.read_document(str(documents.text_pdf(seed=0))).pages
    assert calls["n"] == 0  # every read ran in the child


def _broken(documents) -> Path:
    path = documents.folder / "broken.pdf"
    path.write_bytes(b"%PDF-1.4\nnot really a pdf")
    return path
