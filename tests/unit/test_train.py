"""Training through the real entry point (`invoicebot train`) on a tiny generated corpus.

It builds 36 documents, fine-tunes a one-layer cut of the pretrained encoder for a minute, and
checks the artifact: it loads offline, extracts from a document it never saw, and its held-out
scores clear a floor.  (The full model is built by `make model` and measured by its model card.)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from invoicebot.config import MODELS_DIR
from invoicebot.pipeline import Engine
from invoicebot.train import main as train_main

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("train")
    cfg = json.loads((MODELS_DIR / "configs" / "corpus.json").read_text())
    cfg.update(n=36, seed=5, engines={"reportlab": 1}, workers=1, keep_rendered=False)
    corpus_cfg = root / "corpus.json"
    corpus_cfg.write_text(json.dumps(cfg))
    out = root / "model"
    unlabelled = root / "unlabelled"
    unlabelled.mkdir()
    from invoicebot.bench import make_invoice_pdf

    make_invoice_pdf(unlabelled / "inbox-1.pdf", seed=11)
    code = train_main([
        "--out", str(out), "-q",
        "--set", f"corpus_dir={root / 'corpus'}", "--set", f"corpus_config={corpus_cfg}",
        "--set", "time_budget_s=90", "--set", "epochs=12", "--set", "model.num_layers=1",
        "--set", "negatives_per_doc=16", "--set", "weak_share=0.25",
        "--set", f"weak_dirs={json.dumps([str(unlabelled)])}", "--set", f"corrections_dir={root / 'none'}",
    ])
    assert code == 0
    return out


def test_artifact_carries_what_it_needs(tiny_model):
    card = json.loads((tiny_model / "model_card.json").read_text())
    assert (tiny_model / "model.safetensors").exists() and (tiny_model / "tokenizer" / "tokenizer.json").exists()
    assert not (tiny_model / "model.pt").exists()
    assert card["base_model"].startswith("sentence-transformers/all-MiniLM-L6-v2")
    assert len(card["corpus"]["fingerprint"]) == 16 and card["corpus"]["train"] > 0
    assert set(card["thresholds"]) and set(card["strategies"])
    assert "reliability" in card["metrics"]["val"] and "ece" in card["metrics"]["val"]
    assert "## val split" in (tiny_model / "model_card.md").read_text()
    data = card["training_data"]  # weak labels: a withheld share of the corpus and a folder of unlabelled PDFs
    assert data["weak_folders"] == {"documents": 1, "confirmed": 1, "unreadable": 0}
    assert data["withheld"]["withheld"] > 0 and data["weak"] >= 1 and data["gold"] == data["withheld"]["kept_gold"]


def test_held_out_scores_clear_a_floor(tiny_model):
    card = json.loads((tiny_model / "model_card.json").read_text())
    splits = [m for m in (card["metrics"]["val"], card["metrics"]["test"]) if m]
    docs = sum(m["documents"] for m in splits)
    f1 = sum(m["micro_f1"] * m["documents"] for m in splits) / docs
    doc_type = sum(m["document_type_accuracy"] * m["documents"] for m in splits) / docs
    assert f1 >= 0.5, splits
    assert doc_type >= 0.5, splits


def test_trained_model_extracts_from_an_unseen_document(tiny_model, tmp_path):
    from invoicebot.bench import make_invoice_pdf

    pdf = make_invoice_pdf(tmp_path / "unseen.pdf", seed=41)
    result = Engine("model", model_dir=tiny_model).process(pdf)
    assert result.error is None and result.extractor == "model"
    assert result.document_type is not None
    assert result.value("total_amount")


def test_featurising_in_worker_processes_gives_what_one_process_gives(tiny_model):
    from invoicebot.train import load_corpus
    from invoicebot.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    corpus = tiny_model.parent / "corpus"
    alone = load_corpus(corpus, vocab, progress=False, workers=1)
    shared = load_corpus(corpus, vocab, progress=False, workers=2)
    assert len(alone) == len(shared) >= 30
    for a, b in zip(alone, shared, strict=True):
        assert (a.id, a.labels, a.doc_type, a.truth) == (b.id, b.labels, b.doc_type, b.truth)
        assert a.feats.strings == b.feats.strings and a.feats.cand_feats == b.feats.cand_feats
        # the context came back whole: its candidates are the very objects the features point at
        in_ctx = {id(c) for c in b.ctx.candidates}
        assert all(id(c) in in_ctx for c in b.feats.candidates)


def test_where_the_rules_fill_in_the_threshold_is_chosen_for_that_combination():
    """The network alone is best answering even at 0.3 (a wrong answer there costs less than two misses), but
    where the rules fill in, its unsure answers should go to the rules, which have them right."""
    from types import SimpleNamespace

    from invoicebot.schema import ExtractedField
    from invoicebot.train import _choose_field_strategy

    def doc(truth, net, conf, rules):
        feats = SimpleNamespace(rule_fields={"invoice_number": ExtractedField(rules, 0.75)} if rules else {})
        ex = SimpleNamespace(feats=feats, truth={"invoice_number": truth})
        return ex, {"invoice_number": ExtractedField(net, conf)}

    docs = [doc("A-1", "A-1", 0.3, "A-1"), doc("B-2", "X-9", 0.3, "B-2"), doc("C-3", "C-3", 0.9, "Z-0")]
    assert _choose_field_strategy("invoice_number", docs, 0.2) == ("fallback", 0.4)
    # where the rules are far better, they answer alone (and the network's threshold is left as it was)
    docs = [doc(f"A-{i}", "X-9", 0.9, f"A-{i}") for i in range(5)]
    assert _choose_field_strategy("invoice_number", docs, 0.5) == ("rules", 0.5)


def test_a_threshold_is_the_lowest_of_the_near_best():
    from invoicebot.train import THRESHOLD_TOLERANCE, lowest_near_best

    flat = [(0.2, 0.728), (0.3, 0.721), (0.5, 0.725), (0.8, 0.733)]  # a field or two apart: noise
    assert lowest_near_best(flat, (0.5, 0.0)) == (0.2, 0.733)
    rising = [(0.2, 0.807), (0.5, 0.884), (0.6, 0.897), (0.8, 0.903)]
    assert lowest_near_best(rising, (0.5, 0.0)) == (0.6, 0.903)
    assert lowest_near_best([(0.3, 0.9), (0.4, 0.9 - 2 * THRESHOLD_TOLERANCE)], (0.5, 0.0))[0] == 0.3
    assert lowest_near_best([], (0.5, 0.0)) == (0.5, 0.0)


def test_the_type_head_alone_is_chosen_when_it_types_validation_best():
    from invoicebot.train import _choose_type_strategy

    assert _choose_type_strategy({"model": 0.895, "rules": 0.851, "fallback": 0.873, "surer": 0.877}) == "model"
    assert _choose_type_strategy({"model": 0.88, "rules": 0.85, "fallback": 0.88, "surer": 0.88}) == "surer"
    assert _choose_type_strategy({"model": 0.80, "rules": 0.85, "fallback": 0.81, "surer": 0.80}) == "rules"
    assert _choose_type_strategy({"model": 0.80, "rules": 0.82, "fallback": 0.81, "surer": 0.80}) == "fallback"


def test_a_slow_corpus_leaves_the_training_what_is_left_of_the_build_budget():
    from invoicebot.train import TrainConfig, fit_budget

    cfg = TrainConfig(time_budget_s=330, build_budget_s=860, reserve_s=45, min_fit_s=60)
    assert fit_budget(cfg, 400) == 330  # a quick corpus: the training's own budget
    assert fit_budget(cfg, 556) == 259  # a slow hour: 860 - 556 - 45
    assert fit_budget(cfg, 900) == 60  # never less than min_fit_s
    assert fit_budget(TrainConfig(time_budget_s=330), 5000) == 330  # no build budget: only the training's


def test_recalibration_writes_the_weights_of_a_model_built_before_safetensors(tiny_model, tmp_path):
    """A model saved as model.pt (before both backends read model.safetensors) keeps its weights, now as
    model.safetensors, and loads on numpy afterwards."""
    import shutil

    import torch
    from invoicebot.model import load_model
    from invoicebot.train import recalibrate
    from safetensors.torch import load_file

    old = tmp_path / "old"
    shutil.copytree(tiny_model, old)
    state = load_file(str(old / "model.safetensors"))
    torch.save(state, old / "model.pt")
    (old / "model.safetensors").unlink()
    card = json.loads((old / "model_card.json").read_text())
    config = tmp_path / "train.json"
    config.write_text(json.dumps(card["config"]))
    new = recalibrate(config, old, progress=False)
    assert not (old / "model.pt").exists() and new["metrics"]["val"]["documents"] > 0
    again = load_file(str(old / "model.safetensors"))
    assert set(again) == set(state) and all(torch.equal(again[k], v) for k, v in state.items())
    assert load_model(old, required=True, backend="numpy").backend == "numpy"
