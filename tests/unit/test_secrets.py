"""No secret or personal identifier in clear: the masking rules, and the scan over a run's outputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from invoicebot.masking import mask_data, mask_text

# Every form the vocabulary's tax-id labels and the generator use, and IBANs with and without spaces.
CLEAR = [
    ("IBAN: DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX", "DE89 3704 0044 0532 0130 00"),
    ("IBAN DE89370400440532013000", "DE89370400440532013000"),
    ("pay to GB33BUKB20201555555555.", "GB33BUKB20201555555555"),
    ("IBAN\u00a0FR14\u00a02004\u00a01010\u00a00505\u00a00001\u00a03M02\u00a0606", "2004\u00a01010\u00a00505"),
    ("VAT Reg. No. GB 349 7472 75", "349 7472"),
    ("USt-IdNr.: DE811234567", "DE811234567"),
    ("N° TVA FR40303265045", "FR40303265045"),
    ("BTW NL123456789B01", "NL123456789B01"),
    ("CHE-123.456.789 MWST", "123.456.789"),
    ("NO 123 456 789 MVA", "123 456 789"),
    ("ABN 91 108 015 838", "91 108 015 838"),
    ("GSTIN 22AAAAA0000A1Z5", "22AAAAA0000A1Z5"),
    ("NIP 123-456-32-18", "123-456-32-18"),
    ("Tax ID: US-91-1234567", "91-1234567"),
    ("Steuernummer 21/815/08150", "21/815/08150"),
    ("NIF: B12345678", "B12345678"),
    ("Partita IVA 12345678901", "12345678901"),
    ("Tax ID 123456789", "123456789"),
    ("login password=hunter2-secret ok", "hunter2-secret"),
    ("{'user': 'admin', 'password': 'invoicebot-admin'}", "invoicebot-admin"),
    ('{"INVOICEBOT_IMAP_PASSWORD": "s3cr3t-t0ken"}', "s3cr3t-t0ken"),
    ("http://admin:invoicebot-admin@127.0.0.1:8000/invoicebot/", "invoicebot-admin"),
]


@pytest.mark.parametrize(("text", "secret"), CLEAR)
def test_mask_text_hides_every_form(text, secret):
    masked = mask_text(text)
    assert secret not in masked, masked
    assert len(masked) == len(text)  # length kept: a masked line splits into the same words


# What must stay readable: amounts, dates, invoice numbers, rates.
READABLE = [
    "Total VAT 1234.56 EUR",
    "VAT 21% 190.00",
    "Tax 19.00 Total 119.00",
    "Invoice INV-2026-00012 of 2026-01-05 total 119.00",
    "Invoice number 12345678",
    "Numer faktury FV/2026/000123",
    "Tax invoice date 2026-01-05",
    "GST 10% 12345.00",
    "Tax invoice No 12345678",
    "Tax invoice date 20260105",
]


@pytest.mark.parametrize("text", READABLE)
def test_mask_text_keeps_amounts_dates_and_numbers(text):
    assert mask_text(text) == text


def test_mask_data_masks_credentials_by_key_and_sensitive_fields():
    data = {"user": "robot", "password": "pw-1", "nested": [{"api_key": "k"}],
            "fields": {"iban": {"value": "DE89370400440532013000", "raw": "DE89 3704 0044 0532 0130 00"},
                       "vendor_address": {"value": "12 Market Street, Leeds LS1 6DT"},
                       "vendor_name": {"value": "Acme Ltd"}}}
    out = mask_data(data)
    assert out["user"] == "robot" and out["password"] == "********" and out["nested"][0]["api_key"] == "********"
    text = repr(out)
    for secret in ("DE89370400440532013000", "3704 0044", "Market Street"):
        assert secret not in text
    assert out["fields"]["vendor_name"]["value"] == "Acme Ltd"


# ------------------------------------------------------------------ every HTML page escapes document text

HOSTILE_NAME = "<script>alert(1)</script>"
HOSTILE_ATTR = "x\" onmouseover=\"alert(2)"


def test_run_report_page_escapes_document_text(tmp_path):
    from invoicebot.report import AttachmentRecord, MailRecord, RunReport

    report = RunReport(tmp_path)
    report.add_mail(MailRecord(message_id="m1@x", sender="' onmouseover='alert(3)", subject=HOSTILE_NAME, attachments=1,
                               note=HOSTILE_ATTR))
    report.add_attachment(AttachmentRecord(
        file_name=HOSTILE_ATTR + ".pdf", decision="review", code="LOW_CONFIDENCE", reason=HOSTILE_NAME,
        message_id="m1@x", item_id="att-1", document_type="invoice", type_confidence=0.9,
        fields={"vendor_name": {"value": HOSTILE_NAME, "confidence": 0.9},
                HOSTILE_ATTR: {"value": "<img src=x onerror=alert(4)>", "confidence": 0.5}}))
    page = Path(report.write()["html"]).read_text(encoding="utf-8")
    assert "<script" not in page and "<img src=x" not in page
    assert '" onmouseover=' not in page and "' onmouseover=" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") == 3  # subject, reason, vendor name
    assert "x&quot; onmouseover=&quot;alert(2).pdf" in page and "&#x27; onmouseover=&#x27;alert(3)" in page


# ----------------------------------------------------------------------------- the scan of a run's outputs


def _scanner():
    """scripts/scan_secrets.py as a module (scripts/ is no package)."""
    import importlib.util
    import sys

    if "scan_secrets" not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "scripts" / "scan_secrets.py"
        spec = importlib.util.spec_from_file_location("scan_secrets", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["scan_secrets"] = module  # dataclasses look their module up while the file runs
        spec.loader.exec_module(module)
    return sys.modules["scan_secrets"]


def _robot_log(messages: list[str]) -> str:
    """A page shaped like Robot's log.html: messages base64+zlib compressed in window.output["strings"]."""
    import base64
    import json
    import zlib

    # as Robot writes it: short texts plain after "*", long ones compressed; "<" written \\x3c
    strings = ["*", "*<p>Logs the message.</p> ends with ]);"] + [
        base64.b64encode(zlib.compress(m.encode())).decode() for m in messages]
    model = json.dumps(strings).replace("<", "\\x3c")
    return ("<!DOCTYPE html><html><head><script>window.output = {};</script>"
            f'<script>window.output["strings"] = [];</script><script>window.output["strings"] = '
            f'window.output["strings"].concat({model});</script></head><body></body></html>')


def _manifest(folder: Path, **fields) -> None:
    import json

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps({"mails": [{"file": "001.eml", "fields": [fields]}]}))


def test_scan_finds_a_planted_iban_in_a_robot_log_and_passes_a_clean_folder(tmp_path, capsys):
    scan = _scanner()
    leaky, clean = tmp_path / "leaky", tmp_path / "clean"
    leaky.mkdir()
    clean.mkdir()
    planted = "BE68539007547034"  # a valid IBAN in no manifest and of no generator vendor: found by its check digits
    (leaky / "log.html").write_text(_robot_log(["${invoice} = {'iban': 'BE68539007547034'}"]))
    assert planted not in (leaky / "log.html").read_text()  # only the decompressed model holds it
    (clean / "log.html").write_text(_robot_log([f"${{invoice}} = {{'iban': '{mask_text(planted)}'}}",
                                                "total 119.00, invoice INV-2026-00001"]))
    (clean / "report.csv").write_text("file,iban\na.pdf,BE68********7034\n")

    assert scan.main([str(clean)]) == 0
    assert "0 secrets or personal identifiers in clear in 2 file(s)" in capsys.readouterr().out
    assert scan.main([str(leaky)]) == 1
    out = capsys.readouterr().out
    assert f"{leaky / 'log.html'}: iban BE68**********34" in out and planted not in out  # printed masked


def test_scan_reports_a_robot_log_it_cannot_read(tmp_path, capsys):
    (tmp_path / "log.html").write_text('<script>window.output["strings"] = window.output["strings"].concat('
                                       '["*ok", "bm90IHpsaWI="]);</script>')
    assert _scanner().main([str(tmp_path)]) == 1
    assert "log.html: unreadable cannot decompress a message of the log's model" in capsys.readouterr().out


def test_scan_reads_manifests_service_passwords_and_password_pairs(tmp_path, capsys, monkeypatch):
    scan = _scanner()
    monkeypatch.setenv("INVOICEBOT_TEST_IMAP_PASSWORD", "fixed-imap-pw-42")
    out_dir = tmp_path / "output"
    _manifest(out_dir / "inbox", iban="GB33BUKB20201555555555", vendor_tax_id="CHE-123.456.789",
              vendor_address="12 Market Street, Leeds LS1 6DT, United Kingdom")
    (out_dir / "a.json").write_text('{"note": "VAT CHE 123 456 789", "iban": "GB33 BUKB 2020 1555 5555 55"}')
    (out_dir / "b.txt").write_text("shipped from 12 Market  Street today\nlogin with fixed-imap-pw-42\n")
    (out_dir / "c.xml").write_text("<msg>Arguments: [ ${user}='admin' | ${password}='hunter2-xyz' ]</msg>"
                                   "<msg>url http://admin:invoicebot-admin@127.0.0.1:8000/</msg>")
    (out_dir / "d.log").write_text("password=******** user=admin ${password} password=${PW}\n")
    assert scan.main([str(out_dir)]) == 1
    out = capsys.readouterr().out
    assert "a.json: iban GB33****************55, tax_id CHE-*********89" in out
    assert "b.txt: address 12 Ma**** ****et, password fi**************" in out
    assert "c.xml: password hu*********, password in**************" in out  # a pair, and Tryton's default
    assert "d.log" not in out and "manifest.json" not in out


def test_scan_knows_the_services_test_passwords():
    scan = _scanner()
    found = {(s.value, s.where) for s in scan.service_passwords(env={})}
    assert ("invoicebot-test-only", "scripts/dovecot.sh") in found
    assert ("invoicebot-admin", "scripts/tryton/env.sh") in found


def test_scan_knows_postgres_generated_password_from_its_passfile(tmp_path, capsys):
    scan = _scanner()
    pg = tmp_path / "pg"
    pg.mkdir()
    (pg / "pgpass").write_text("127.0.0.1:15432:*:postgres:Qx7rT2kLmN9pWv3z\n")
    found = {s.value for s in scan.service_passwords(env={"INVOICEBOT_PG_DIR": str(pg)})}
    assert "Qx7rT2kLmN9pWv3z" in found
    out = tmp_path / "out"
    out.mkdir()
    (out / "queue.log").write_text("connect failed: dsn=host=127.0.0.1 user=postgres Qx7rT2kLmN9pWv3z\n")
    findings = scan.scan([out], list(scan.pgpass_passwords(pg / "pgpass")))
    assert list(findings.by_file[out / "queue.log"]) == [("password", "Qx**************")]


def test_scan_says_which_folder_is_missing(tmp_path, capsys):
    assert _scanner().main([str(tmp_path / "nope")]) == 2
    assert "nope does not exist" in capsys.readouterr().err


# ------------------------------------------------------------------- Robot logs: TRACE, DEBUG, page sources


def test_pdfminer_debug_lines_stay_out_of_a_debug_log():
    # pdfminer logs every token of a page at DEBUG ("nexttoken: (1974, b'IBAN: GB33...')"); Robot copies Python
    # logging into its log at --loglevel DEBUG/TRACE
    import logging

    from invoicebot.masking import quiet_document_loggers

    logging.getLogger("pdfminer").setLevel(logging.NOTSET)
    quiet_document_loggers()
    assert not logging.getLogger("pdfminer.psparser").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("pdfminer.pdfinterp").isEnabledFor(logging.WARNING)


def test_library_quiets_the_document_loggers_when_it_starts():
    import logging

    from InvoiceLibrary import InvoiceLibrary

    logging.getLogger("pdfminer").setLevel(logging.NOTSET)
    InvoiceLibrary()
    assert logging.getLogger("pdfminer").level == logging.WARNING


def test_failure_page_source_is_masked_where_it_is_saved(tmp_path):
    from InvoiceLibrary.accounting import mask_evidence_file

    page = tmp_path / "accounting-failure-enter.html"
    page.write_text("<input name='reference' value='INV-1'><td>IBAN DE89 3704 0044 0532 0130 00</td>"
                    "<td>password=invoicebot-admin</td>")
    assert mask_evidence_file(page) is True
    text = page.read_text()
    assert "3704 0044" not in text and "invoicebot-admin" not in text and "INV-1" in text
    assert mask_evidence_file(tmp_path / "none.html") is False


def _profile_keywords() -> dict:
    from robot.api import get_resource_model
    from robot.parsing.model.blocks import Keyword

    path = Path(__file__).resolve().parents[2] / "resources" / "accounting" / "tryton.resource"
    return {kw.name: kw for kw in get_resource_model(str(path)).sections[-1].body if isinstance(kw, Keyword)}


def _calls(block) -> list[str]:
    """Keyword calls in ``block`` in order, TRY/IF/FOR bodies included, as 'Name arg arg'."""
    from robot.parsing.model.statements import KeywordCall

    out = []
    for node in getattr(block, "body", []):
        if isinstance(node, KeywordCall):
            out.append(" ".join([node.keyword, *node.args]))
        out.extend(_calls(node))
        for part in ("next", "orelse", "finally"):
            if getattr(node, part, None) is not None:
                out.extend(_calls(getattr(node, part)))
    return out


def test_tryton_profile_never_logs_the_password_or_the_page_source():
    keywords = _profile_keywords()
    login = keywords["Log In To Accounting"]
    args = [a for s in login.body if type(s).__name__ == "Arguments" for a in s.values]
    assert not any("PASSWORD" in a for a in args), f"a password default is logged at TRACE: {args}"
    calls = _calls(login)
    typed = next(i for i, c in enumerate(calls) if c.startswith("Input Password"))
    assert calls[typed - 1] == "Set Log Level NONE" and calls[typed + 1].startswith("Set Log Level ${")
    for name, kw in keywords.items():
        for call in _calls(kw):
            assert not (call.startswith("Input Text") and "PASSWORD" in call.upper()), f"{name}: {call}"
    for name, kw in keywords.items():  # Robot resolves variables in a user keyword's documentation, into the log
        docs = " ".join(s.value for s in kw.body if type(s).__name__ == "Documentation")
        assert "PASSWORD}" not in docs.upper() and "${SOURCE}" not in docs.upper(), f"{name}: {docs}"
    evidence = _calls(keywords["Capture Accounting Evidence"])
    source = next(i for i, c in enumerate(evidence) if c.startswith("Get Source"))
    assert evidence[source - 1] == "Set Log Level NONE" and evidence[source + 1].startswith("Create File")
    assert evidence[source + 2].startswith("Set Log Level ${")


def test_a_review_vault_inside_the_output_folder_is_told(tmp_path):
    from InvoiceLibrary.review import vault_inside

    assert vault_inside(tmp_path / "output" / "state" / "review-vault", tmp_path / "output")
    assert not vault_inside(tmp_path / "var" / "state" / "review-vault", tmp_path / "output")
