"""Batches on several processes: ``pipeline.EnginePool`` / ``process_many`` and ``invoicebot extract --workers``."""

from __future__ import annotations

import json
import os

import pytest
from invoicebot import pipeline
from invoicebot.cli import main as cli_main
from invoicebot.errors import ConfigError
from invoicebot.pipeline import EnginePool, process_many


def _same(a, b) -> dict:
    d = a.to_dict()
    d.pop("seconds")
    e = b.to_dict()
    e.pop("seconds")
    assert d == e
    return d


@pytest.fixture()
def batch(documents, tmp_path):
    """Four text PDFs of different vendors and a file that is not a document."""
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nnot really a pdf")
    return [documents.text_pdf(seed=0), documents.text_pdf(seed=1, pages=2), bad, documents.text_pdf(seed=2),
            documents.text_pdf(seed=3)]


def test_two_processes_give_the_results_of_one_in_the_same_order(batch):
    one = list(process_many(batch, workers=1, extractor="rules"))
    two = list(process_many(batch, workers=2, extractor="rules"))
    assert [r.document for r in two] == [str(p) for p in batch]
    for a, b in zip(one, two, strict=True):
        _same(a, b)
    assert two[2].error is not None and two[2].error["code"] != "WORKER_CRASHED"  # a bad file is an error result
    assert two[1].pages == 2 and two[0].value("total_amount")


def test_a_document_that_kills_its_process_gets_an_error_and_the_batch_goes_on(batch, monkeypatch):
    real = pipeline.Engine.process

    def process(self, path):
        if str(path).endswith("invoice_2_1.pdf"):
            os._exit(9)  # what a segfault in a reader library looks like from the parent
        return real(self, path)

    monkeypatch.setattr(pipeline.Engine, "process", process)  # the pool forks: the processes see the patch
    results = list(process_many(batch, workers=2, extractor="rules"))
    assert [r.document for r in results] == [str(p) for p in batch]
    crashed = results[3]
    assert crashed.error["code"] == "WORKER_CRASHED"
    assert str(batch[3]) in crashed.error["message"] and "invoicebot read" in crashed.error["message"]
    for i in (0, 1, 4):
        assert results[i].error is None and results[i].value("total_amount"), results[i].error


def test_a_process_that_cannot_start_says_why(batch, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ConfigError("the vocabulary file resources/vocabulary/x.yaml is broken")

    monkeypatch.setattr(pipeline.Engine, "__init__", broken)  # the engine is built before any process starts
    with pytest.raises(ConfigError, match="^the vocabulary file"):
        list(process_many(batch, workers=2, extractor="rules"))
    monkeypatch.undo()

    def no_model(self):
        raise RuntimeError("libtorch_cpu.so: cannot open shared object file")

    monkeypatch.setattr(pipeline.Engine, "model", property(no_model))  # loaded in each process as it starts
    with pytest.raises(ConfigError, match="could not start.*RuntimeError: libtorch_cpu.so"):
        list(process_many(batch, workers=2, extractor="rules"))


def test_warm_pool_handles_its_warm_up_document_first(batch):
    with EnginePool(2, "rules", warm=batch[0]) as pool:
        results = list(pool.process(batch[:2]))
        again = list(pool.process(batch[:2]))  # a pool serves several batches
    assert [r.error for r in results + again] == [None] * 4
    with pytest.raises(ValueError, match="workers must be 1 or more"):
        EnginePool(0)


def test_cli_extract_with_two_workers_writes_every_result(batch, tmp_path, capsys):
    out = tmp_path / "out"
    code = cli_main(["extract", *map(str, batch), "--out", str(out), "--extractor", "rules", "--workers", "2", "-q"])
    assert code == 3  # one document failed
    written = {p.name: json.loads(p.read_text()) for p in out.glob("*.json")}
    assert set(written) == {f"{p.stem}.json" for p in batch}
    assert written["broken.json"]["error"]["code"]
    with pytest.raises(SystemExit):
        cli_main(["extract", str(batch[0]), "--out", str(out), "--workers", "two"])
    assert "not a number of processes" in capsys.readouterr().err


def test_bench_times_a_batch_on_two_processes_beside_the_floor_on_two(batch):
    from invoicebot.bench import format_table, measure_batch

    pdfs = [batch[0], batch[1]]  # 3 pages
    result = measure_batch(pdfs, 2, "rules", repeat=1)
    assert result["workers"] == 2 and result["failed"] == 0
    assert result["documents"] == 8 and result["pages"] == 12  # four documents per process: the PDFs four times
    assert result["engine_pages_per_s"] == pytest.approx(12 / result["engine_seconds"], rel=0.01)
    assert result["floor_seconds"] > 0 and result["ratio"] == pytest.approx(
        result["engine_seconds"] / result["floor_seconds"], rel=0.01)
    table = format_table({"batch": result, "settings": {}})
    assert table.splitlines()[2].split()[:3] == ["text*2", "8", "12"]
    assert "on 2 processes" in table
