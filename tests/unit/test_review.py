"""The review route: decide, review packages with drawn boxes, corrections back into the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoicebot import review
from invoicebot.schema import Document, ExtractedField, ExtractionResult, Page, ValidationIssue, Word


@pytest.fixture(autouse=True)
def state_dir(tmp_path, monkeypatch):
    """The review vault (real values of masked fields) in a temporary state folder, never the repository's."""
    monkeypatch.setenv("INVOICEBOT_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def make_pdf(path: Path) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    c.setFont("Helvetica", 14)
    c.drawString(72, 760, "INVOICE  No. INV-1042")
    c.drawString(72, 700, "Total due 119.00 EUR")
    c.showPage()
    c.save()
    return path


def make_document(path: Path) -> Document:
    words = [
        Word("INVOICE", (120, 80, 260, 100), 1, line=0),
        Word("INV-1042", (330, 80, 460, 100), 1, line=0),
        Word("119.00", (280, 150, 380, 170), 1, line=1),
    ]
    return Document(
        path=str(path),
        media_type="application/pdf",
        pages=[Page(number=1, width=595, height=842, source="text", words=words)],
        sha256="ab" * 32,
    )


def make_result(path: Path, **over) -> ExtractionResult:
    fields = {
        "vendor_name": ExtractedField("Northwind Ltd", 0.95, 1, (100, 40, 300, 60)),
        "invoice_number": ExtractedField("INV-1042", 0.91, 1, (330, 80, 460, 100)),
        "invoice_date": ExtractedField("2026-01-05", 0.90, 1, (330, 110, 460, 130)),
        "total_amount": ExtractedField("119.00", 0.88, 1, (280, 150, 380, 170)),
        "iban": ExtractedField("DE89370400440532013000", 0.7, 1, (100, 700, 500, 720)),
    }
    res = ExtractionResult(
        document=str(path),
        sha256="ab" * 32,
        document_type="invoice",
        document_type_confidence=0.93,
        fields=fields,
        pages=1,
    )
    for k, v in over.items():
        setattr(res, k, v)
    return res


# ------------------------------------------------------------------------------------------- decide


def test_decide_done_when_everything_is_there(tmp_path):
    d = review.decide(make_result(tmp_path / "a.pdf"))
    assert (d.decision, d.code, d.exception_type) == ("done", "", "")
    assert d.reason


def test_decide_unreadable_is_failed_business_and_ocr_missing_is_application(tmp_path):
    bad = make_result(tmp_path / "a.pdf", error={"code": "CORRUPT", "message": "a.pdf is damaged"})
    d = review.decide(bad)
    assert (d.decision, d.code, d.exception_type) == ("failed", "CORRUPT", "BUSINESS")
    assert "a.pdf is damaged" in d.reason
    ocr = make_result(tmp_path / "a.pdf", error={"code": "OCR_UNAVAILABLE", "message": "tesseract missing"})
    assert review.decide(ocr).exception_type == "APPLICATION"


def test_decide_not_an_invoice_names_the_type(tmp_path):
    d = review.decide(make_result(tmp_path / "a.pdf", document_type="purchase_order", document_type_confidence=0.81))
    assert (d.decision, d.code) == ("review", "NOT_AN_INVOICE")
    assert "purchase_order" in d.reason and "0.81" in d.reason


def test_decide_duplicate_before_confidence(tmp_path):
    res = make_result(tmp_path / "a.pdf")
    res.fields["total_amount"].confidence = 0.1
    d = review.decide(res, duplicate={"item_key": "att-1", "match": "same file"})
    assert (d.decision, d.code) == ("review", "DUPLICATE")
    assert "att-1" in d.reason


def test_decide_low_confidence_lists_missing_and_low_fields(tmp_path):
    res = make_result(tmp_path / "a.pdf")
    del res.fields["invoice_date"]
    res.fields["total_amount"].confidence = 0.42
    d = review.decide(res, min_confidence=0.8)
    assert (d.decision, d.code) == ("review", "LOW_CONFIDENCE")
    assert d.reason == "missing: invoice_date; below 0.80: total_amount (0.42)"
    assert d.fields == ["invoice_date", "total_amount"]


def test_decide_unsure_document_type_goes_to_review(tmp_path):
    res = make_result(tmp_path / "a.pdf", document_type_confidence=0.55)
    d = review.decide(res, min_confidence=0.8)
    assert (d.decision, d.code) == ("review", "LOW_CONFIDENCE")
    assert d.reason == "document type invoice only 0.55 sure"
    assert d.fields == ["document_type"]


def test_decide_invalid_on_error_issues_only(tmp_path):
    warn = make_result(
        tmp_path / "a.pdf", issues=[ValidationIssue("FUTURE_DATE", "date in future", ["invoice_date"], "warning")]
    )
    assert review.decide(warn).decision == "done"
    err = make_result(tmp_path / "a.pdf", issues=[ValidationIssue("SUM_MISMATCH", "100 + 19 != 120", ["total_amount"])])
    d = review.decide(err)
    assert (d.decision, d.code, d.fields) == ("review", "INVALID", ["total_amount"])
    assert "SUM_MISMATCH: 100 + 19 != 120" in d.reason


def test_parse_required_rejects_unknown_fields():
    assert review.parse_required("vendor_name, total_amount") == ["vendor_name", "total_amount"]
    assert review.parse_required(None) == list(review.DEFAULT_REQUIRED)
    with pytest.raises(ValueError, match="unknown field.*totl"):
        review.parse_required("totl")


# ------------------------------------------------------------------------------------------ package


def test_review_package_has_document_json_html_and_drawn_page(tmp_path):
    pdf = make_pdf(tmp_path / "inv.pdf")
    res = make_result(pdf)
    d = review.decide(res, min_confidence=0.9)
    out = review.write_review_package(
        res,
        pdf,
        tmp_path / "review",
        "att-123",
        d,
        document=make_document(pdf),
        meta={"sender": "billing@northwind.test"},
    )
    assert out == tmp_path / "review" / "att-123"
    for name in ("inv.pdf", "extraction.json", "document.json", "corrections.json", "index.html", "page-1.png"):
        assert (out / name).is_file(), name
    page = (out / "index.html").read_text()
    assert "page-1.png" in page and "LOW_CONFIDENCE" in page and "billing@northwind.test" in page
    assert "total_amount" in page and "0.88" in page
    from PIL import Image

    img = Image.open(out / "page-1.png").convert("RGB")
    w, h = img.size
    # the total's box (below threshold 0.80? no: 0.88 >= 0.80, drawn green) is outlined at its left edge
    x = round(280 * w / 1000) - 2
    ys = range(round(150 * h / 1000), round(170 * h / 1000))
    assert any(img.getpixel((x, y)) == (0, 150, 60) for y in ys)
    corrections = json.loads((out / "corrections.json").read_text())
    assert corrections["status"] == "pending" and corrections["fields"]["total_amount"] == "119.00"


def test_review_package_keeps_reviewers_work_and_survives_unreadable_files(tmp_path):
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4 garbage")
    res = ExtractionResult(document=str(bad), error={"code": "CORRUPT", "message": "broken.pdf is damaged"})
    d = review.decide(res)
    out = review.write_review_package(res, bad, tmp_path / "r", "x", d)
    (out / "corrections.json").write_text('{"status": "corrected"}')
    review.write_review_package(res, bad, tmp_path / "r", "x", d)
    assert json.loads((out / "corrections.json").read_text()) == {"status": "corrected"}
    page = (out / "index.html").read_text()
    assert "broken.pdf is damaged" in page and "page images could not be drawn" in page


# -------------------------------------------------------------------------------------- corrections


def _package(tmp_path: Path, name: str = "att-1") -> Path:
    pdf = make_pdf(tmp_path / f"{name}.pdf")
    res = make_result(pdf)
    return review.write_review_package(
        res, pdf, tmp_path / "review", name, review.decide(res), document=make_document(pdf)
    )


def _edit(pkg: Path, **changes) -> None:
    data = json.loads((pkg / "corrections.json").read_text())
    fields = changes.pop("fields", {})
    data.update(changes)
    data["fields"].update(fields)
    (pkg / "corrections.json").write_text(json.dumps(data))


def test_import_corrections_stores_words_and_corrected_values(tmp_path):
    pkg = _package(tmp_path)
    _package(tmp_path, "att-2")  # left pending
    _edit(pkg, status="corrected", fields={"total_amount": "120.00", "currency": "EUR"}, reviewed_by="ann")
    out = review.import_corrections(tmp_path / "review", tmp_path / "store")
    assert len(out["imported"]) == 1 and len(out["pending"]) == 1
    example = json.loads(Path(out["imported"][0]["example"]).read_text())
    assert example["fields"]["total_amount"] == "120.00" and example["fields"]["currency"] == "EUR"
    assert example["changed"] == ["currency", "total_amount"]
    assert [w["text"] for w in example["words"]] == ["INVOICE", "INV-1042", "119.00"]
    assert example["source"] == "review" and example["reviewed_by"] == "ann"


def test_import_corrections_rejects_bad_values_and_stores_nothing(tmp_path):
    good, bad = _package(tmp_path, "good"), _package(tmp_path, "bad")
    _edit(good, status="corrected")
    _edit(
        bad,
        status="corrected",
        document_type="bill",
        fields={"invoice_date": "05/01/2026", "total_amount": "1.234,00", "currency": "euro", "colour": "red"},
    )
    with pytest.raises(review.CorrectionInvalid) as err:
        review.import_corrections(tmp_path / "review", tmp_path / "store")
    msg = str(err.value)
    for part in (
        "document_type 'bill'",
        "fields.invoice_date = '05/01/2026' is not a date written YYYY-MM-DD",
        "fields.total_amount = '1.234,00'",
        "fields.currency = 'euro'",
        "fields.colour is not a canonical",
        "nothing was stored",
    ):
        assert part in msg
    assert len(err.value.problems) == 5
    assert not (tmp_path / "store").exists()


def test_import_corrections_reports_broken_json_with_position(tmp_path):
    pkg = _package(tmp_path)
    (pkg / "corrections.json").write_text('{"status": "corrected",,}')
    with pytest.raises(review.CorrectionInvalid, match=r"not valid JSON \(line 1"):
        review.import_corrections(pkg, tmp_path / "store")


def test_import_missing_folder_says_what_to_give(tmp_path):
    with pytest.raises(review.ReviewPackageError, match="does not exist"):
        review.import_corrections(tmp_path / "nope", tmp_path / "store")


def test_review_cli_import(tmp_path, capsys):
    pkg = _package(tmp_path)
    _edit(pkg, status="corrected", fields={"total_amount": "120.00"})
    assert review.main(["import", str(tmp_path / "review"), "--store", str(tmp_path / "store")]) == 0
    assert "1 imported" in capsys.readouterr().out
    _edit(pkg, fields={"invoice_date": "yesterday"})
    assert review.main(["import", str(pkg), "--store", str(tmp_path / "store")]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


# ---------------------------------------------------------------------------------- no secret in clear

IBAN, TAX_ID, ADDRESS = "DE89370400440532013000", "DE811234567", "12 Market Street, Leeds LS1 6DT"


def _sensitive_package(tmp_path: Path, **meta) -> tuple[Path, ExtractionResult]:
    pdf = make_pdf(tmp_path / "inv.pdf")
    res = make_result(pdf)
    res.fields["iban"] = ExtractedField(IBAN, 0.7, 1, (100, 700, 500, 720), raw="DE89 3704 0044 0532 0130 00")
    res.fields["vendor_tax_id"] = ExtractedField(TAX_ID, 0.9, 1, (100, 730, 300, 750), raw="USt-IdNr. DE811234567")
    res.fields["vendor_address"] = ExtractedField(ADDRESS, 0.9, 1, (100, 60, 400, 75))
    res.issues = [ValidationIssue("IBAN_CHECKSUM", f"IBAN {IBAN} fails its check digits", ["iban"])]
    doc = make_document(pdf)
    doc.pages[0].words += [Word(t, (100 + 80 * i, 702, 170 + 80 * i, 718), 1, line=5)
                           for i, t in enumerate(["IBAN", "DE89", "3704", "0044", "0532", "0130", "00"])]
    doc.pages[0].words += [Word("DE811234567", (150, 732, 290, 748), 1, line=6),
                           Word("12", (100, 62, 120, 73), 1, line=2), Word("Market", (125, 62, 200, 73), 1, line=2)]
    d = review.decide(res, min_confidence=0.95)
    out = review.write_review_package(res, pdf, tmp_path / "review", "att-9", d, document=doc,
                                      meta={"sender": "billing@northwind.test", **meta})
    return out, res


def test_review_package_has_no_iban_tax_id_or_address_in_clear(tmp_path, state_dir):
    # defect of issue 19: the package (output folder = Control Room artifacts) held the IBAN and tax id in clear
    out, _ = _sensitive_package(tmp_path, note=f"pay to {IBAN}")
    assert [p.name for p in out.glob("*.pdf")] == ["inv.pdf"]
    texts = {p.name: p.read_text(encoding="utf-8") for p in out.iterdir() if p.suffix in (".json", ".html")}
    assert set(texts) == {"extraction.json", "document.json", "corrections.json", "index.html"}
    for name, text in texts.items():
        for secret in (IBAN, "3704 0044", "0532", TAX_ID, "Market Street"):
            assert secret not in text, f"{secret} in clear in {name}"
    assert "DE89" in texts["index.html"] and "Northwind Ltd" in texts["index.html"]  # still tells accounts apart
    corrections = json.loads(texts["corrections.json"])
    assert corrections["masked_fields"] == ["iban", "vendor_address", "vendor_tax_id"]
    words = [w["text"] for w in json.loads(texts["document.json"])["pages"][0]["words"]]
    assert words[:3] == ["INVOICE", "INV-1042", "119.00"] and len(words) == 3 + 7 + 3  # same words, masked
    vault = state_dir / "review-vault" / corrections["vault"]
    assert (vault.stat().st_mode & 0o777) == 0o600
    assert json.loads(vault.read_text())["fields"]["iban"] == IBAN


def test_import_restores_masked_values_left_unchanged_and_takes_typed_ones(tmp_path):
    out, _ = _sensitive_package(tmp_path)
    _edit(out, status="corrected", fields={"vendor_tax_id": "DE999999999"})
    result = review.import_corrections(out, tmp_path / "store")
    example = json.loads(Path(result["imported"][0]["example"]).read_text())
    assert example["fields"]["iban"] == IBAN and example["fields"]["vendor_address"] == ADDRESS  # left: restored
    assert example["fields"]["vendor_tax_id"] == "DE999999999"  # typed: taken
    assert example["changed"] == ["vendor_tax_id"]
    assert "DE89 3704 0044 0532 0130 00" in " ".join(w["text"] for w in example["words"])  # the real words


def test_import_refuses_an_edited_mask_or_a_missing_vault(tmp_path, state_dir):
    out, _ = _sensitive_package(tmp_path)
    data = json.loads((out / "corrections.json").read_text())
    _edit(out, status="corrected", fields={"iban": data["fields"]["iban"][:-1] + "1"})
    with pytest.raises(review.CorrectionInvalid, match=r"fields.iban = 'DE89\*+01' is partly masked"):
        review.import_corrections(out, tmp_path / "store")
    _edit(out, fields={"iban": data["fields"]["iban"]})
    (state_dir / "review-vault" / data["vault"]).unlink()
    with pytest.raises(review.CorrectionInvalid, match="not in the review vault .*type the whole value") as err:
        review.import_corrections(out, tmp_path / "store")
    assert IBAN not in str(err.value) and not (tmp_path / "store").exists()


def test_pending_packages_with_masked_values_import_as_pending(tmp_path):
    _sensitive_package(tmp_path)
    assert len(review.import_corrections(tmp_path / "review", tmp_path / "store")["pending"]) == 1


def test_review_page_escapes_document_text(tmp_path):
    pdf = make_pdf(tmp_path / "inv.pdf")
    res = make_result(pdf)
    res.fields["vendor_name"] = ExtractedField("<script>alert(1)</script>", 0.95, 1, (100, 40, 300, 60),
                                               raw="\" onmouseover=\"alert(2)")
    res.issues = [ValidationIssue("X", "<img src=x onerror=alert(3)>", ["vendor_name"])]
    out = review.write_review_package(res, pdf, tmp_path / "review", "att-x", review.decide(res),
                                      meta={"subject": "' onmouseover='alert(4)", "<b id=k>": "<i id=v>"})
    page = (out / "index.html").read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "&quot; onmouseover=&quot;alert(2)" in page and '" onmouseover=' not in page
    assert "&#x27; onmouseover=&#x27;alert(4)" in page and "' onmouseover=" not in page
    assert "<img src=x" not in page and "<b id=k>" not in page and "<i id=v>" not in page
    assert "&lt;b id=k&gt;: &lt;i id=v&gt;" in page


def test_a_document_named_by_its_iban_is_copied_under_a_masked_name(tmp_path):
    pdf = make_pdf(tmp_path / f"IBAN {IBAN}.pdf")
    res = make_result(pdf)
    out = review.write_review_package(res, pdf, tmp_path / "review", "att-n", review.decide(res))
    assert [p.name for p in out.glob("*.pdf")] == ["IBAN_DE89_00.pdf"]
    assert json.loads((out / "corrections.json").read_text())["document"] == "IBAN_DE89_00.pdf"
    assert IBAN not in (out / "index.html").read_text()
