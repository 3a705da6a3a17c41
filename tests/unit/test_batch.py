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


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    """The fakes below reach the engine's processes by fork (torch's threads, started by other tests of the session,
    would have them spawned without the fakes: ``isolation.engine_context``)."""
    from invoicebot import isolation

    monkeypatch.setattr(isolation, "_fork_is_unsafe", lambda: False)


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

    with monkeypatch.context() as patched:
        patched.setattr(pipeline.Engine, "__init__", broken)  # the engine is built before any process starts
        with pytest.raises(ConfigError, match="^the vocabulary file"):
            list(process_many(batch, workers=2, extractor="rules"))

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
    written = {p.name: json.loads(p.read_text()) for p in out.glob("*.json") if p.name != "index.json"}
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


def test_every_input_gets_its_own_result_file(documents, tmp_path, capsys):
    """a.pdf beside a.png, and x.pdf in two folders, wrote one <stem>.json each: the second overwrote the first."""
    inbox, sub1, sub2 = tmp_path / "inbox", tmp_path / "sub1", tmp_path / "sub2"
    for d in (inbox, sub1, sub2):
        d.mkdir()
    pdf = documents.text_pdf(seed=0)
    inputs = {
        inbox / "a.pdf": pdf.read_bytes(),
        inbox / "a.png": documents.scan_png(seed=1).read_bytes(),
        inbox / "b.pdf": documents.text_pdf(seed=2).read_bytes(),
        sub1 / "x.pdf": documents.text_pdf(seed=3).read_bytes(),
        sub2 / "x.pdf": documents.text_pdf(seed=1, pages=2).read_bytes(),
    }
    for path, data in inputs.items():
        path.write_bytes(data)
    out = tmp_path / "out"
    argv = ["extract", str(inbox), str(sub1), str(sub2), str(inbox / "b.pdf"), "--out", str(out), "--extractor",
            "rules", "-q"]
    assert cli_main(argv) == 0
    index = json.loads((out / "index.json").read_text())
    assert set(index) == {str(p) for p in inputs}  # b.pdf given twice (in its folder and alone) is one input
    assert len(set(index.values())) == len(inputs)
    assert index[str(inbox / "b.pdf")] == "b.json"  # a unique stem keeps <stem>.json: `invoicebot evaluate` finds it
    assert {index[str(inbox / "a.pdf")], index[str(inbox / "a.png")]} == {"a.pdf.json", "a.png.json"}
    assert {index[str(sub1 / "x.pdf")], index[str(sub2 / "x.pdf")]} == {"sub1__x.pdf.json", "sub2__x.pdf.json"}
    for source, name in index.items():
        assert json.loads((out / name).read_text())["document"] == source
    pages = {json.loads((out / index[str(d / "x.pdf")]).read_text())["pages"] for d in (sub1, sub2)}
    assert pages == {1, 2}  # two results, not one written twice
    assert sorted(p.name for p in out.iterdir()) == sorted([*index.values(), "index.json"])
    assert cli_main(argv) == 0 and json.loads((out / "index.json").read_text()) == index  # the same names again
    assert cli_main(["extract", str(inbox / "b.pdf"), "--out", str(out), "--extractor", "rules"]) == 0
    assert "peak memory of one document" in capsys.readouterr().out


def test_result_names_never_clash():
    from pathlib import Path

    from invoicebot.cli import result_names

    names = result_names([Path("in/a.pdf"), Path("in/a.png"), Path("in/a.pdf.pdf"), Path("in/index.pdf"),
                          Path("in/B.pdf"), Path("other/b.PDF"), Path("in/c.tif")])
    assert names[2] == "a.pdf.json" and names[6] == "c.json"  # a unique stem keeps its name ...
    assert names[0] == "in__a.pdf.json"  # ... the one whose a.pdf.json clashes with it moves on
    assert names[1] == "a.png.json" and names[3] == "index.pdf.json"  # index.json is the index's
    assert len({n.casefold() for n in names}) == len(names)  # B.pdf and b.PDF too, on a case-blind disk
    with pytest.raises(ValueError, match="twice"):
        result_names([Path("in/a.pdf"), Path("in/a.pdf")])


def test_a_batch_stopped_half_way_still_has_its_index(batch, tmp_path, monkeypatch):
    real = pipeline.process_many

    def stopped(paths, **kwargs):
        yield next(real(paths[:1], **kwargs))
        raise KeyboardInterrupt  # Ctrl-C after the first document

    monkeypatch.setattr(pipeline, "process_many", stopped)
    out = tmp_path / "out"
    assert cli_main(["extract", *map(str, batch), "--out", str(out), "--extractor", "rules", "-q"]) == 130
    assert json.loads((out / "index.json").read_text()) == {str(batch[0]): f"{batch[0].stem}.json"}
    assert (out / f"{batch[0].stem}.json").exists()
