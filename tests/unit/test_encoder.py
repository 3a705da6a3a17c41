"""The plain-torch encoder and the ``tokenizers`` tokenizer against ``transformers`` on the real base model.

``invoicebot.encoder`` replaces ``transformers``' ``BertModel`` and ``AutoTokenizer`` in training and
prediction (importing ``transformers`` costs seconds at every start).  These tests hold it to the
same numbers on the pretrained all-MiniLM-L6-v2 weights, the same token ids, the same state-dict
keys (so weights files load unchanged both ways), and check that loading a saved artifact and
extracting with it never imports ``transformers``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from invoicebot.encoder import BertEncoder, EncoderConfig, WordPieceTokenizer
from invoicebot.errors import ModelNotFound
from invoicebot.model import ModelConfig, base_model_path, load_model, load_tokenizer
from invoicebot.network import build_encoder, tokenize

STRINGS = [
    "Invoice number",
    "",
    "Total due € 1.234,56",
    "Rechnungsdatum: 12.03.2024 Fällig am 01.04.2024 Zwischensumme 123,45 MwSt 19 % Gesamtbetrag",
    "IBAN DE89 3704 0044 0532 0130 00",
    "Numéro de facture  FAC-2024/0042",
    "VAT GB123456789 · Tel. +44 20 7946 0958",
]


@pytest.fixture(scope="module")
def hf_tokenizer():
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(base_model_path(), local_files_only=True)


@pytest.fixture(scope="module")
def hf_model():
    transformers = pytest.importorskip("transformers")
    model = transformers.AutoModel.from_pretrained(base_model_path(), local_files_only=True).float().eval()
    return model


def _hf_cut(model, layers: int):
    import copy

    cut = copy.deepcopy(model)
    cut.encoder.layer = cut.encoder.layer[:layers]
    cut.config.num_hidden_layers = layers
    return cut.eval()


@pytest.mark.parametrize("max_tokens", [16, 24, 6])
def test_token_ids_match_autotokenizer(hf_tokenizer, max_tokens):
    ours = load_tokenizer()
    ids, mask = tokenize(ours, STRINGS, max_tokens)
    ref = hf_tokenizer(STRINGS, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    assert ids.dtype == mask.dtype == torch.long
    assert ids.tolist() == ref["input_ids"].tolist()
    assert mask.tolist() == ref["attention_mask"].tolist()


def test_tokenizer_handles_an_empty_batch_and_keeps_cls_sep():
    tok = load_tokenizer()
    ids, mask = tok.tokenize([], 16)
    assert ids.shape == mask.shape == (0, 0)
    ids, mask = tok.tokenize(["a b c d e f g h i j k l m n o p q r s t"], 8)
    assert ids.shape == (1, 8) and ids[0, 0].item() == 101 and ids[0, -1].item() == 102


@pytest.mark.parametrize("layers", [3, 6])
def test_encoder_matches_bert_model_on_the_pretrained_weights(hf_model, layers):
    tok = load_tokenizer()
    ids, mask = tok.tokenize(STRINGS, 16)
    ours = build_encoder(ModelConfig(num_layers=layers, max_tokens=16)).eval()
    ref = _hf_cut(hf_model, layers)
    with torch.no_grad():
        a = ours(input_ids=ids, attention_mask=mask).last_hidden_state
        b = ref(input_ids=ids, attention_mask=mask).last_hidden_state
        pooled = ours.mean_pool(ids, mask)
    real = mask.bool()
    assert (a[real] - b[real]).abs().max().item() < 1e-4
    m = mask.unsqueeze(-1).float()
    ref_pooled = (b * m).sum(1) / m.sum(1)
    assert (pooled - ref_pooled).abs().max().item() < 1e-4


def test_state_dict_keys_are_bert_models(hf_model):
    ours = build_encoder(ModelConfig(num_layers=3))
    ref = _hf_cut(hf_model, 3)
    ref_state = ref.state_dict()
    assert set(ours.state_dict()) == set(ref_state)
    # weights saved by transformers load into ours unchanged (a model.pt built before this module)
    fresh = build_encoder(ModelConfig(num_layers=3, pretrained=False))
    fresh.load_state_dict(ref_state)
    assert torch.equal(fresh.embeddings.word_embeddings.weight, ref.embeddings.word_embeddings.weight)


def test_random_start_is_bert_initialisation():
    torch.manual_seed(0)
    enc = build_encoder(ModelConfig(num_layers=2, pretrained=False))
    assert len(enc.encoder.layer) == 2 and enc.config.num_hidden_layers == 2
    ln = enc.encoder.layer[0].output.LayerNorm
    assert torch.equal(ln.weight, torch.ones_like(ln.weight)) and torch.equal(ln.bias, torch.zeros_like(ln.bias))
    w = enc.encoder.layer[1].intermediate.dense.weight
    assert 0.015 < w.std().item() < 0.025
    assert enc.embeddings.word_embeddings.weight[0].abs().sum().item() == 0.0
    pretrained = build_encoder(ModelConfig(num_layers=2))
    assert not torch.equal(pretrained.encoder.layer[1].intermediate.dense.weight, w)


def test_training_mode_backpropagates_and_drops_out():
    torch.manual_seed(0)
    enc = build_encoder(ModelConfig(num_layers=1)).train()
    ids, mask = load_tokenizer().tokenize(STRINGS[:3], 16)
    out = enc.mean_pool(ids, mask)
    out.pow(2).sum().backward()
    grad = enc.encoder.layer[0].attention.self.query.weight.grad
    assert grad is not None and grad.abs().sum().item() > 0
    with torch.no_grad():
        assert not torch.equal(enc.mean_pool(ids, mask), enc.mean_pool(ids, mask))  # dropout is on
        enc.eval()
        assert torch.equal(enc.mean_pool(ids, mask), enc.mean_pool(ids, mask))


def test_a_padded_string_encodes_as_it_does_alone():
    enc = build_encoder(ModelConfig(num_layers=3)).eval()
    tok = load_tokenizer()
    with torch.no_grad():
        alone = enc.mean_pool(*tok.tokenize(["Invoice number"], 16))
        batched = enc.mean_pool(*tok.tokenize(["Invoice number", STRINGS[3]], 16))
    assert (alone[0] - batched[0]).abs().max().item() < 1e-5


def test_save_pretrained_round_trip(tmp_path):
    enc = build_encoder(ModelConfig(num_layers=2))
    tok = load_tokenizer()
    enc.config.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["num_hidden_layers"] == 2 and saved["model_type"] == "bert" and saved["hidden_size"] == 384
    assert EncoderConfig.from_file(tmp_path) == enc.config
    again = WordPieceTokenizer.from_folder(tmp_path)
    assert again.tokenize(STRINGS, 16)[0].tolist() == tok.tokenize(STRINGS, 16)[0].tolist()
    assert (tmp_path / "tokenizer_config.json").exists()


def test_saved_folder_is_readable_by_transformers(tmp_path, hf_tokenizer):
    transformers = pytest.importorskip("transformers")
    load_tokenizer().save_pretrained(tmp_path)
    build_encoder(ModelConfig(num_layers=2)).config.save_pretrained(tmp_path)
    cfg = transformers.AutoConfig.from_pretrained(tmp_path, local_files_only=True)
    assert cfg.num_hidden_layers == 2
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path, local_files_only=True)
    assert tok(STRINGS)["input_ids"] == hf_tokenizer(STRINGS)["input_ids"]


def test_missing_files_say_what_to_do(tmp_path):
    with pytest.raises(ModelNotFound, match="no tokenizer at .*invoicebot train"):
        WordPieceTokenizer.from_folder(tmp_path)
    with pytest.raises(ModelNotFound, match="no encoder config at"):
        EncoderConfig.from_file(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 384, "num_hidden_layers": 2}))
    with pytest.raises(ModelNotFound, match="no pretrained weights at"):
        build_encoder(ModelConfig(num_layers=2), tmp_path)


def test_loaded_artifact_gives_the_saved_networks_numbers(tmp_path, model_artifact):
    folder = model_artifact(tmp_path / "model")
    model = load_model(folder, required=True, precision="float32", backend="torch")
    net = model.ranker.net
    assert isinstance(net.encoder, BertEncoder) and not net.training
    from safetensors.torch import load_file

    state = load_file(str(folder / "model.safetensors"))
    for k, v in net.state_dict().items():
        assert torch.equal(v, state[k]), k
    emb = model._embed(["Invoice number", "Total due", "Invoice number"])
    assert emb.shape == (3, 384) and np.array_equal(emb[0], emb[2])


@pytest.mark.parametrize(("precision", "floor"), [("bfloat16", 0.999), ("int8", 0.9)])
def test_lower_precisions_stay_close(precision, floor):
    ids, mask = load_tokenizer().tokenize(STRINGS, 16)
    with torch.no_grad():
        full = build_encoder(ModelConfig(num_layers=3)).eval().mean_pool(ids, mask)
        low = build_encoder(ModelConfig(num_layers=3)).for_inference(precision)
        out = low.mean_pool(ids, mask)
    assert low.precision == precision and out.dtype == torch.float32
    cos = torch.nn.functional.cosine_similarity(full, out, dim=1)
    assert cos.min().item() > floor
    with pytest.raises(ValueError, match="precision must be one of"):
        low.for_inference("float16")


def test_loading_and_extracting_never_imports_transformers(tmp_path, documents, model_artifact):
    folder = model_artifact(tmp_path / "model")
    pdf = documents.text_pdf(seed=2)
    code = (
        "import sys\nfrom invoicebot.pipeline import Engine\n"
        f"r = Engine('model', model_dir={str(folder)!r}).process({str(pdf)!r})\n"
        "assert r.error is None, r.error\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('transformers', 'sentence_transformers'))\n"
        "print('imported:', bad)\nsys.exit(1 if bad else 0)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr


def test_precision_and_threads_come_from_the_environment(tmp_path, monkeypatch, model_artifact):
    from invoicebot.errors import ConfigError

    folder = model_artifact(tmp_path / "model")
    monkeypatch.setenv("INVOICEBOT_MODEL_PRECISION", "float16")
    with pytest.raises(ConfigError, match="INVOICEBOT_MODEL_PRECISION to auto, float32, bfloat16 or int8"):
        load_model(folder, required=True)
    monkeypatch.setenv("INVOICEBOT_MODEL_PRECISION", "int8")
    monkeypatch.setenv("INVOICEBOT_MODEL_THREADS", "two")
    with pytest.raises(ConfigError, match="INVOICEBOT_MODEL_THREADS='two' is not a number"):
        load_model(folder, required=True)
    monkeypatch.setenv("INVOICEBOT_MODEL_THREADS", "1")
    model = load_model(folder, required=True)
    assert model.ranker.net.encoder.precision == "int8" and model.threads == 1
    before = torch.get_num_threads()
    seen = []
    net = model.ranker.net
    real_encode = net.encode
    monkeypatch.setattr(net, "encode", lambda *a: (seen.append(torch.get_num_threads()), real_encode(*a))[1])
    from invoicebot.bench import make_invoice_pdf
    from invoicebot.candidates import build_context
    from invoicebot.readers import read_document
    from invoicebot.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    doc = read_document(make_invoice_pdf(tmp_path / "invoice.pdf", seed=3))
    model.classify(doc, build_context(doc, vocab), vocab)
    assert seen and set(seen) == {1} and torch.get_num_threads() == before


def test_bfloat16_stays_close_when_openmp_gives_fewer_threads_than_torch_wants():
    """The CLI and the robots set OMP_THREAD_LIMIT=1 for Tesseract; with two torch threads the bfloat16 kernels
    then returned garbage (cosine 0.42, NaN) until the encoder kept torch within the limit."""
    import os

    code = (
        "import torch\n"
        "from invoicebot.model import ModelConfig, load_tokenizer\n"
        "from invoicebot.network import build_encoder\n"
        f"ids, mask = load_tokenizer().tokenize({STRINGS!r}, 16)\n"
        "torch.set_num_threads(2)\n"
        "with torch.no_grad():\n"
        "    full = build_encoder(ModelConfig(num_layers=3)).eval().mean_pool(ids, mask)\n"
        "    low = build_encoder(ModelConfig(num_layers=3)).for_inference('bfloat16').mean_pool(ids, mask)\n"
        "print(torch.nn.functional.cosine_similarity(full, low, dim=1).min().item())\n"
    )
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert float(out.stdout.strip().splitlines()[-1]) > 0.999, out.stdout
