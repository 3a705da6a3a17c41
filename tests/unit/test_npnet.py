"""The numpy forward pass (``npnet``) against the torch network it stands in for, and the backend choice.

A process extracts its first document with numpy (importing torch costs seconds) and loads torch for the
next ones; both must give the same numbers for the same weights.  The weights here are the pretrained
all-MiniLM-L6-v2 layers with randomly initialised heads, saved as ``train.py`` saves a model.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from invoicebot.errors import ConfigError, ModelNotFound
from invoicebot.model import arrays_for, load_model
from invoicebot.npnet import NumpyRanker, gelu, layer_norm, softmax

STRINGS = ["Invoice number", "", "Total due € 1.234,56", "Rechnungsdatum: 12.03.2024 Fällig am 01.04.2024 Zwischensumme",
           "IBAN DE89 3704 0044 0532 0130 00", "Numéro de facture", "VAT GB123456789 · Tel. +44 20 7946 0958", "x"]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory, model_artifact):
    return model_artifact(tmp_path_factory.mktemp("npnet") / "model", layers=2, seed=1)


def test_gelu_layer_norm_and_softmax_match_torch():
    x = np.linspace(-9, 9, 20001, dtype=np.float32)
    np.testing.assert_allclose(gelu(x), torch.nn.functional.gelu(torch.from_numpy(x)).numpy(), rtol=1e-6, atol=1e-6)
    rng = np.random.default_rng(0)
    h = rng.normal(size=(5, 384)).astype(np.float32) * 3
    w, b = rng.normal(size=384).astype(np.float32), rng.normal(size=384).astype(np.float32)
    ref = torch.nn.functional.layer_norm(torch.from_numpy(h), (384,), torch.from_numpy(w), torch.from_numpy(b), 1e-12)
    assert np.abs(layer_norm(h, w, b, 1e-12) - ref.numpy()).max() < 1e-4
    assert np.abs(softmax(h, axis=1) - torch.softmax(torch.from_numpy(h), 1).numpy()).max() < 1e-6


def test_numpy_and_torch_backends_give_the_same_numbers(artifact):
    np_model = load_model(artifact, required=True, backend="numpy")
    pt_model = load_model(artifact, required=True, backend="torch", precision="float32")
    assert isinstance(np_model.ranker, NumpyRanker) and np_model.backend == "numpy" and pt_model.backend == "torch"
    a, b = np_model._embed(STRINGS), pt_model._embed(STRINGS)
    assert a.shape == b.shape == (len(STRINGS), 384)
    assert np.abs(a - b).max() < 1e-4
    # one string at a time or in a batch of uneven lengths: the same embedding (the padding takes no part)
    alone = np_model.ranker.embed(*np_model.tokenizer.encode([STRINGS[3]], 16))
    assert np.abs(alone[0] - a[3]).max() < 1e-5
    # the heads on a real document's candidates
    from invoicebot.bench import make_invoice_pdf
    from invoicebot.candidates import build_context
    from invoicebot.features import featurize
    from invoicebot.readers import read_document
    from invoicebot.vocabulary import load_vocabulary

    vocab = load_vocabulary()
    doc = read_document(make_invoice_pdf(artifact.parent / "invoice.pdf", seed=5))
    feats = featurize(build_context(doc, vocab), vocab)
    assert len(feats.candidates) > 10
    out_np = np_model.ranker.score(np_model._embed(feats.strings), *arrays_for(feats))
    out_pt = pt_model.ranker.score(pt_model._embed(feats.strings), *arrays_for(feats))
    for x, y in zip(out_np, out_pt, strict=True):
        assert x.shape == y.shape and np.abs(x - y).max() < 1e-3
    ctx = build_context(doc, vocab)
    assert np_model.classify(doc, ctx, vocab)[0] == pt_model.classify(doc, ctx, vocab)[0]
    assert ({k: f.value for k, f in np_model.extract(doc, ctx, vocab).items()}
            == {k: f.value for k, f in pt_model.extract(doc, ctx, vocab).items()})


def test_auto_backend_extracts_the_first_document_without_torch(artifact, documents):
    """A fresh process: its first document runs on numpy with torch never imported, the second on torch."""
    pdfs = [documents.text_pdf(seed=4), documents.text_pdf(seed=6)]
    code = (
        "import sys\nfrom invoicebot.pipeline import Engine\n"
        f"e = Engine('model', model_dir={str(artifact)!r})\n"
        f"r = e.process({str(pdfs[0])!r})\n"
        "assert r.error is None, r.error\n"
        "print('first', e.model.backend, 'torch' in sys.modules)\n"
        f"r = e.process({str(pdfs[1])!r})\n"
        "assert r.error is None, r.error\n"
        "print('second', e.model.backend, 'torch' in sys.modules)\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.split("\n")[:2] == ["first numpy False", "second torch True"], run.stdout


def test_backend_settings_and_legacy_weights(tmp_path, monkeypatch, model_artifact):
    folder = model_artifact(tmp_path / "model")
    monkeypatch.setenv("INVOICEBOT_MODEL_BACKEND", "cuda")
    with pytest.raises(ConfigError, match="INVOICEBOT_MODEL_BACKEND='cuda' is not a backend; set it to auto"):
        load_model(folder, required=True)
    monkeypatch.setenv("INVOICEBOT_MODEL_BACKEND", "numpy")
    assert load_model(folder, required=True).backend == "numpy"
    monkeypatch.delenv("INVOICEBOT_MODEL_BACKEND")
    # torch is loaded in this process: auto goes straight to it
    assert load_model(folder, required=True).backend == "torch"
    # a model built before model.safetensors: torch reads its model.pt, numpy says what to run
    from safetensors.torch import load_file

    torch.save(load_file(str(folder / "model.safetensors")), folder / "model.pt")
    (folder / "model.safetensors").unlink()
    assert load_model(folder, required=True).backend == "torch"
    with pytest.raises(ModelNotFound, match=r"only model.pt, which the numpy backend cannot read; run `invoicebot "
                                            r"train --recalibrate`"):
        load_model(folder, required=True, backend="numpy")
    (folder / "model.pt").write_bytes(b"")
    (folder / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelNotFound, match="cannot read the weights .*model.safetensors.*invoicebot train"):
        load_model(folder, required=True, backend="numpy")


def test_a_broken_torch_leaves_the_model_on_numpy(artifact, documents, monkeypatch, caplog):
    """Backend auto: when torch cannot be loaded for the second document, the model says so and goes on with numpy."""
    import logging

    from invoicebot.candidates import build_context
    from invoicebot.readers import read_document
    from invoicebot.vocabulary import load_vocabulary

    model = load_model(artifact, required=True, backend="numpy")

    def broken():
        raise ImportError("libtorch_cpu.so: cannot open shared object file")

    model._upgrade = broken  # what backend auto sets, failing as a damaged torch install would
    vocab = load_vocabulary()
    docs = [read_document(documents.text_pdf(seed=s)) for s in (4, 6)]
    with caplog.at_level(logging.WARNING, logger="invoicebot.model"):
        picks = [model.extract(d, build_context(d, vocab), vocab) for d in docs]
    assert model.backend == "numpy" and model._upgrade is None and all(isinstance(p, dict) for p in picks)
    assert "cannot load torch for the model" in caplog.text and "INVOICEBOT_MODEL_BACKEND=numpy" in caplog.text
