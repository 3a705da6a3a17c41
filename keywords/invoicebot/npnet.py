"""The fine-tuned network's forward pass in numpy: prediction without importing torch.

Importing torch costs two to three seconds on the 2-core machine, more than the rest of a process's first
extraction together, so a process reads its model with this module first (``load_model``'s backend
``auto``): the same weights (``model.safetensors``), the same arithmetic as ``encoder.BertEncoder`` and
``network.CandidateRanker`` in float32 (parity checked by ``tests/unit/test_npnet.py``).  The two heads and
the encoder's per-token layers run only on the real tokens of a batch, as the torch encoder does.

:class:`NumpyRanker` has the two calls that ``model.InvoiceModel`` makes of either backend:
``embed(input_ids, attention_mask)`` (mean-pooled string embeddings) and
``score(emb, cand_strings, cand_feats, cand_kinds, doc_strings, doc_feats)`` (the candidates' and the
document type's logits), all numpy arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import features as F
from .encoder_config import EncoderConfig
from .errors import ModelNotFound


def _erf(x: np.ndarray) -> np.ndarray:
    """erf to about 1e-7 (Abramowitz and Stegun 7.1.26 gives 1.5e-7; float32 rounding is of the same order)."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


def gelu(x: np.ndarray) -> np.ndarray:
    """The exact (erf) GELU of BERT and of ``torch.nn.GELU()``."""
    return (0.5 * x * (1.0 + _erf(x * np.float32(0.7071067811865476)))).astype(np.float32, copy=False)


def layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    centred = x - mean
    var = (centred * centred).mean(-1, keepdims=True)
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def read_weights(path: str | Path) -> dict[str, np.ndarray]:
    """The tensors of a ``model.safetensors`` file as float32 (or integer) numpy arrays."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    path = Path(path)
    if not path.is_file():
        raise ModelNotFound(f"no weights at {path}; rebuild the model with `invoicebot train` (or `make model`)")
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise ModelNotFound(f"cannot read the weights {path}: {exc}; rebuild the model with `invoicebot train`") from exc
    return {k: v.astype(np.float32, copy=False) if v.dtype.kind == "f" else v for k, v in state.items()}


class NumpyRanker:
    """``network.CandidateRanker`` at prediction, in numpy float32."""

    backend = "numpy"
    precision = "float32"

    def __init__(self, state: dict[str, np.ndarray], config: EncoderConfig, num_layers: int):
        def get(name: str) -> np.ndarray:
            try:
                return state[name]
            except KeyError:
                raise ModelNotFound(f"the weights lack {name}; rebuild the model with `invoicebot train`") from None

        e = "encoder.embeddings."
        self.word = get(e + "word_embeddings.weight")
        self.position = get(e + "position_embeddings.weight")
        self.token_type = get(e + "token_type_embeddings.weight")[0]
        self.emb_norm = (get(e + "LayerNorm.weight"), get(e + "LayerNorm.bias"))
        self.eps = config.layer_norm_eps
        self.heads = config.num_attention_heads
        self.layers = []
        for i in range(num_layers):
            p = f"encoder.encoder.layer.{i}."
            a = p + "attention."
            qkv_w = np.concatenate([get(a + f"self.{n}.weight") for n in ("query", "key", "value")])
            qkv_b = np.concatenate([get(a + f"self.{n}.bias") for n in ("query", "key", "value")])
            self.layers.append((
                np.ascontiguousarray(qkv_w.T), qkv_b,
                np.ascontiguousarray(get(a + "output.dense.weight").T), get(a + "output.dense.bias"),
                get(a + "output.LayerNorm.weight"), get(a + "output.LayerNorm.bias"),
                np.ascontiguousarray(get(p + "intermediate.dense.weight").T), get(p + "intermediate.dense.bias"),
                np.ascontiguousarray(get(p + "output.dense.weight").T), get(p + "output.dense.bias"),
                get(p + "output.LayerNorm.weight"), get(p + "output.LayerNorm.bias"),
            ))
        self.cand_head = [(np.ascontiguousarray(get(f"cand_head.{i}.weight").T), get(f"cand_head.{i}.bias"))
                          for i in (0, 3, 5)]
        self.doc_head = [(np.ascontiguousarray(get(f"doc_head.{i}.weight").T), get(f"doc_head.{i}.bias"))
                         for i in (0, 3)]
        self.kind_masks = np.array([F.class_mask(k) for k in F.KINDS], dtype=bool)

    @classmethod
    def load(cls, weights: str | Path, config_dir: str | Path, num_layers: int) -> NumpyRanker:
        return cls(read_weights(weights), EncoderConfig.from_file(config_dir), num_layers)

    def embed(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """The mean of the last hidden state over each string's real tokens: (batch, hidden) float32."""
        batch, length = input_ids.shape
        d = self.word.shape[1]
        real = attention_mask.astype(bool)
        if batch == 0:
            return np.zeros((0, d), dtype=np.float32)
        x = self.word[input_ids] + self.position[:length] + self.token_type
        x = layer_norm(x, *self.emb_norm, self.eps)
        keep = real.reshape(-1)
        h = x.reshape(batch * length, d)[keep]
        heads, dh = self.heads, d // self.heads
        bias = np.where(real, np.float32(0.0), np.float32(-np.inf))[:, None, None, :]  # (batch, 1, 1, keys)
        scale = np.float32(dh ** -0.5)
        for qkv_w, qkv_b, ao_w, ao_b, an_w, an_b, in_w, in_b, out_w, out_b, on_w, on_b in self.layers:
            qkv = h @ qkv_w + qkv_b  # (N, 3D)
            grid = np.zeros((batch * length, 3 * d), dtype=np.float32)
            grid[keep] = qkv
            grid = grid.reshape(batch, length, 3, heads, dh).transpose(2, 0, 3, 1, 4)  # (3, B, H, L, dh)
            q, k, v = grid[0], grid[1], grid[2]
            scores = softmax((q @ k.transpose(0, 1, 3, 2)) * scale + bias)
            ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(batch * length, d)[keep]
            h = layer_norm(ctx @ ao_w + ao_b + h, an_w, an_b, self.eps)
            h = layer_norm(gelu(h @ in_w + in_b) @ out_w + out_b + h, on_w, on_b, self.eps)
        out = np.zeros((batch * length, d), dtype=np.float32)
        out[keep] = h
        out = out.reshape(batch, length, d)
        m = real[..., None].astype(np.float32)
        return (out * m).sum(1) / np.maximum(m.sum(1), np.float32(1.0))

    def score(self, emb: np.ndarray, cand_strings: np.ndarray, cand_feats: np.ndarray, cand_kinds: np.ndarray,
              doc_strings: list[np.ndarray], doc_feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The candidates' logits (masked by kind) and the documents' type logits."""
        x = np.concatenate([emb[cand_strings[:, 0]], emb[cand_strings[:, 1]], emb[cand_strings[:, 2]],
                            cand_feats.astype(np.float32)], axis=1)
        (w0, b0), (w1, b1), (w2, b2) = self.cand_head
        logits = gelu(gelu(x @ w0 + b0) @ w1 + b1) @ w2 + b2
        logits = np.where(self.kind_masks[cand_kinds], logits, np.float32(-1e4))
        docs = np.stack([emb[idx].mean(0) for idx in doc_strings])
        (d0, c0), (d1, c1) = self.doc_head
        doc_logits = gelu(np.concatenate([docs, doc_feats.astype(np.float32)], axis=1) @ d0 + c0) @ d1 + c1
        return logits.astype(np.float32, copy=False), doc_logits.astype(np.float32, copy=False)


__all__ = ["NumpyRanker", "gelu", "layer_norm", "read_weights", "softmax"]
