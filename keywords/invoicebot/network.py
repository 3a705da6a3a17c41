"""The fine-tuned network in torch: the module that training fits, and its prediction backend.

* :class:`CandidateRanker`: the encoder (``encoder.BertEncoder``, the first layers of all-MiniLM-L6-v2) reads
  the short context strings of each candidate; the three embeddings plus layout, shape and vocabulary
  features go through a small head that scores the candidate's role (a canonical field or none); a second
  head reads the first lines of the document and tells its type.
* :class:`TorchRanker`: the same calls as ``npnet.NumpyRanker`` (``embed``, ``score``; numpy in and out) over a
  ``CandidateRanker`` at a precision and on a number of torch threads: what ``model.InvoiceModel`` runs once
  torch is loaded.
* :func:`load_torch_ranker`: a ranker from an artifact's weights (``model.safetensors``, or a ``model.pt``
  written before it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from . import features as F
from .encoder import BertEncoder, load_encoder_artifact
from .encoder import build_encoder as _build_encoder
from .errors import ModelNotFound
from .schema import DOCUMENT_TYPES


class CandidateRanker(nn.Module):
    def __init__(self, encoder: nn.Module, cfg):
        super().__init__()
        self.encoder = encoder
        d = encoder.config.hidden_size
        self.cand_head = nn.Sequential(
            nn.Linear(3 * d + F.N_CAND_FEATS, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(), nn.Linear(cfg.hidden, len(F.CLASSES)),
        )
        self.doc_head = nn.Sequential(
            nn.Linear(d + F.N_DOC_FEATS, cfg.hidden), nn.GELU(), nn.Dropout(cfg.dropout),
            nn.Linear(cfg.hidden, len(DOCUMENT_TYPES)),
        )
        masks = torch.tensor([F.class_mask(k) for k in F.KINDS], dtype=torch.bool)
        self.register_buffer("kind_masks", masks, persistent=False)

    def encode(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        m = attention_mask.unsqueeze(-1).to(out.dtype)
        return (out * m).sum(1) / m.sum(1).clamp(min=1.0)

    def forward(self, emb: torch.Tensor, cand_strings: torch.Tensor, cand_feats: torch.Tensor, cand_kinds: torch.Tensor,
                doc_strings: list[torch.Tensor], doc_feats: torch.Tensor, doc_of_cand: torch.Tensor | None = None):
        x = torch.cat([emb[cand_strings[:, 0]], emb[cand_strings[:, 1]], emb[cand_strings[:, 2]], cand_feats], dim=1)
        logits = self.cand_head(x)
        logits = logits.masked_fill(~self.kind_masks[cand_kinds], -1e4)
        docs = torch.stack([emb[idx].mean(0) for idx in doc_strings])
        doc_logits = self.doc_head(torch.cat([docs, doc_feats], dim=1))
        return logits, doc_logits


def build_encoder(cfg, path: Path | None = None) -> BertEncoder:
    """The encoder of ``path`` (default: the base model), cut to ``cfg.num_layers``; pretrained weights when
    ``cfg.pretrained``, else a random start."""
    from .model import base_model_path

    return _build_encoder(cfg, path or base_model_path())


def tokenize(tokenizer, strings: list[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` of the strings as tensors, each cut to ``max_tokens`` tokens."""
    return tokenizer.tokenize(strings, max_tokens)


@contextmanager
def _torch_threads(n: int | None) -> Iterator[None]:
    """Run torch on ``n`` threads for a while (the process's setting comes back afterwards)."""
    before = torch.get_num_threads()
    if not n or n == before:
        yield
        return
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class TorchRanker:
    """A :class:`CandidateRanker` behind ``npnet.NumpyRanker``'s calls (numpy arrays in and out)."""

    backend = "torch"

    def __init__(self, net: CandidateRanker, threads: int | None = None):
        self.net = net.eval()
        #: torch threads while the network runs on the CPU (None: torch's own setting)
        self.threads = threads

    @property
    def precision(self) -> str:
        return getattr(self.net.encoder, "precision", "float32")

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _threads(self):
        return _torch_threads(self.threads if self.device.type == "cpu" else None)

    def embed(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        dev = self.device
        with torch.inference_mode(), self._threads():
            out = self.net.encode(torch.from_numpy(input_ids).to(dev), torch.from_numpy(attention_mask).to(dev))
        return out.float().cpu().numpy()

    def score(self, emb: np.ndarray, cand_strings: np.ndarray, cand_feats: np.ndarray, cand_kinds: np.ndarray,
              doc_strings: list[np.ndarray], doc_feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        dev = self.device

        def t(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(a).to(dev)

        with torch.inference_mode(), self._threads():
            logits, doc_logits = self.net(t(emb), t(cand_strings), t(cand_feats), t(cand_kinds),
                                          [t(d) for d in doc_strings], t(doc_feats))
        return logits.float().cpu().numpy(), doc_logits.float().cpu().numpy()


def load_torch_ranker(weights: Path | dict, tok_dir: Path, cfg, precision: str, threads: int | None) -> TorchRanker:
    """The artifact's network in torch: ``weights`` is a ``model.safetensors`` or legacy ``model.pt`` file, or the
    tensors already read (numpy arrays, shared rather than copied)."""
    net = CandidateRanker(load_encoder_artifact(tok_dir, cfg.num_layers), cfg)
    if isinstance(weights, dict):
        state = {k: torch.from_numpy(v) for k, v in weights.items()}
        source = "the weights read"
    elif weights.suffix == ".pt":
        state = torch.load(weights, map_location="cpu", weights_only=True, mmap=True)
        source = f"the weights in {weights}"
    else:
        from safetensors.torch import load_file

        state = load_file(str(weights))
        source = f"the weights in {weights}"
    try:
        net.load_state_dict(state, assign=True)  # the tensors read, not a copy
    except RuntimeError as exc:
        raise ModelNotFound(f"{source} do not fit the model its card describes ({str(exc).splitlines()[0]}); "
                            "rebuild it with `invoicebot train` (or `make model`)") from exc
    net.eval()
    net.encoder.for_inference(precision)  # ``model.load_model`` has checked the precision's name
    return TorchRanker(net, threads)


def save_weights(net: CandidateRanker, path: Path) -> Path:
    """Write the network's weights as ``model.safetensors`` (what both backends read), atomically."""
    from safetensors.torch import save_file

    tmp = path.with_name(path.name + ".tmp")
    save_file({k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}, str(tmp))
    tmp.chmod(0o644)
    tmp.replace(path)
    return path


__all__ = ["CandidateRanker", "TorchRanker", "build_encoder", "load_torch_ranker", "save_weights", "tokenize"]
