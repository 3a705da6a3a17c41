"""`invoicebot fuzz`: a small seeded run ends with a result per input and no traceback, hang or crash; the
harness itself sees a traceback, a hang and a crash when a child has one, and replays an input by its id."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest
from invoicebot.fuzz import FAMILIES, main, make_input, schedule
from invoicebot.fuzz import harness as fuzz_harness
from invoicebot.fuzz.seeds import build_corpus


def _summary(out) -> dict:
    return json.loads((out / "summary.json").read_text(encoding="utf-8"))


def test_a_bounded_seeded_fuzz_run_has_no_traceback_hang_or_crash(tmp_path, capsys):
    out = tmp_path / "fuzz"
    rc = main(["--count", "240", "--seed", "7", "--out", str(out), "--jobs", "2", "-q"])
    printed = capsys.readouterr().out
    summary = _summary(out)
    assert summary["failures"] == [], printed
    assert rc == 0, printed
    assert summary["inputs"] == 240 and summary["result_files"] == 240
    assert set(summary["families"]) == set(FAMILIES)
    for family, s in summary["families"].items():
        assert s["tracebacks"] == 0 and s["hangs"] == 0 and s["unsafe"] == 0, (family, s)
        assert 0 < s["peak_rss_mb_max"] < fuzz_harness.MEMORY_FAIL_MB, (family, s)
    ids = [json.loads(p.read_text(encoding="utf-8"))["id"] for p in (out / "results").glob("*.json")]
    assert len(set(ids)) == 240  # one result per input, none shared
    assert summary["families"]["xml"]["codes"] == {"UNSUPPORTED_TYPE": summary["families"]["xml"]["inputs"]}
    assert "inputs/s" in printed and "peak memory" in printed


def test_inputs_are_made_again_from_their_id():
    corpus = build_corpus()
    plan = schedule(list(FAMILIES), 50)
    assert len(plan) == len(set(plan)) == 50
    for family, index in plan[:20]:
        a, b = make_input(family, index, 3, corpus), make_input(family, index, 3, corpus)
        assert a.id == b.id and a.data == b.data
        assert a.id.startswith(f"{family}-{index:05d}-")
    assert make_input("pdf", 0, 3, corpus).data != make_input("pdf", 0, 4, corpus).data


def _broken(behaviour):
    def run_document(engine, path):
        behaviour()
        return {"code": "OK"}

    return run_document


def _raise():
    raise KeyError("a bug in a reader")


def _hang():
    time.sleep(60)


def _die():
    os.kill(os.getpid(), signal.SIGSEGV)


@pytest.mark.parametrize(
    ("behaviour", "code", "said"),
    [(_raise, "TRACEBACK", "KeyError: 'a bug in a reader'"), (_hang, "HANG", "killed after 1 s"),
     (_die, "CRASH", "signal SIGSEGV")],
)
def test_a_failing_input_fails_the_run_and_is_kept_for_replay(tmp_path, monkeypatch, capsys, behaviour, code, said):
    monkeypatch.setattr(fuzz_harness, "run_document", _broken(behaviour))  # the forked children inherit it
    out = tmp_path / "fuzz"
    rc = main(["--count", "2", "--families", "pdf", "--out", str(out), "--jobs", "2", "--timeout", "1", "-q"])
    assert rc == 1
    summary = _summary(out)
    assert len(summary["failures"]) == 2
    first = summary["failures"][0]
    kept = out / "failures" / first
    result = json.loads((kept / "result.json").read_text(encoding="utf-8"))
    assert result["code"] == code and said in result["message"], result
    assert [p.name for p in kept.iterdir() if p.suffix == ".pdf"], "the failing input is saved beside its result"
    if code == "TRACEBACK":
        assert "Traceback" in result["traceback"]
    assert first in capsys.readouterr().out  # listed for --replay
    rc = main(["--replay", first, "--out", str(out), "-q", "--timeout", "1"])
    assert rc == 1
    assert json.loads((out / "results" / f"{first}.json").read_text(encoding="utf-8"))["code"] == code


def test_an_xml_entity_that_reads_a_file_is_caught(tmp_path, monkeypatch):
    # were an XML reader to resolve external entities, the result would hold the canary's text: the harness says so
    from invoicebot.fuzz import messages

    def leaky(engine, path):
        return {"code": "UNSUPPORTED_TYPE", "message": open(messages.CANARY_PATH).read()}  # noqa: SIM115

    monkeypatch.setattr(fuzz_harness, "run_document", leaky)
    out = tmp_path / "fuzz"
    assert main(["--count", "1", "--families", "xml", "--out", str(out), "-q"]) == 1
    result = json.loads(next((out / "results").glob("*.json")).read_text(encoding="utf-8"))
    assert result["code"] == "UNSAFE" and "a file outside the input was read" in result["message"]


def test_the_time_bound_stops_starting_inputs(tmp_path, capsys):
    out = tmp_path / "fuzz"
    assert main(["--count", "1000", "--seconds", "0", "--out", str(out), "-q"]) == 0
    summary = _summary(out)
    assert summary["inputs"] == 0 and summary["planned"] == 1000 and summary["stopped"] == "stopped after 0 s"
    assert "0 of 1000 inputs run" in capsys.readouterr().out


def test_guided_mode_runs_a_reader_under_atheris(tmp_path, capsys):
    pytest.importorskip("atheris")
    out = tmp_path / "fuzz"
    assert main(["--guided", "image", "--seconds", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "guided image:" in printed and "0 crashes" in printed, printed
    assert list((out / "guided" / "image" / "corpus").iterdir())  # the seeds, and what libFuzzer kept
