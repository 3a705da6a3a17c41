"""Scoring against ground truth, and the CLI end to end on generated documents (exit codes too)."""

from __future__ import annotations

import json

from invoicebot.cli import EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, main
from invoicebot.evaluate import Report, canonical, evaluate_dirs, score_document


def test_canonical_forms():
    assert canonical("total_amount", "1939") == "1939.00"
    assert canonical("invoice_date", "2014-08-03") == "2014-08-03"
    assert canonical("invoice_number", "#BLR_123") == canonical("invoice_number", "BLR_123")
    assert canonical("vendor_name", "  Coolblue   B.V. ") == canonical("vendor_name", "coolblue b.v.")
    assert canonical("currency", "eur") == "EUR"


def test_scores_count_wrong_as_fp_and_fn_and_ignore_unlabelled_fields():
    report = Report()
    truth = {
        "invoice_number": "42",
        "total_amount": "4.11",
        "vendor_name": "ACME",
        "vendor_name_alternatives": ["ACME Inc."],
    }
    score_document(
        truth,
        {"invoice_number": "42", "total_amount": "4.12", "vendor_name": "acme inc.", "due_date": "2020-01-01"},
        report,
    )
    assert (report.fields["invoice_number"].tp, report.fields["total_amount"].fp, report.fields["total_amount"].fn) == (
        1,
        1,
        1,
    )
    assert report.fields["vendor_name"].tp == 1
    assert "due_date" not in report.fields
    m = report.micro
    assert (m.tp, m.fp, m.fn) == (2, 1, 1)
    assert abs(m.f1 - 2 / 3) < 1e-9


def test_evaluate_dirs_reports_missing_predictions(tmp_path):
    gt, pred = tmp_path / "gt", tmp_path / "pred"
    gt.mkdir()
    pred.mkdir()
    (gt / "a.json").write_text(json.dumps({"invoice_number": "1"}))
    (gt / "b.json").write_text(json.dumps({"invoice_number": "2"}))
    (pred / "a.json").write_text(json.dumps({"fields": {"invoice_number": {"value": "1"}}}))
    report = evaluate_dirs(gt, pred)
    assert report.missing_predictions == ["b"]
    assert report.micro.tp == 1 and report.micro.fn == 1


def test_cli_extract_then_evaluate(tmp_path, capsys):
    from invoicebot.bench import make_invoice_pdf

    docs = tmp_path / "docs"
    docs.mkdir()
    make_invoice_pdf(docs / "inv.pdf", seed=3)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj <<>> garbage")
    out = tmp_path / "out"
    code = main(["extract", str(docs), "--out", str(out), "--extractor", "rules", "-q"])
    assert code == EXIT_SOME_FAILED  # one bad document does not stop the batch
    good = json.loads((out / "inv.json").read_text())
    bad = json.loads((out / "broken.json").read_text())
    assert good["error"] is None and good["document_type"] == "invoice"
    assert good["fields"]["total_amount"]["value"]
    assert bad["error"]["code"] == "CORRUPT" and "broken.pdf" in bad["error"]["message"]
    gt = tmp_path / "gt"
    gt.mkdir()
    (gt / "inv.json").write_text(json.dumps({"total_amount": good["fields"]["total_amount"]["value"]}))
    capsys.readouterr()
    assert main(["evaluate", "--gt", str(gt), "--pred", str(out)]) == EXIT_OK
    assert "MICRO" in capsys.readouterr().out


def test_cli_usage_errors(tmp_path, capsys):
    assert main(["evaluate", "--gt", str(tmp_path / "nope"), "--pred", str(tmp_path)]) == EXIT_USAGE
    assert "does not exist" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["extract", str(empty), "--out", str(tmp_path / "o")]) == EXIT_USAGE
