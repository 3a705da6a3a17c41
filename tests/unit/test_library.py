"""InvoiceLibrary keywords over a fake engine, and the libdoc rules every keyword's documentation follows."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from invoicebot.errors import CorruptDocument
from invoicebot.schema import Document, ExtractedField, ExtractionResult, Page, ValidationIssue, Word
from InvoiceLibrary import InvoiceLibrary
from InvoiceLibrary import documents as documents_mod
from InvoiceLibrary.base import FieldsMissing, InvoiceInvalid, InvoiceRobotError, NotAnInvoice
from InvoiceLibrary.workitems import attachment_payload, is_queueable, item_key

ROOT = Path(__file__).resolve().parents[2]
IBAN = "DE89370400440532013000"
REQUIRED_KEYWORDS = {
    "Read Document",
    "Classify Document",
    "Extract Invoice Fields",
    "Validate Invoice",
    "Invoice Should Be Valid",
    "Send Invoice To Review",
    "Import Review Corrections",
    "Train Invoice Model",
    "Evaluate Invoice Model",
    "Decide Invoice Route",
    "Write Run Report",
    "Record Attachment Outcome",
    "Record Mail In Run Report",
    "Attachment Work Item Payload",
}


class FakeEngine:
    """Stands in for invoicebot.pipeline.Engine: read / classify / extract / process."""

    def __init__(self, fields=None, doc_type="invoice", issues=None):
        self.fields = fields
        self.doc_type = doc_type
        self.issues = issues or []
        self.reads = 0

    def read(self, path):
        self.reads += 1
        if Path(path).name.startswith("corrupt"):
            raise CorruptDocument(f"{Path(path).name} is damaged: no PDF trailer; ask the vendor to send it again")
        words = [Word("INVOICE", (100, 80, 250, 100), 1, line=0)]
        return Document(
            path=str(path), media_type="application/pdf", sha256="cd" * 32, pages=[Page(1, 595, 842, "text", words)]
        )

    def classify(self, doc):
        return self.doc_type, 0.9

    def extract(self, doc):
        fields = (
            self.fields
            if self.fields is not None
            else {
                "vendor_name": ExtractedField("Northwind Ltd", 0.95, 1, (100, 40, 300, 60)),
                "invoice_number": ExtractedField("INV-7", 0.9, 1, (300, 80, 400, 100)),
                "invoice_date": ExtractedField("2026-01-05", 0.9, 1, (300, 100, 400, 120)),
                "total_amount": ExtractedField("119.00", 0.5, 1, (300, 150, 400, 170)),
                "iban": ExtractedField(IBAN, 0.9, 1, (100, 700, 500, 720)),
            }
        )
        return ExtractionResult(
            document=doc.path,
            sha256=doc.sha256,
            document_type=self.doc_type,
            document_type_confidence=0.9,
            fields=dict(fields),
            issues=list(self.issues),
            pages=1,
        )

    def process(self, path):
        return self.extract(self.read(path))


@pytest.fixture
def lib(tmp_path):
    library = InvoiceLibrary(
        report_dir=str(tmp_path / "report"), review_dir=str(tmp_path / "review"), ledger=str(tmp_path / "ledger.jsonl")
    )
    library.ctx.cache["engine"] = FakeEngine()
    return library


@pytest.fixture
def logged(monkeypatch):
    lines: list[str] = []
    fake = types.SimpleNamespace(info=lambda msg, html=False: lines.append(msg), warn=lines.append, debug=lines.append)
    import InvoiceLibrary.review as review_mod
    import InvoiceLibrary.workitems as workitems_mod

    for mod in (documents_mod, review_mod, workitems_mod):
        monkeypatch.setattr(mod, "logger", fake)
    return lines


def kw(lib, name):
    return getattr(lib, name.lower().replace(" ", "_"))


def test_library_is_global_and_has_the_keywords(lib):
    assert InvoiceLibrary.ROBOT_LIBRARY_SCOPE == "GLOBAL"
    names = {n.replace("_", " ").title() for n in lib.get_keyword_names()}
    assert REQUIRED_KEYWORDS <= names


def test_engine_is_loaded_once_and_lazily(monkeypatch):
    built = []

    class CountingEngine(FakeEngine):
        def __init__(self, extractor, **kwargs):
            built.append((extractor, kwargs))
            super().__init__()

    monkeypatch.setitem(sys.modules, "invoicebot.pipeline", types.SimpleNamespace(Engine=CountingEngine))
    library = InvoiceLibrary(extractor="rules")
    assert built == []
    library.read_document("a.pdf")
    library.classify_document("a.pdf")
    assert built == [("rules", {})]


def test_extract_fails_listing_missing_and_low_fields(lib, tmp_path):
    with pytest.raises(FieldsMissing) as err:
        lib.extract_invoice_fields(str(tmp_path / "inv.pdf"), required="total_amount,due_date,vendor_name")
    assert str(err.value) == (
        "LOW_CONFIDENCE: inv.pdf lacks total_amount (confidence 0.50 < 0.80), due_date (missing); "
        "send it to review or lower the threshold"
    )
    assert err.value.fields == {"total_amount": "confidence 0.50 < 0.80", "due_date": "missing"}
    assert FieldsMissing.ROBOT_SUPPRESS_NAME and issubclass(FieldsMissing, InvoiceRobotError)
    inv = lib.extract_invoice_fields(str(tmp_path / "inv.pdf"), required="total_amount", min_confidence=0.4)
    assert inv.value.total_amount == "119.00" and inv.confidence.total_amount == 0.5


def test_extract_rejects_unknown_required_field(lib):
    with pytest.raises(InvoiceRobotError, match="unknown field.*totall"):
        lib.extract_invoice_fields("a.pdf", required="totall")


def test_unreadable_document_fails_or_returns_error(lib):
    with pytest.raises(InvoiceRobotError, match=r"^CORRUPT: corrupt\.pdf is damaged"):
        lib.extract_invoice_fields("corrupt.pdf")
    inv = lib.extract_invoice_fields("corrupt.pdf", allow_unreadable=True)
    assert inv.error["code"] == "CORRUPT"
    route = lib.decide_invoice_route(inv, item="att-x")
    assert (route.decision, route.code, route.exception_type) == ("failed", "CORRUPT", "BUSINESS")


def test_logs_mask_the_iban(lib, logged):
    lib.extract_invoice_fields("inv.pdf")
    text = "\n".join(logged)
    assert "iban = DE89" in text and IBAN not in text


def test_classify_expected_type(lib):
    assert lib.classify_document("a.pdf") == {"type": "invoice", "confidence": 0.9}
    lib.ctx.cache["engine"] = FakeEngine(doc_type="purchase_order")
    with pytest.raises(
        NotAnInvoice, match="NOT_AN_INVOICE: a.pdf is a purchase_order .* expected credit_note or invoice"
    ):
        lib.classify_document("a.pdf", expected="invoice,credit_note")


def test_invoice_should_be_valid(lib):
    inv = lib.extract_invoice_fields("a.pdf")
    lib.invoice_should_be_valid(inv)
    lib.ctx.cache["engine"] = FakeEngine(
        issues=[ValidationIssue("SUM_MISMATCH", "100.00 + 19.00 != 120.00", ["total_amount"])]
    )
    bad = lib.extract_invoice_fields("a.pdf")
    with pytest.raises(InvoiceInvalid, match=r"INVALID: a.pdf fails 1 check\(s\): SUM_MISMATCH: 100.00 \+ 19.00"):
        lib.invoice_should_be_valid(bad)


def test_validate_invoice_runs_the_engine_checks_on_edited_values(lib, monkeypatch):
    seen = {}

    def validate_invoice(values, document_type=None):
        seen.update(values)
        return [ValidationIssue("BAD_IBAN", "check digits wrong", ["iban"])]

    monkeypatch.setitem(sys.modules, "invoicebot.validate", types.SimpleNamespace(validate_invoice=validate_invoice))
    inv = lib.extract_invoice_fields("a.pdf")
    inv["value"]["total_amount"] = "120.00"
    issues = lib.validate_invoice(inv)
    assert seen["total_amount"] == "120.00"
    assert issues == [{"code": "BAD_IBAN", "message": "check digits wrong", "fields": ["iban"], "severity": "error"}]
    assert inv["issues"][0]["code"] == "BAD_IBAN"


def test_decide_route_finds_duplicates_through_the_ledger(lib):
    inv = lib.extract_invoice_fields("a.pdf")
    first = lib.decide_invoice_route(inv, item="att-1", min_confidence=0.4)
    assert first.decision == "done"
    again = lib.decide_invoice_route(inv, item="att-1", min_confidence=0.4)
    assert again.decision == "done"  # a retry of the same item is not a duplicate
    dup = lib.decide_invoice_route(inv, item="att-2", min_confidence=0.4)
    assert (dup.decision, dup.code) == ("review", "DUPLICATE") and "att-1" in dup.reason
    low = lib.decide_invoice_route(inv, item="att-3", check_duplicates=False)
    assert (low.code, low.fields) == ("LOW_CONFIDENCE", ["total_amount"])


def test_send_to_review_reuses_the_words_read(lib, tmp_path):
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "inv.pdf"
    c = canvas.Canvas(str(pdf))
    c.drawString(72, 720, "INVOICE")
    c.save()
    inv = lib.extract_invoice_fields(str(pdf))
    route = lib.decide_invoice_route(inv, item="att-9")
    reads = lib.ctx.engine.reads
    package = Path(lib.send_invoice_to_review(inv, route, item="att-9", source={"sender": "a@b.test"}))
    assert lib.ctx.engine.reads == reads
    assert package == tmp_path / "review" / "att-9"
    assert {"index.html", "page-1.png", "document.json", "corrections.json", "inv.pdf"} <= {
        p.name for p in package.iterdir()
    }
    data = json.loads((package / "corrections.json").read_text())
    data.update(status="corrected")
    data["fields"]["total_amount"] = "119.00"
    (package / "corrections.json").write_text(json.dumps(data))
    out = lib.import_review_corrections(str(tmp_path / "review"), store=str(tmp_path / "store"))
    assert len(out.imported) == 1
    data["fields"]["total_amount"] = "119"
    (package / "corrections.json").write_text(json.dumps(data))
    with pytest.raises(InvoiceRobotError, match="CORRECTION_INVALID|not an amount with two decimals"):
        lib.import_review_corrections(str(package), store=str(tmp_path / "store"))


def test_report_keywords_record_mail_and_outcome(lib, tmp_path):
    message = {
        "ref": "/in/1.eml",
        "message_id": "m1@x",
        "sender": "billing@northwind.test",
        "subject": "Invoice",
        "date": "2026-01-05",
    }
    saved = [
        {
            "status": "saved",
            "reason": "",
            "path": "/a/inv.pdf",
            "file_name": "inv.pdf",
            "sha256": "s1",
            "message_id": "m1@x",
            "sender": "billing@northwind.test",
            "subject": "Invoice",
            "date": "2026-01-05",
        },
        {
            "status": "skipped",
            "reason": "duplicate: already taken as 'inv.pdf' from message m0",
            "path": "",
            "file_name": "inv copy.pdf",
            "sha256": "s0",
            "message_id": "m1@x",
        },
        {
            "status": "skipped",
            "reason": "inline image (logo)",
            "path": "",
            "file_name": "logo.png",
            "sha256": "s2",
            "message_id": "m1@x",
        },
    ]
    assert [is_queueable(a) for a in saved] == [True, True, False]
    payload = lib.attachment_work_item_payload(saved[0], message)
    assert (
        payload.item_key == item_key("m1@x", "s1") and payload.file_name == "inv.pdf" and "duplicate_of" not in payload
    )
    assert "duplicate_of" in attachment_payload(saved[1], message)
    lib.record_mail_in_run_report(message, saved)
    inv = lib.extract_invoice_fields("inv.pdf")
    route = lib.decide_invoice_route(inv, item=payload.item_key)
    lib.record_attachment_outcome(payload, route, inv, seconds=1.5)
    out = lib.write_run_report()
    assert Path(out.html).parent == tmp_path / "report" / payload.run_id
    assert out.summary["mails"] == 1 and out.summary["attachments_queued"] == 2 and out.summary["review"] == 1
    html = Path(out.html).read_text()
    assert "logo.png: inline image (logo)" in html and "LOW_CONFIDENCE" in html and IBAN not in html
    with pytest.raises(InvoiceRobotError, match="not one of done, review, failed"):
        lib.record_attachment_outcome(payload, {"decision": "maybe", "reason": "x"})


def test_evaluate_extracts_documents_then_scores(lib, tmp_path, monkeypatch):
    gt, docs = tmp_path / "gt", tmp_path / "docs"
    gt.mkdir()
    docs.mkdir()
    (gt / "a.json").write_text('{"total_amount": "119.00"}')
    (docs / "a.pdf").write_bytes(b"%PDF-1.4")

    def evaluate_dirs(gt_dir, pred_dir):
        pred = json.loads((Path(pred_dir) / "a.json").read_text())
        ok = pred["fields"]["total_amount"]["value"] == "119.00"
        return {"documents": 1, "micro": {"f1": 1.0 if ok else 0.0}}

    monkeypatch.setitem(sys.modules, "invoicebot.evaluate", types.SimpleNamespace(evaluate_dirs=evaluate_dirs))
    score = lib.evaluate_invoice_model(str(gt), documents=str(docs), predictions=str(tmp_path / "pred"))
    assert score.micro.f1 == 1.0
    with pytest.raises(InvoiceRobotError, match="micro F1 1.000 is below the required 1.100"):
        lib.evaluate_invoice_model(str(gt), predictions=str(tmp_path / "pred"), min_f1=1.1)


def test_train_drops_the_loaded_engine(lib, monkeypatch):
    calls = []

    def train_model(config_path="default", out_dir=None, progress=True):
        calls.append((config_path, out_dir, progress))
        return {"model_dir": "models/x", "metrics": {"f1": 0.9}}

    monkeypatch.setitem(sys.modules, "invoicebot.train", types.SimpleNamespace(train_model=train_model))
    config = ROOT / "models" / "configs" / "train.json"
    out = lib.train_invoice_model(config=str(config))
    assert calls == [(str(config), None, False)] and out.metrics.f1 == 0.9
    lib.train_invoice_model()
    assert calls[-1] == ("default", None, False)  # the engine's own default config, not None
    with pytest.raises(InvoiceRobotError, match="model config nope.json does not exist"):
        lib.train_invoice_model(config="nope.json")
    assert "engine" not in lib.ctx.cache


# -------------------------------------------------------------------------------------------- libdoc


@pytest.fixture(scope="module")
def libdoc_spec(tmp_path_factory):
    out = tmp_path_factory.mktemp("libdoc") / "InvoiceLibrary.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "keywords")}
    proc = subprocess.run(
        [sys.executable, "-m", "robot.libdoc", "--specdocformat", "RAW", "InvoiceLibrary", str(out)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(out.read_text())


def test_libdoc_every_keyword_has_arguments_example_and_failure(libdoc_spec):
    problems = []
    for k in libdoc_spec["keywords"]:
        doc = k["doc"]
        summary = doc.strip().splitlines()[0] if doc.strip() else ""
        if not summary.endswith("."):
            problems.append(f"{k['name']}: first line is not a one-line summary sentence")
        if "| =Arguments= | =Description= |" not in doc:
            problems.append(f"{k['name']}: no argument table")
        if not re.search(r"^Example:", doc, re.M):
            problems.append(f"{k['name']}: no Example")
        if not re.search(r"\bfails?\b", doc, re.I):
            problems.append(f"{k['name']}: does not say what it fails with")
    assert not problems, "\n".join(problems)


def test_libdoc_argument_tables_name_every_argument_of_our_keywords(libdoc_spec):
    ours = {
        "Read Document",
        "Classify Document",
        "Extract Invoice Fields",
        "Validate Invoice",
        "Invoice Should Be Valid",
        "Send Invoice To Review",
        "Import Review Corrections",
        "Decide Invoice Route",
        "Train Invoice Model",
        "Evaluate Invoice Model",
        "Record Attachment Outcome",
        "Record Mail In Run Report",
        "Write Run Report",
        "Attachment Work Item Payload",
        "Invoice Work Item Payload",
        "Save Invoice Result",
        "Start Run Report",
    }
    missing = []
    for k in libdoc_spec["keywords"]:
        if k["name"] not in ours:
            continue
        for arg in k["args"]:
            if f"``{arg['name']}``" not in k["doc"]:
                missing.append(f"{k['name']}: {arg['name']}")
    assert not missing, missing
    assert ours <= {k["name"] for k in libdoc_spec["keywords"]}


def test_returned_dicts_print_masked_as_robot_logs_them(lib):
    from robot.utils import prepr

    inv = lib.extract_invoice_fields("a.pdf")
    assert inv.value.iban == IBAN  # the task still has the real value
    assert IBAN not in prepr(inv) and IBAN not in str(inv) and "DE89" in prepr(inv)


def test_a_limit_of_the_engines_process_fails_the_keyword_with_its_code(lib):
    from invoicebot.isolation import DocumentTimeout, MemoryLimitExceeded
    from InvoiceLibrary.base import DocumentUnreadable

    class Limited(FakeEngine):
        def classify(self, doc):
            raise DocumentTimeout(f"{doc.path} took longer than the limit of 120 s for one document", path=doc.path)

        def extract(self, doc):
            raise MemoryLimitExceeded(f"{doc.path} needs more than the limit of 1536 MB", path=doc.path)

    lib.ctx.cache["engine"] = Limited()
    with pytest.raises(DocumentUnreadable, match=r"^TIMEOUT: a\.pdf took longer than the limit of 120 s"):
        lib.classify_document("a.pdf")
    with pytest.raises(DocumentUnreadable, match=r"^MEMORY_LIMIT: a\.pdf needs more than the limit of 1536 MB"):
        lib.extract_invoice_fields("a.pdf")
    record = lib.extract_invoice_fields("a.pdf", allow_unreadable=True)
    assert record["error"]["code"] == "MEMORY_LIMIT" and record["sha256"] == "cd" * 32
