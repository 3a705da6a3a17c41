"""Weak labels (the rules label unlabelled documents where the arithmetic confirms them) and reviewers'
corrections as training examples."""

from __future__ import annotations

from invoicebot import features as F
from invoicebot.candidates import build_context
from invoicebot.schema import Document, Page, Word
from invoicebot.train import UNKNOWN, correction_example, load_weak, weak_example
from invoicebot.vocabulary import load_vocabulary

VOCAB = load_vocabulary()


def _doc(rows: list[str]) -> Document:
    """A one-page document, one row of words per line, laid out left to right."""
    words = []
    for i, row in enumerate(rows):
        x = 60.0
        for text in row.split():
            w = 9.0 * len(text)
            words.append(Word(text, (x, 80.0 + 22 * i, x + w, 92.0 + 22 * i), 1, line=i))
            x += w + 8
    return Document("mem.pdf", "application/pdf", [Page(1, 595, 842, "text", words)])


ROWS = ["Example Trading GmbH", "Hauptstrasse 4, 10115 Berlin", "Invoice No: INV-2024-118", "Invoice date: 12.03.2024",
        "Item Qty Amount", "Consulting 2 100.00", "Subtotal: 100.00", "VAT 19%: 19.00", "Total: 119.00"]


def _labels(ex):
    pairs = zip(ex.feats.candidates, ex.labels, strict=True)
    return {(c.kind, c.value): F.CLASSES[lab] if lab != UNKNOWN else None for c, lab in pairs}


def test_confirmed_amounts_become_weak_labels_and_the_rest_is_unknown():
    ex = weak_example(build_context(_doc(ROWS), VOCAB), VOCAB, "d1", 0.3)
    assert ex is not None and ex.kind == "weak" and ex.weight == 0.3 and ex.doc_type == UNKNOWN
    labels = _labels(ex)
    assert labels[("amount", "119.00")] == "total_amount"
    assert labels[("amount", "19.00")] == "tax_amount"
    assert labels[("date", "2024-03-12")] is None  # not confirmed by any arithmetic: left out of the loss
    assert all(lab is None for (kind, _), lab in labels.items() if kind != "amount")


def test_amounts_that_do_not_add_up_teach_nothing():
    rows = [*ROWS[:-1], "Total: 120.00"]
    assert weak_example(build_context(_doc(rows), VOCAB), VOCAB, "d2", 0.3) is None


def test_a_reviewers_correction_labels_candidates_by_value():
    doc = _doc(ROWS)
    rec = {"sha256": "abc", "document": "mem.pdf", "document_type": "invoice",
           "fields": {"invoice_number": "INV-2024-118", "total_amount": "119.00", "invoice_date": "2024-03-12"},
           "pages": [{"number": 1, "width": 595, "height": 842, "source": "text"}],
           "words": [{"text": w.text, "bbox": list(w.bbox), "page": 1, "line": w.line} for w in doc.words]}
    ex = correction_example(rec, VOCAB)
    assert ex is not None and ex.kind == "correction" and ex.weight == 1.0
    labels = _labels(ex)
    assert labels[("id", "INV-2024-118")] == "invoice_number"
    assert labels[("date", "2024-03-12")] == "invoice_date"
    assert labels[("amount", "119.00")] == "total_amount"
    assert labels[("amount", "19.00")] == "none"  # same kind as a corrected field, another value
    assert all(lab is None for (kind, _), lab in labels.items() if kind == "name")  # no name was corrected


def test_weak_folders_read_real_files_and_skip_broken_ones(tmp_path):
    from invoicebot.bench import make_invoice_pdf

    make_invoice_pdf(tmp_path / "a.pdf", seed=3)
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (tmp_path / "notes.txt").write_text("ignored: not a document type the readers take")
    examples, info = load_weak([str(tmp_path), str(tmp_path / "missing")], VOCAB, 0.3, progress=False)
    assert info["documents"] == 1 and info["unreadable"] == 1
    assert info["confirmed"] == len(examples) == 1
    assert "total_amount" in examples[0].truth


def test_training_documents_of_validation_templates_are_validated_on():
    from invoicebot.train import Example, TrainConfig, split_examples

    def ex(i, split, template):
        return Example(str(i), split, 0, F.DocFeatures(), [], {}, template=template)

    examples = [ex(1, "train", "html_grid"), ex(2, "train", "rl_mono"), ex(3, "val", "rl_mono"), ex(4, "test", "html_grid")]
    train, val, test = split_examples(examples, TrainConfig(val_templates=["html_grid"]))
    assert [e.id for e in train] == ["2"] and [e.id for e in val] == ["1", "3"] and [e.id for e in test] == ["4"]
